// Event Grid system topic on the storage account (native, in place of the AVM module avm/res/event-grid/system-topic,
// so that the template compiles without the public module registry). Its system-assigned identity writes undeliverable
// BlobCreated events to the dead-letter container (see blob-event-subscription.bicep and rbac.bicep).

param name string
param location string
param tags object = {}
param source string
param topicType string

@description('Storage account (in this resource group) and container where the topic identity may write dead-lettered events.')
param deadLetterStorageAccountName string
param deadLetterContainerName string

// Storage Blob Data Contributor
var blobDataContributorRoleId = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: source
    topicType: topicType
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: deadLetterStorageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource deadLetterContainer 'containers' existing = {
      name: deadLetterContainerName
    }
  }
}

// Only on the dead-letter container: the topic never reads or writes user images.
resource deadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::deadLetterContainer.id, topic.id, blobDataContributorRoleId)
  scope: storage::blobService::deadLetterContainer
  properties: {
    principalId: topic.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributorRoleId)
  }
}

output resourceId string = topic.id
output name string = topic.name
output principalId string = topic.identity.principalId
