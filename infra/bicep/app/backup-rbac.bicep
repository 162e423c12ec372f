// The identities that run image-pipeline backup (the on-premises backup server): read every document of the Cosmos DB
// account, nothing else. A restore needs Cosmos DB Built-in Data Contributor, granted for the restore only
// (infra/README.md, "Disaster recovery").

param principalIds array
param cosmosAccountName string

// Cosmos DB Built-in Data Reader (data-plane role definition, not an Azure RBAC role).
var cosmosDataReaderRoleId = '00000000-0000-0000-0000-000000000001'

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource readerAssignments 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = [
  for principalId in principalIds: {
    parent: cosmos
    name: guid(cosmos.id, principalId, cosmosDataReaderRoleId)
    properties: {
      principalId: principalId
      roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataReaderRoleId}'
      scope: cosmos.id
    }
  }
]
