// Event Hubs namespace (Kafka endpoint: Standard or Premium) with the batch-records hub and the app's consumer group.
// With a secondary region: a second namespace there, paired behind a geo-disaster-recovery alias whose host name the
// app and the producers use, so a failover moves them without a configuration change. Geo-DR pairs METADATA only
// (hubs, consumer groups, settings), not events; see infra/README.md for what that means for RPO.
//
// `activeRegion` says which namespace is the primary now. Geo-DR fails forward only: after a failover the old primary
// leaves the pairing, and failing back means pairing again with a new, empty namespace in the other region
// (infra/scripts/failback.sh). The hub, the consumer group and the alias are declared on the active namespace; the
// other one gets them from the pairing.

param name string
@description('Region of the namespace <name> (the primary region of the deployment).')
param location string
@description('Region of the namespace <name>-secondary; empty string: no geo-DR.')
param secondaryLocation string
@allowed([
  'primary'
  'secondary'
])
param activeRegion string
param tags object = {}

@allowed([
  'Standard'
  'Premium'
])
param skuName string
param capacity int
param zoneRedundant bool
param eventHubName string
param partitionCount int
param retentionDays int
param consumerGroupName string
param vnetEnabled bool

var geoDrEnabled = !empty(secondaryLocation)
var primaryActive = activeRegion == 'primary' || !geoDrEnabled
var namespaceProperties = {
  disableLocalAuth: true // no SAS keys: Entra ID (Data Sender / Data Receiver roles) only, for Kafka too (OAUTHBEARER)
  minimumTlsVersion: '1.2'
  zoneRedundant: zoneRedundant
  isAutoInflateEnabled: false
  publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
}
var sku = {
  name: skuName
  tier: skuName
  capacity: capacity
}
var hubProperties = {
  partitionCount: partitionCount
  messageRetentionInDays: skuName == 'Standard' ? min(retentionDays, 7) : retentionDays
}
// Shared by both regions and the same in both: not derived from a location.
var aliasName = '${name}-geo'

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: sku
  properties: namespaceProperties
}

// Geo-DR: the partner must be an empty namespace of the same tier; the alias replicates the entities to it.
resource secondaryNamespace 'Microsoft.EventHub/namespaces@2024-01-01' = if (geoDrEnabled) {
  name: '${name}-secondary'
  location: geoDrEnabled ? secondaryLocation : location
  tags: tags
  sku: sku
  properties: namespaceProperties
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = if (primaryActive) {
  parent: namespace
  name: eventHubName
  properties: hubProperties
}

resource consumerGroup 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = if (primaryActive) {
  parent: hub
  name: consumerGroupName
  properties: {}
}

resource alias 'Microsoft.EventHub/namespaces/disasterRecoveryConfigs@2024-01-01' = if (geoDrEnabled && primaryActive) {
  parent: namespace
  name: aliasName
  properties: {
    partnerNamespace: secondaryNamespace.id
  }
  dependsOn: [
    consumerGroup // pair after the entities exist so that they are replicated
  ]
}

// After a failover (activeRegion = 'secondary'): the same entities and alias on the secondary namespace.
resource secondaryHub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = if (!primaryActive) {
  parent: secondaryNamespace
  name: eventHubName
  properties: hubProperties
}

resource secondaryConsumerGroup 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = if (!primaryActive) {
  parent: secondaryHub
  name: consumerGroupName
  properties: {}
}

resource secondaryAlias 'Microsoft.EventHub/namespaces/disasterRecoveryConfigs@2024-01-01' = if (!primaryActive) {
  parent: secondaryNamespace
  name: aliasName
  properties: {
    partnerNamespace: namespace.id
  }
  dependsOn: [
    secondaryConsumerGroup
  ]
}

output id string = namespace.id
output name string = namespace.name
output secondaryId string = geoDrEnabled ? secondaryNamespace.id : ''
output secondaryNamespaceName string = geoDrEnabled ? secondaryNamespace.name : ''
output geoDrAliasName string = geoDrEnabled ? aliasName : ''
// What the app and the producers connect to: the alias when there is one, so a failover needs no change anywhere.
output fullyQualifiedNamespace string = '${geoDrEnabled ? aliasName : namespace.name}.servicebus.windows.net'
output eventHubName string = eventHubName
output consumerGroupName string = consumerGroupName
