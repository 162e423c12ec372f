import './telemetry';
import { app } from '@azure/functions';
import { processUpload } from '../lib/processing/process-upload';
import { boundBlob } from '../lib/processing/upload-blob';
import { azureServices, invocationLogger } from './services';

app.storageBlob('processUpload', {
  path: 'uploads/{name}',
  connection: 'AzureWebJobsStorage',
  // Flex Consumption only supports the Event Grid source; func start with Azurite polls instead (see README).
  source: process.env.BLOB_TRIGGER_SOURCE === 'LogsAndContainerScan' ? 'LogsAndContainerScan' : 'EventGrid',
  handler: async (blob, context) => {
    await processUpload(await azureServices(), String(context.triggerMetadata?.name), invocationLogger(context), boundBlob(blob, context.triggerMetadata));
  },
});
