// VNet for the optional private networking profile (vnetEnabled): one subnet delegated to Microsoft.App/environments
// for Flex Consumption VNet integration (outbound), one for private endpoints, and for the data-centre link optionally
// GatewaySubnet (VPN gateway) and a subnet for the DNS private resolver's inbound endpoint. Subnets are declared inline
// only: a subnet declared as a child resource would be deleted by the next deployment of this VNet.

param name string
param location string
param tags object = {}
param addressPrefix string
param appSubnetPrefix string
param privateEndpointSubnetPrefix string

@description('Service endpoints on the app subnet (the secondary region reaches Cosmos DB through one).')
param appSubnetServiceEndpoints array = []

@description('GatewaySubnet for a VPN gateway; empty string: none.')
param gatewaySubnetPrefix string = ''

@description('Subnet for the DNS private resolver inbound endpoint (delegated to Microsoft.Network/dnsResolvers); empty string: none.')
param dnsResolverSubnetPrefix string = ''

var appSubnetName = 'app'
var privateEndpointSubnetName = 'private-endpoints'
var gatewaySubnetName = 'GatewaySubnet' // the name Azure requires for a virtual network gateway
var dnsResolverSubnetName = 'dns-resolver-inbound'

var baseSubnets = [
  {
    name: appSubnetName
    properties: {
      addressPrefix: appSubnetPrefix
      delegations: [
        {
          name: 'flex-consumption'
          properties: {
            serviceName: 'Microsoft.App/environments'
          }
        }
      ]
      privateEndpointNetworkPolicies: 'Disabled'
      privateLinkServiceNetworkPolicies: 'Enabled'
      serviceEndpoints: map(appSubnetServiceEndpoints, service => { service: service })
    }
  }
  {
    name: privateEndpointSubnetName
    properties: {
      addressPrefix: privateEndpointSubnetPrefix
      privateEndpointNetworkPolicies: 'Disabled'
      privateLinkServiceNetworkPolicies: 'Enabled'
    }
  }
]
var gatewaySubnets = empty(gatewaySubnetPrefix)
  ? []
  : [
      {
        name: gatewaySubnetName
        properties: {
          addressPrefix: gatewaySubnetPrefix
        }
      }
    ]
var dnsResolverSubnets = empty(dnsResolverSubnetPrefix)
  ? []
  : [
      {
        name: dnsResolverSubnetName
        properties: {
          addressPrefix: dnsResolverSubnetPrefix
          delegations: [
            {
              name: 'dns-resolver'
              properties: {
                serviceName: 'Microsoft.Network/dnsResolvers'
              }
            }
          ]
        }
      }
    ]

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: concat(baseSubnets, gatewaySubnets, dnsResolverSubnets)
  }
}

output vnetId string = vnet.id
output appSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, appSubnetName)
output privateEndpointSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, privateEndpointSubnetName)
output gatewaySubnetId string = empty(gatewaySubnetPrefix) ? '' : resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, gatewaySubnetName)
output dnsResolverSubnetId string = empty(dnsResolverSubnetPrefix) ? '' : resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, dnsResolverSubnetName)
