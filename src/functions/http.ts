import './telemetry';
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { handle, httpMethods, ROUTES } from '../lib/api/routes';
import { invocationStarter } from './durable-starter';
import { azureServices, invocationLogger } from './services';

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
