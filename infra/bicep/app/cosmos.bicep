// Cosmos DB for NoSQL: results (images) and batch state (batches).
// Provisioned autoscale rather than serverless: serverless accounts are single-region only, and the prod profile needs a
// second region with automatic failover. Autoscale with the smallest maximum (1000 RU/s, floor 100 RU/s) is the
// cheapest provisioned option; see infra/README.md "Costs".

param name string
param location string
param tags object = {}
param databaseName string
param zoneRedundant bool
@description('Second region (read replica, automatic service-managed failover); empty string: single region.')
param secondaryLocation string
param secondaryZoneRedundant bool
@allowed([
  'primary'
  'secondary'
])
@description('Which region is the write region now: the template states the failover priorities the account has, so a deployment after a failover does not try to move the write region back (infra/scripts/failover.sh, failback.sh).')
param activeRegion string
param autoscaleMaxThroughput int
param vnetEnabled bool
@description('With vnetEnabled: subnets (the secondary region\'s app subnet) allowed in through a service endpoint, next to the private endpoint.')
param allowedSubnetIds array = []

// Container names and partition keys mirror the code; test/infra checks them. analyticalStorageTtl: -1 keeps items in
// the analytical store indefinitely; null leaves it off. facts (de-identified, kept long term) is what analysts read.
// images and batches hold personal fields until the retention sweep removes them, and an analytical store would keep
// them after that (README "Privacy"): none there. defaultTtl null: items live until the app deletes them.
var containers = [
  {
    name: 'images'
    partitionKeyPath: '/partitionKey'
    analyticalStorageTtl: null
    defaultTtl: null
    maxThroughput: autoscaleMaxThroughput
  }
  {
    name: 'batches'
    partitionKeyPath: '/id'
    analyticalStorageTtl: null
    defaultTtl: null
    maxThroughput: autoscaleMaxThroughput
  }
  {
    name: 'facts'
    partitionKeyPath: '/day'
    analyticalStorageTtl: -1
    defaultTtl: null
    maxThroughput: autoscaleMaxThroughput
  }
  {
    name: 'stats'
    partitionKeyPath: '/id'
    analyticalStorageTtl: null // counters the API reads; nothing for analysts
    defaultTtl: null
    maxThroughput: autoscaleMaxThroughput
  }
  {
    // per-user upload counters (src/lib/limits): deleted two days after their last change; the smallest autoscale
    // maximum whatever the profile gives the others, since counters are tiny
    name: 'usage'
    partitionKeyPath: '/id'
    analyticalStorageTtl: null
    defaultTtl: 172800
    maxThroughput: 1000
  }
]

var primaryRegion = {
  locationName: location
  isZoneRedundant: zoneRedundant
}
var secondaryRegion = {
  locationName: secondaryLocation
  isZoneRedundant: secondaryZoneRedundant
}
// The write region first (failover priority 0).
var regions = empty(secondaryLocation) ? [primaryRegion] : activeRegion == 'primary' ? [primaryRegion, secondaryRegion] : [secondaryRegion, primaryRegion]
var locations = [for (region, i) in regions: union(region, { failoverPriority: i })]

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
    locations: locations
    enableAutomaticFailover: !empty(secondaryLocation)
    enableMultipleWriteLocations: false
    // The account may hold analytical stores, but only containers of de-identified data turn one on: an analytical
    // store keeps items after the transactional store changed or deleted them. images and batches have none.
    enableAnalyticalStorage: true
    analyticalStorageConfiguration: {
      schemaType: 'WellDefined'
    }
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        // The shortest continuous backup: a document's earlier versions (with the personal fields the retention sweep
        // removed) stay restorable for 7 days after the change (README "Privacy").
        tier: 'Continuous7Days'
      }
    }
    disableLocalAuth: true // keys are off: data-plane RBAC (sqlRoleAssignments) only
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    // Private endpoint only; with a secondary region its app subnet comes in through a service endpoint (a second
    // private endpoint for the same account would clash with the first in the shared private DNS zone).
    publicNetworkAccess: vnetEnabled && empty(allowedSubnetIds) ? 'Disabled' : 'Enabled'
    isVirtualNetworkFilterEnabled: vnetEnabled && !empty(allowedSubnetIds)
    virtualNetworkRules: [for subnetId in allowedSubnetIds: { id: subnetId }]
    // Fabric mirroring reaches a private account through the Azure services bypass (infra/README.md "Analytics").
    networkAclBypass: vnetEnabled ? 'AzureServices' : 'None'
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
        analyticalStorageTtl: container.analyticalStorageTtl
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
// The global endpoint: the same whichever region is the write region.
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
