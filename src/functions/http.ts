import './telemetry';
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { handle, httpMethods, ROUTES } from '../lib/api/routes';
import { invocationStarter } from './durable-starter';
import { azureServices, invocationLogger } from './services';

// Request bodies arrive as streams rather than buffered whole by the worker: a web batch (up to 200 MiB) is streamed
// to storage as it arrives (src/lib/api/read-form.ts), and every other handler reads its body through a bound.
app.setup({ enableHttpStream: true });

// Anonymous at the Functions level: App Service Authentication (Easy Auth) in front of the app validates the Entra ID
// session or token, and the app authorises from the principal it injects (src/lib/api/access.ts). A function key would
// only be a second, shared secret that identifies nobody.
for (const route of ROUTES) {
  app.http(route.name, {
    methods: httpMethods(route.method),
    route: route.route,
    authLevel: 'anonymous',
    ...(route.orchestrates ? { extraInputs: [df.input.durableClient()] } : {}),
    handler: async (request, context) => handle(route, request, azureServices, invocationLogger(context), () => invocationStarter(context)),
  });
}
