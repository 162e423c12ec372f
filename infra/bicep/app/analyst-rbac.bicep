// Read access for analysts (analystsGroupObjectId): the Parquet exports and, for Fabric mirroring, the facts in Cosmos DB.
// Nothing else: not the app's storage account, not the images or batches containers.

param analystsGroupObjectId string
param analyticsStorageAccountName string
param analyticsContainerName string
param cosmosAccountName string
param cosmosDatabaseName string
param factsContainerName string

var storageBlobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'

resource analyticsAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: analyticsStorageAccountName
}

resource analyticsBlobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: analyticsAccount
  name: 'default'
}

resource analyticsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: analyticsBlobs
  name: analyticsContainerName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

// Storage Blob Data Reader on the analytics container only (Databricks, Synapse serverless SQL, Power BI, DuckDB).
resource exportsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(analyticsContainer.id, analystsGroupObjectId, storageBlobDataReader)
  scope: analyticsContainer
  properties: {
    principalId: analystsGroupObjectId
    principalType: 'Group'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataReader)
  }
}

// The data-plane role Fabric mirroring asks for: account metadata and the analytical store, no item reads or writes.
resource mirroringRole 'Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, 'analytics-mirroring')
  properties: {
    roleName: 'Image Pipeline analytics reader (Fabric mirroring)'
    type: 'CustomRole'
    assignableScopes: [
      cosmos.id
    ]
    permissions: [
      {
        dataActions: [
          'Microsoft.DocumentDB/databaseAccounts/readMetadata'
          'Microsoft.DocumentDB/databaseAccounts/readAnalytics'
        ]
      }
    ]
  }
}

// Scoped to the facts container: the de-identified records, never the images or batches containers.
resource mirroringAssignment 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, analystsGroupObjectId, mirroringRole.id)
  properties: {
    principalId: analystsGroupObjectId
    roleDefinitionId: mirroringRole.id
    scope: '${cosmos.id}/dbs/${cosmosDatabaseName}/colls/${factsContainerName}'
  }
}
