// Optional site-to-site VPN from the data centre (dataCentreVpnEnabled, with vnetEnabled): a route-based VPN gateway
// in the VNet's GatewaySubnet, the data centre's VPN device as a local network gateway, and an IKEv2 IPsec connection.
// The in-house bridge then reaches Event Hubs and blob storage through their private endpoints; names resolve through
// the DNS private resolver (dns-resolver.bicep). For ExpressRoute see infra/README.md "From the data centre".

param location string
param tags object = {}
param nameSuffix string
param gatewaySubnetId string
param zoneRedundant bool

@description('Public IP address of the data centre\'s VPN device.')
param dataCentreVpnDeviceIp string

@description('Address ranges of the data centre reachable through the tunnel (the bridge hosts, at least).')
param dataCentreAddressPrefixes array

@secure()
@description('IPsec pre-shared key, the same on the data centre\'s VPN device.')
param sharedKey string

// AZ SKUs are what Azure offers for new VPN gateways; they also deploy in regions without availability zones.
var gatewaySku = 'VpnGw1AZ'

resource publicIp 'Microsoft.Network/publicIPAddresses@2024-05-01' = {
  name: 'pip-vgw-${nameSuffix}'
  location: location
  tags: tags
  sku: {
    name: 'Standard'
  }
  zones: zoneRedundant ? ['1', '2', '3'] : []
  properties: {
    publicIPAllocationMethod: 'Static'
  }
}

resource gateway 'Microsoft.Network/virtualNetworkGateways@2024-05-01' = {
  name: 'vgw-${nameSuffix}'
  location: location
  tags: tags
  properties: {
    gatewayType: 'Vpn'
    vpnType: 'RouteBased'
    vpnGatewayGeneration: 'Generation1'
    sku: {
      name: gatewaySku
      tier: gatewaySku
    }
    enableBgp: false
    activeActive: false
    ipConfigurations: [
      {
        name: 'default'
        properties: {
          privateIPAllocationMethod: 'Dynamic'
          subnet: {
            id: gatewaySubnetId
          }
          publicIPAddress: {
            id: publicIp.id
          }
        }
      }
    ]
  }
}

resource dataCentre 'Microsoft.Network/localNetworkGateways@2024-05-01' = {
  name: 'lgw-datacentre-${nameSuffix}'
  location: location
  tags: tags
  properties: {
    gatewayIpAddress: dataCentreVpnDeviceIp
    localNetworkAddressSpace: {
      addressPrefixes: dataCentreAddressPrefixes
    }
  }
}

resource connection 'Microsoft.Network/connections@2024-05-01' = {
  name: 'con-datacentre-${nameSuffix}'
  location: location
  tags: tags
  properties: {
    connectionType: 'IPsec'
    connectionProtocol: 'IKEv2'
    virtualNetworkGateway1: {
      id: gateway.id
      properties: {}
    }
    localNetworkGateway2: {
      id: dataCentre.id
      properties: {}
    }
    sharedKey: sharedKey
  }
}

output gatewayPublicIp string = publicIp.properties.ipAddress
