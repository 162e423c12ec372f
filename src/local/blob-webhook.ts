import { z } from 'zod';
import { json, type ApiRequest, type ApiResponse } from '../lib/api/http';
import { readBoundedBody } from '../lib/api/request-body';
import type { Route } from '../lib/api/routes';
import type { Logger } from '../lib/logger';
import { BLOB_CONTAINERS, BLOB_WEBHOOK } from '../lib/names';
import { badRequest, notFound } from '../lib/problem';
import { processUpload } from '../lib/processing/process-upload';
import type { Services } from '../lib/services';


const events = z
  .array(z.object({ id: z.string(), eventType: z.string(), subject: z.string(), data: z.record(z.string(), z.unknown()).optional() }))
  .min(1);

const UPLOADS_SUBJECT = `/blobServices/default/containers/${BLOB_CONTAINERS.uploads}/blobs/`;

/**
 * The local host's stand-in for the Functions host's blob extension webhook (POST /runtime/webhooks/blobs?
 * functionName=Host.Functions.processUpload): Event Grid's subscription validation handshake, and BlobCreated
 * events for uploads/, each processed as the blob trigger would. Locally the blob watcher sees every upload anyway;
 * this is where `image-pipeline replay-deadletter` re-delivers dead-lettered events, as it does to the app in Azure.
 */
export function blobWebhookRoute(log: Logger): Route {
  return {
    name: 'blobExtensionWebhook',
    system: true,
    method: 'POST',
    route: BLOB_WEBHOOK.path,
    handler: async (request: ApiRequest, services: Services): Promise<ApiResponse> => {
      const functionName = new URL(request.url).searchParams.get('functionName');
      if (functionName !== BLOB_WEBHOOK.processUpload) throw notFound(`No blob-triggered function "${functionName}"; the one here is ${BLOB_WEBHOOK.processUpload}.`);
      let parsed: z.infer<typeof events>;
      try {
        parsed = events.parse(JSON.parse((await readBoundedBody(request, 1024 * 1024, '1 MiB')).toString('utf8')));
      } catch (error) {
        throw badRequest(`The body must be a JSON array of Event Grid events: ${(error as Error).message.split('\n')[0]}`);
      }
      if (request.headers.get('aeg-event-type') === 'SubscriptionValidation') {
        return json(200, { validationResponse: parsed[0].data?.validationCode });
      }
      for (const event of parsed) {
        if (event.eventType !== 'Microsoft.Storage.BlobCreated' || !event.subject.startsWith(UPLOADS_SUBJECT)) {
          throw badRequest(`Event ${event.id} is not a BlobCreated event in ${BLOB_CONTAINERS.uploads}/ (${event.eventType} ${event.subject}).`);
        }
      }
      for (const event of parsed) await processUpload(services, event.subject.slice(UPLOADS_SUBJECT.length), log);
      return { status: 202, headers: {} };
    },
  };
}
