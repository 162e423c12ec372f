import { app } from '@azure/functions';
import { handle, httpMethods, ROUTES } from '../lib/api/routes';
import { azureServices } from './services';

for (const route of ROUTES) {
  app.http(route.name, {
    methods: httpMethods(route.method),
    route: route.route,
    authLevel: 'function',
    handler: async (request, context) => handle(route, request, azureServices, context),
  });
}
