// Event Hubs namespace (Kafka endpoint: Standard or Premium) with the batch-records hub and the app's consumer group.
// Optional geo-disaster recovery: a paired secondary namespace behind an alias. Geo-DR pairs METADATA only (hubs,
// consumer groups, settings), not events; see infra/README.md for what that means for RPO.

param name string
param location string
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
param geoDrSecondaryLocation string
param vnetEnabled bool

var geoDrEnabled = !empty(geoDrSecondaryLocation)
var namespaceProperties = {
  disableLocalAuth: true // no SAS keys: Entra ID (Data Sender / Data Receiver roles) only, for Kafka too (OAUTHBEARER)
  minimumTlsVersion: '1.2'
  zoneRedundant: zoneRedundant
  isAutoInflateEnabled: false
  publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
}

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
    capacity: capacity
  }
  properties: namespaceProperties
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: namespace
  name: eventHubName
  properties: {
    partitionCount: partitionCount
    messageRetentionInDays: skuName == 'Standard' ? min(retentionDays, 7) : retentionDays
  }
}

resource consumerGroup 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = {
  parent: hub
  name: consumerGroupName
  properties: {}
}

// Geo-DR: the secondary must be an empty namespace of the same tier; the alias replicates the entities above to it.
resource secondaryNamespace 'Microsoft.EventHub/namespaces@2024-01-01' = if (geoDrEnabled) {
  name: '${name}-secondary'
  location: geoDrEnabled ? geoDrSecondaryLocation : location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
    capacity: capacity
  }
  properties: namespaceProperties
}

resource geoDrAlias 'Microsoft.EventHub/namespaces/disasterRecoveryConfigs@2024-01-01' = if (geoDrEnabled) {
  parent: namespace
  name: '${name}-geo'
  properties: {
    partnerNamespace: secondaryNamespace.id
  }
  dependsOn: [
    consumerGroup // pair after the entities exist so that they are replicated
  ]
}

output id string = namespace.id
output name string = namespace.name
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
output eventHubName string = hub.name
output consumerGroupName string = consumerGroup.name
output secondaryNamespaceName string = geoDrEnabled ? secondaryNamespace.name : ''
output geoDrAliasName string = geoDrEnabled ? geoDrAlias.name : ''
