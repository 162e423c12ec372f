// Private endpoints and private DNS zones for storage (blob, queue, table), Cosmos DB and Event Hubs (vnetEnabled).
// The secondary region calls it again for its own VNet, storage account and Event Hubs namespace: the zones exist by
// then (createZones false) and get a link to that VNet too. Cosmos DB is left out there (cosmosAccountId empty).

param location string
param tags object = {}
param nameSuffix string
param virtualNetworkId string
param subnetId string
param storageAccountId string
@description('Empty string: no Cosmos DB endpoint.')
param cosmosAccountId string
param eventHubsNamespaceId string
@description('The analytics Data Lake Storage Gen2 account (blob for the app\'s exports, dfs for Data Lake clients); empty string: none (the secondary region).')
param analyticsStorageAccountId string = ''
@description('Create the private DNS zones (the first call); false: they exist, link this VNet to them.')
param createZones bool = true

var storageSuffix = environment().suffixes.storage // core.windows.net in the public cloud

var allEndpoints = [
  {
    name: 'blob'
    resourceId: storageAccountId
    groupId: 'blob'
    zone: 'privatelink.blob.${storageSuffix}'
  }
  {
    name: 'queue'
    resourceId: storageAccountId
    groupId: 'queue'
    zone: 'privatelink.queue.${storageSuffix}'
  }
  {
    name: 'table'
    resourceId: storageAccountId
    groupId: 'table'
    zone: 'privatelink.table.${storageSuffix}'
  }
  {
    name: 'cosmos'
    resourceId: cosmosAccountId
    groupId: 'Sql'
    zone: 'privatelink.documents.azure.com'
  }
  {
    name: 'eventhubs'
    resourceId: eventHubsNamespaceId
    groupId: 'namespace'
    zone: 'privatelink.servicebus.windows.net'
  }
  {
    name: 'analytics-blob'
    resourceId: analyticsStorageAccountId
    groupId: 'blob'
    zone: 'privatelink.blob.${storageSuffix}'
  }
  {
    name: 'analytics-dfs'
    resourceId: analyticsStorageAccountId
    groupId: 'dfs'
    zone: 'privatelink.dfs.${storageSuffix}'
  }
]
var endpoints = filter(allEndpoints, e => !empty(e.resourceId))

// One zone per name: both storage accounts' blob endpoints register in privatelink.blob.
var zoneNames = union(map(endpoints, e => e.zone), [])

resource newZones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in zoneNames: if (createZones) {
    name: zone
    location: 'global'
    tags: tags
  }
]

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' existing = [
  for zone in zoneNames: {
    name: zone
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in zoneNames: {
    parent: zones[i]
    name: 'link-${nameSuffix}'
    location: 'global'
    tags: tags
    properties: {
      virtualNetwork: {
        id: virtualNetworkId
      }
      registrationEnabled: false
    }
    dependsOn: [
      newZones
    ]
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for e in endpoints: {
    name: 'pe-${e.name}-${nameSuffix}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: subnetId
      }
      privateLinkServiceConnections: [
        {
          name: 'pe-${e.name}-${nameSuffix}'
          properties: {
            // The ids are this module's resource id parameters, carried through the endpoints table above.
            #disable-next-line use-resource-id-functions
            privateLinkServiceId: e.resourceId
            groupIds: [
              e.groupId
            ]
          }
        }
      ]
    }
  }
]

resource dnsZoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (e, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: e.name
          properties: {
            privateDnsZoneId: zones[indexOf(zoneNames, e.zone)].id
          }
        }
      ]
    }
    dependsOn: [
      newZones
    ]
  }
]
