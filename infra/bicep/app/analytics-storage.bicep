// The analytics account: Data Lake Storage Gen2 (hierarchical namespace) holding the Parquet exports in the container
// (file system) `analytics`, long term and de-identified. A separate account rather than the app's, because the
// hierarchical namespace can only be chosen when an account is created (the app's account would need a one-way
// migration), the app's account carries the Flex deployment package and the Event Grid blob trigger, whose behaviour
// the namespace would change, and its lifecycle rule deletes personal data after 7 days while exports are kept.
// Analysts get a reader role here and nothing on the app's account (infra/README.md "Analytics").

param name string
param location string
param tags object = {}
@allowed([
  'Standard_ZRS'
  'Standard_RAGZRS'
])
param skuName string
param containerName string
param vnetEnabled bool

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    isHnsEnabled: true // Data Lake Storage Gen2: directories for the date=YYYY-MM-DD partitions, abfss:// for Spark
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // Entra ID only
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // With vnetEnabled: the app and analysts in the VNet through private endpoints; Fabric and Synapse through the
    // trusted-services bypass (or resource instance rules an administrator adds).
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: vnetEnabled ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}

output id string = account.id
output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output dfsEndpoint string = account.properties.primaryEndpoints.dfs
output containerName string = container.name
