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

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

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
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output name string = subscription.name
