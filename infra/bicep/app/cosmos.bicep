// Cosmos DB for NoSQL: results (images) and batch state (batches).
// Provisioned autoscale rather than serverless: serverless accounts are single-region only, and the prod profile needs a
// second region with automatic failover. Autoscale with the smallest maximum (1000 RU/s, floor 100 RU/s) is the
// cheapest provisioned option; see infra/README.md "Costs".

param name string
param location string
param tags object = {}
param databaseName string
param zoneRedundant bool
param secondaryLocation string
param secondaryZoneRedundant bool
param autoscaleMaxThroughput int
param vnetEnabled bool

// Container names and partition keys mirror the code; test/infra checks them.
// defaultTtl null: items live until the app deletes them.
var containers = [
  {
    name: 'images'
    partitionKeyPath: '/partitionKey'
    defaultTtl: null
    maxThroughput: autoscaleMaxThroughput
  }
  {
    name: 'batches'
    partitionKeyPath: '/id'
    defaultTtl: null
    maxThroughput: autoscaleMaxThroughput
  }
  {
    // per-user upload counters (src/lib/limits): deleted two days after their last change; the smallest autoscale
    // maximum whatever the profile gives the others, since counters are tiny
    name: 'usage'
    partitionKeyPath: '/id'
    defaultTtl: 172800
    maxThroughput: 1000
  }
]

var primaryLocation = [
  {
    locationName: location
    failoverPriority: 0
    isZoneRedundant: zoneRedundant
  }
]
var secondaryLocations = empty(secondaryLocation)
  ? []
  : [
      {
        locationName: secondaryLocation
        failoverPriority: 1
        isZoneRedundant: secondaryZoneRedundant
      }
    ]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: concat(primaryLocation, secondaryLocations)
    enableAutomaticFailover: !empty(secondaryLocation)
    enableMultipleWriteLocations: false
    enableAnalyticalStorage: true
    analyticalStorageConfiguration: {
      schemaType: 'WellDefined'
    }
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: 'Continuous30Days' // point-in-time restore to any second of the last 30 days
      }
    }
    disableLocalAuth: true // keys are off: data-plane RBAC (sqlRoleAssignments) only
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for container in containers: {
    parent: database
    name: container.name
    properties: {
      resource: {
        id: container.name
        partitionKey: {
          paths: [
            container.partitionKeyPath
          ]
          kind: 'Hash'
          version: 2
        }
        analyticalStorageTtl: -1 // keep every item in the analytical store indefinitely
        defaultTtl: container.defaultTtl
      }
      options: {
        autoscaleSettings: {
          maxThroughput: container.maxThroughput
        }
      }
    }
  }
]

output id string = account.id
output name string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
