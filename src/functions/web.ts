import './telemetry';
import { app } from '@azure/functions';
import { handle, httpMethods, WEB_ROUTES } from '../lib/api/routes';
import type { Services } from '../lib/services';
import { invocationLogger } from './services';

// The static file handlers use no services: a page load never waits for (or fails with) storage or Cosmos clients.
const NO_SERVICES = {} as Services;

// The web app's pages and scripts are public; every API call they make still needs a function key (see README).
for (const route of WEB_ROUTES) {
  app.http(route.name, {
    methods: httpMethods(route.method),
    route: route.route,
    authLevel: 'anonymous',
    handler: (request, context) => handle(route, request, NO_SERVICES, invocationLogger(context)),
  });
}
