// Roles for batch producers outside the app: the CLI, in-house Kafka producers, the in-house bridge or MirrorMaker 2
// (producerPrincipalIds). They may send to the batch hub and write blobs into the batches container, nothing wider:
// both assignments are scoped to that one hub and that one container. The app's own roles are in rbac.bicep.

@description('Object ids of producer identities: service principals, managed identities, users or groups. principalType is left out because the list may mix them.')
param principalIds array
param eventHubsNamespaceName string
param eventHubName string
@description('Scope Data Sender to the hub (the active namespace, where this deployment declares it); false: to the namespace, the geo-DR secondary, whose hub the pairing creates later and which holds nothing else.')
param scopeToHub bool = true
param storageAccountName string
param batchesContainerName string

var roles = {
  eventHubsDataSender: '2b629674-e913-4c01-ae53-ef4638d8f975'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
}

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: eventHubsNamespaceName
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' existing = {
  parent: namespace
  name: eventHubName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource batchesContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: batchesContainerName
}

// Kafka producers authenticate with SASL OAUTHBEARER (Entra ID); the namespace has local (SAS) auth disabled.
resource senderAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in principalIds: if (scopeToHub) {
    name: guid(hub.id, principalId, roles.eventHubsDataSender)
    scope: hub
    properties: {
      principalId: principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventHubsDataSender)
      description: 'Batch producer: send records to ${eventHubName}'
    }
  }
]

resource namespaceSenderAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in principalIds: if (!scopeToHub) {
    name: guid(namespace.id, principalId, roles.eventHubsDataSender)
    scope: namespace
    properties: {
      principalId: principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventHubsDataSender)
      description: 'Batch producer: send records to ${eventHubName} after a geo-DR failover to this namespace'
    }
  }
]

// Images over ~900 KB go to batches/<batch id>/<index> first and travel as blob references (the account allows no
// shared keys, so this is the only way in).
resource blobWriterAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in principalIds: {
    name: guid(batchesContainer.id, principalId, roles.storageBlobDataContributor)
    scope: batchesContainer
    properties: {
      principalId: principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
      description: 'Batch producer: write large images to ${batchesContainerName}/'
    }
  }
]
