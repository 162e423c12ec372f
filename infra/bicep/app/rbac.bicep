// Role assignments for the app's user-assigned identity and (optionally) the deploying user.
// These replace every key and connection string: storage (host, Durable Functions, blob data), Cosmos DB data plane,
// Event Hubs send/receive, and Entra-authenticated Application Insights ingestion.

param appPrincipalId string

@description('Deploying user or CI principal; empty string: no assignments for it.')
param userPrincipalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param userPrincipalType string = 'User'

param storageAccountName string
param cosmosAccountName string
param eventHubsNamespaceName string

@description('Geo-DR secondary namespace; empty string when geo-DR is off.')
param eventHubsSecondaryNamespaceName string = ''
param applicationInsightsName string
param analyticsStorageAccountName string

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  eventHubsDataReceiver: 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
  eventHubsDataSender: '2b629674-e913-4c01-ae53-ef4638d8f975'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}
// Cosmos DB Built-in Data Contributor (data-plane role definition, not an Azure RBAC role).
var cosmosDataContributorRoleId = '00000000-0000-0000-0000-000000000002'

var storageRoles = [
  roles.storageBlobDataOwner
  roles.storageQueueDataContributor // host, blob trigger poison queue, Durable Functions work-item and control queues
  roles.storageTableDataContributor // Durable Functions history and instances tables
]
var eventHubsRoles = [
  roles.eventHubsDataReceiver
  roles.eventHubsDataSender
]

var principals = empty(userPrincipalId)
  ? [
      {
        id: appPrincipalId
        type: 'ServicePrincipal'
      }
    ]
  : [
      {
        id: appPrincipalId
        type: 'ServicePrincipal'
      }
      {
        id: userPrincipalId
        type: userPrincipalType
      }
    ]

var storageAssignments = [
  for pair in range(0, length(principals) * length(storageRoles)): {
    principal: principals[pair / length(storageRoles)]
    role: storageRoles[pair % length(storageRoles)]
  }
]
var eventHubsAssignments = [
  for pair in range(0, length(principals) * length(eventHubsRoles)): {
    principal: principals[pair / length(eventHubsRoles)]
    role: eventHubsRoles[pair % length(eventHubsRoles)]
  }
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource analyticsStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: analyticsStorageAccountName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource eventHubsNamespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: eventHubsNamespaceName
}

resource eventHubsSecondary 'Microsoft.EventHub/namespaces@2024-01-01' existing = if (!empty(eventHubsSecondaryNamespaceName)) {
  name: empty(eventHubsSecondaryNamespaceName) ? eventHubsNamespaceName : eventHubsSecondaryNamespaceName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource storageRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in storageAssignments: {
    name: guid(storage.id, a.principal.id, a.role)
    scope: storage
    properties: {
      principalId: a.principal.id
      principalType: a.principal.type
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.role)
    }
  }
]

// The daily export writes Parquet to the analytics account.
resource analyticsRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for p in principals: {
    name: guid(analyticsStorage.id, p.id, roles.storageBlobDataContributor)
    scope: analyticsStorage
    properties: {
      principalId: p.id
      principalType: p.type
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    }
  }
]

resource eventHubsRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in eventHubsAssignments: {
    name: guid(eventHubsNamespace.id, a.principal.id, a.role)
    scope: eventHubsNamespace
    properties: {
      principalId: a.principal.id
      principalType: a.principal.type
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.role)
    }
  }
]

// Same roles on the geo-DR secondary, so that a failover needs no RBAC change.
resource eventHubsSecondaryRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in (empty(eventHubsSecondaryNamespaceName) ? [] : eventHubsAssignments): {
    name: guid(eventHubsSecondary.id, a.principal.id, a.role)
    scope: eventHubsSecondary
    properties: {
      principalId: a.principal.id
      principalType: a.principal.type
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.role)
    }
  }
]

resource monitoringRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for p in principals: {
    name: guid(appInsights.id, p.id, roles.monitoringMetricsPublisher)
    scope: appInsights
    properties: {
      principalId: p.id
      principalType: p.type
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    }
  }
]

resource cosmosRoleAssignments 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = [
  for p in principals: {
    parent: cosmos
    name: guid(cosmos.id, p.id, cosmosDataContributorRoleId)
    properties: {
      principalId: p.id
      roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributorRoleId}'
      scope: cosmos.id
    }
  }
]
