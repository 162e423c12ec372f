import './telemetry';
import { app } from '@azure/functions';
import { handle, httpMethods, WEB_ROUTES } from '../lib/api/routes';
import { loadConfig } from '../lib/config';
import type { Services } from '../lib/services';
import { invocationLogger } from './services';

// The static file handlers use no stores, only the configuration their access rule reads: a page load never waits
// for (or fails with) storage or Cosmos clients.
let pageServices: Services | undefined;
const configOnly = async () => (pageServices ??= { config: loadConfig() } as Services);

// Pages hold no data; a browser that is not signed in is sent to sign in (see src/lib/api/access.ts).
for (const route of WEB_ROUTES) {
  app.http(route.name, {
    methods: httpMethods(route.method),
    route: route.route,
    authLevel: 'anonymous',
    handler: (request, context) => handle(route, request, configOnly, invocationLogger(context)),
  });
}
