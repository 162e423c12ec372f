import './telemetry';
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { handle, httpMethods, ROUTES } from '../lib/api/routes';
import { invocationStarter } from './durable-starter';
import { azureServices, invocationLogger } from './services';

for (const route of ROUTES) {
  app.http(route.name, {
    methods: httpMethods(route.method),
    route: route.route,
    authLevel: 'function',
    ...(route.orchestrates ? { extraInputs: [df.input.durableClient()] } : {}),
    handler: async (request, context) => handle(route, request, azureServices, invocationLogger(context), () => invocationStarter(context)),
  });
}
