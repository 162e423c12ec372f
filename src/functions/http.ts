import { app } from '@azure/functions';
import { handle, ROUTES } from '../lib/api/routes';
import { azureServices } from './services';

for (const route of ROUTES) {
  app.http(route.name, {
    methods: [route.method],
    route: route.route,
    authLevel: 'function',
    handler: async (request, context) => handle(route, request, azureServices, context),
  });
}
