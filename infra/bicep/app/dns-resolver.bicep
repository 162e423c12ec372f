// Optional DNS private resolver (dataCentreDnsResolverEnabled, with vnetEnabled): an inbound endpoint in the VNet that
// answers from the private DNS zones linked to it (private-endpoints.bicep). The data centre's DNS servers forward
// servicebus.windows.net and blob.core.windows.net to its address, so <namespace>.servicebus.windows.net resolves to
// the private endpoint over the VPN or ExpressRoute path instead of to the (disabled) public endpoint.

param location string
param tags object = {}
param nameSuffix string
param virtualNetworkId string
param inboundSubnetId string

resource resolver 'Microsoft.Network/dnsResolvers@2022-07-01' = {
  name: 'dnspr-${nameSuffix}'
  location: location
  tags: tags
  properties: {
    virtualNetwork: {
      id: virtualNetworkId
    }
  }
}

resource inbound 'Microsoft.Network/dnsResolvers/inboundEndpoints@2022-07-01' = {
  parent: resolver
  name: 'inbound'
  location: location
  tags: tags
  properties: {
    ipConfigurations: [
      {
        privateIpAllocationMethod: 'Dynamic'
        subnet: {
          id: inboundSubnetId
        }
      }
    ]
  }
}

output inboundAddress string = inbound.properties.ipConfigurations[0].privateIpAddress
