// Event Grid subscription: BlobCreated in the uploads container -> blob extension webhook of the function app.
// Optional Bicep path (main.bicep createBlobEventSubscription=true, on a provision run AFTER the code is deployed);
// the default azd path is the postdeploy hook infra/scripts/postdeploy.sh, which does the same with az CLI as the
// Azure-Samples Event Grid blob-trigger quickstarts do. The blobs_extension system key only exists once the host has
// started with the blob extension, and Event Grid validates the webhook when the subscription is created.

param systemTopicName string
param functionAppName string
param functionName string
param containerName string
param eventSubscriptionName string = 'uploads-blob-created'

@description('Storage account and container for events Event Grid could not deliver (the system topic identity writes them).')
param deadLetterStorageAccountId string
param deadLetterContainerName string

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

// Bicep has no type data for Microsoft.Web/sites/host (BCP081). The resource is only read, for listKeys() of the
// blobs_extension system key, which the Web resource provider serves; no property of it is set or checked here.
#disable-next-line BCP081
resource functionAppHost 'Microsoft.Web/sites/host@2024-04-01' existing = {
  parent: functionApp
  name: 'default'
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: systemTopic
  name: eventSubscriptionName
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${functionApp.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${functionAppHost.listKeys().systemKeys.blobs_extension}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      subjectBeginsWith: '/blobServices/default/containers/${containerName}/'
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
    }
    eventDeliverySchema: 'EventGridSchema'
    // Event Grid retries with backoff for at most 24 hours (1440 minutes, the maximum TTL) and 30 attempts; an event
    // still undelivered then (app down or failing for a day) is written to the dead-letter container instead of being
    // dropped, and can be replayed (infra/README.md, "Blob trigger wiring").
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: deadLetterStorageAccountId
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output name string = subscription.name
