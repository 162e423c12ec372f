targetScope = 'subscription'

// Image Pipeline: the whole cloud side. Layout follows the azd Flex Consumption templates
// (Azure-Samples/functions-quickstart-typescript-azd): subscription-scope main.bicep, one module per concern
// under app/, native resources only (so it compiles without the public module registry). See ../README.md for the
// HA/DR notes and the runbook.

// ---------------------------------------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the environment; used for the resource group name and to generate a short unique hash used in all resource names. azd fills it from AZURE_ENV_NAME.')
param environmentName string

@minLength(1)
@description('Primary location for all resources. Must be a region that offers the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Name of the resource group; empty means rg-<environmentName>.')
param resourceGroupName string = ''

@description('Object id of the deploying user (or CI principal) that gets the same data-plane roles as the app, for testing and debugging. Empty string: no roles for a person (the prod profile).')
param principalId string = deployer().objectId

// A role assignment whose principalType does not match the principal fails (UnmatchedPrincipalType). The deployer is a
// user when it has a user principal name; a service principal or managed identity (azd or az from CI) has none.
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
@description('Kind of principal principalId is. Default: derived from the deployer. Set it when principalId names someone else.')
param principalType string = empty(deployer().userPrincipalName) ? 'ServicePrincipal' : 'User'

@description('Object id of the Entra group of analysts: Storage Blob Data Reader on the analytics container and a Cosmos DB data-plane role with readMetadata and readAnalytics on the facts container, for Fabric mirroring. Empty: none.')
param analystsGroupObjectId string = ''

@description('Object ids of the identities that run image-pipeline backup (the on-premises backup server, as a service principal or an Arc-enabled server\'s managed identity): Cosmos DB Built-in Data Reader on the account, nothing else. Empty: none.')
param backupPrincipalIds array = []

@description('Object ids of batch producers (CLI users, in-house Kafka producers, the in-house bridge or MirrorMaker 2): Azure Event Hubs Data Sender on the batch hub and Storage Blob Data Contributor on the batches container only. Empty: none.')
param producerPrincipalIds array = []

// ---------------------------------------------------------------------------------------------------------------------
// High availability / disaster recovery knobs (main.parameters.prod.json turns them on)
// ---------------------------------------------------------------------------------------------------------------------

@description('Spread the Flex Consumption plan and the Event Hubs namespace across availability zones, and make the primary Cosmos DB region zone redundant. Needs a region with availability zones.')
param zoneRedundant bool = false

@allowed([
  'Standard_ZRS'
  'Standard_RAGZRS'
])
@description('Storage redundancy: ZRS (three zones, one region) or RA-GZRS (ZRS plus asynchronous copy to the paired region, readable there).')
param storageSkuName string = 'Standard_ZRS'

@description('Second region (region B): a standby function app with its own storage, Application Insights and Event Grid topic; the second Cosmos DB region (automatic failover); the Event Hubs geo-DR namespace behind an alias the app and the producers use. Empty string: one region. Must offer Flex Consumption. See infra/README.md "Disaster recovery".')
param secondaryLocation string = ''

@allowed([
  'primary'
  'secondary'
])
@description('The region that is active now: its app ingests batches and runs the maintenance jobs, its Event Hubs namespace holds the alias, its Cosmos DB region takes writes. infra/scripts/failover.sh and failback.sh switch it and tell you to set this to match before the next deployment.')
param activeRegion string = 'primary'

@description('Make the secondary Cosmos DB region zone redundant (only when secondaryLocation is set and that region has zones).')
param cosmosSecondaryZoneRedundant bool = false

// ---------------------------------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------------------------------

@minValue(3)
@maxValue(7)
@description('RETENTION_DAYS: days an image and its personal metadata are kept (the privacy promise is 7; shorter is allowed, longer is not). The app sweeps hourly; the storage lifecycle rule deletes blobs early enough that its run delay and soft delete still end within these days; Event Hubs keeps records at most this long.')
param retentionDays int = 7

@minValue(0)
@maxValue(1)
@description('Blob and container soft-delete retention in days; 0 disables soft delete. Counted into the lifecycle rule\'s margin, so a soft-deleted blob is purged within retentionDays.')
param blobSoftDeleteRetentionDays int = 1

@description('Cosmos DB database name (COSMOS_DATABASE).')
param cosmosDatabaseName string = 'image-pipeline'

@minValue(1000)
@description('Autoscale maximum RU/s of each Cosmos DB container; autoscale runs between 10% of this and this. 1000 (the smallest autoscale maximum) costs the least.')
param cosmosAutoscaleMaxThroughput int = 1000

@allowed([
  'Standard'
  'Premium'
])
@description('Event Hubs tier. Standard is the smallest tier with the Kafka endpoint; Premium adds isolation, longer retention and geo-replication.')
param eventHubsSku string = 'Standard'

@minValue(1)
@description('Throughput units (Standard) or processing units (Premium).')
param eventHubsCapacity int = 1

@description('Event hub (Kafka topic) carrying batch records (EVENTHUB_NAME).')
param eventHubName string = 'image-batches'

@minValue(1)
@maxValue(32)
@description('Partition count of the event hub. Cannot be changed on Standard after creation.')
param eventHubPartitionCount int = 4

@minValue(1)
@maxValue(7)
@description('Event retention in days: how long batch records (images, file names, callback URLs) wait in Event Hubs for the ingest, for instance while storage is down. Never longer than retentionDays.')
param eventHubRetentionDays int = 1

@description('Consumer group of the batch ingest trigger (EVENTHUB_CONSUMER_GROUP).')
param eventHubConsumerGroup string = 'image-pipeline'

// ---------------------------------------------------------------------------------------------------------------------
// Function app
// ---------------------------------------------------------------------------------------------------------------------

@allowed([
  2048
  4096
])
@description('Flex Consumption instance memory size in MB.')
param functionInstanceMemoryMB int = 2048

@minValue(40)
@maxValue(1000)
@description('Upper bound of Flex Consumption scale-out.')
param functionMaximumInstanceCount int = 100

@minValue(0)
@description('Always-ready instances of the durable per-function scaling group (orchestrations, activities, entities). Billed while idle; 0 makes the app scale to zero.')
param durableAlwaysReadyInstances int = 1

@allowed([
  'sharp'
  'jimp'
])
@description('IMAGE_ENGINE app setting.')
param imageEngine string = 'sharp'

@description('MAX_UPLOAD_BYTES app setting.')
param maxUploadBytes int = 26214400

@description('MAX_IMAGE_PIXELS app setting.')
param maxImagePixels int = 50000000

@description('CALLBACK_ALLOWED_HOSTS app setting: host names, addresses or CIDR ranges whose private addresses batch callbacks may reach (receivers inside the VNet). Empty: public addresses only.')
param callbackAllowedHosts string = ''

@secure()
@description('CONTINUATION_TOKEN_KEY app setting: signs listing continuation tokens. A new random key on each deployment unless given; tokens issued before a deployment are then refused (400) and listings start again.')
param continuationTokenKey string = newGuid()

@minValue(60)
@maxValue(604800)
@description('BATCH_RECEIVE_TIMEOUT app setting: seconds without a new record before a receiving batch is closed and processed with what arrived.')
param batchReceiveTimeoutSeconds int = 1800

@minValue(0)
@maxValue(4)
@description('DUPLICATE_HASH_DISTANCE app setting: perceptual hashes within this many bits are near-duplicates (0-4).')
param duplicateHashDistance int = 4

// ---------------------------------------------------------------------------------------------------------------------
// Users and roles (README "Users, roles and ownership"; infra/README.md "Sign-in with Entra ID")
// ---------------------------------------------------------------------------------------------------------------------

@description('Application (client) id of the Entra ID app registration users and machine clients sign in to, with the app roles uploader, analyst and operator. Turns on App Service Authentication. Empty: no sign-in, and the app serves nobody (it trusts no caller without App Service Authentication).')
param authClientId string = ''

@secure()
@minLength(32)
@description('OWNER_HASH_SALT app setting: salts the owner hash in de-identified analytics facts. Keep it fixed (the pipeline passes OWNER_HASH_SALT): the default, a new value on each deployment, gives every owner a new hash after each deployment.')
param ownerHashSalt string = newGuid()

@minValue(0)
@description('UPLOAD_RATE_PER_MINUTE app setting: upload requests one user may make per minute; 0 turns the limit off.')
param uploadRatePerMinute int = 60

@minValue(0)
@description('UPLOAD_BYTES_PER_DAY app setting: image bytes one user may upload per UTC day; 0 turns the quota off.')
param uploadBytesPerDay int = 10737418240

@description('Create the Event Grid subscription (BlobCreated on uploads/ to the blob extension webhook) from Bicep. Needs the code deployed first, because Event Grid validates the webhook; azd does it in the postdeploy hook instead, so leave this false on the first run.')
param createBlobEventSubscription bool = false

// ---------------------------------------------------------------------------------------------------------------------
// Networking and monitoring
// ---------------------------------------------------------------------------------------------------------------------

@description('Private networking: VNet integration of the function app, private endpoints + private DNS for storage (blob/queue/table), Cosmos DB and Event Hubs, and public network access disabled on them.')
param vnetEnabled bool = false

@description('Address space of the VNet (vnetEnabled only).')
param vnetAddressPrefix string = '10.40.0.0/16'

@description('Subnet for Flex Consumption VNet integration, delegated to Microsoft.App/environments.')
param appSubnetPrefix string = '10.40.1.0/24'

@description('Subnet for the private endpoints.')
param privateEndpointSubnetPrefix string = '10.40.2.0/24'

@description('Address space of the secondary region\'s VNet (vnetEnabled with secondaryLocation); must not overlap the first.')
param secondaryVnetAddressPrefix string = '10.41.0.0/16'

@description('Secondary region: subnet for the standby app\'s VNet integration.')
param secondaryAppSubnetPrefix string = '10.41.1.0/24'

@description('Secondary region: subnet for its private endpoints (its storage account and Event Hubs namespace).')
param secondaryPrivateEndpointSubnetPrefix string = '10.41.2.0/24'

@description('Data-centre link (vnetEnabled only): a site-to-site VPN gateway to the data centre\'s VPN device. Leave false for ExpressRoute or a hub network (infra/README.md, "From the data centre").')
param dataCentreVpnEnabled bool = false

@description('Public IP address of the data centre\'s VPN device (dataCentreVpnEnabled).')
param dataCentreVpnDeviceIp string = ''

@description('Data-centre address ranges reachable through the VPN (dataCentreVpnEnabled).')
param dataCentreAddressPrefixes array = []

@secure()
@description('IPsec pre-shared key of the VPN connection (dataCentreVpnEnabled).')
param dataCentreVpnSharedKey string = ''

@description('GatewaySubnet of the VNet (dataCentreVpnEnabled): /27 or larger.')
param gatewaySubnetPrefix string = '10.40.255.0/27'

@description('DNS private resolver with an inbound endpoint (vnetEnabled only), so the data centre\'s DNS can resolve the private endpoints; for VPN and ExpressRoute alike.')
param dataCentreDnsResolverEnabled bool = false

@description('Subnet of the DNS private resolver inbound endpoint (dataCentreDnsResolverEnabled): /28 or larger.')
param dnsResolverSubnetPrefix string = '10.40.254.0/28'

@minValue(30)
@maxValue(730)
@description('Log Analytics retention in days.')
param logAnalyticsRetentionDays int = 30

@description('E-mail address for alert notifications. Empty string: alerts fire (portal, Azure Monitor) without an action group.')
param alertEmail string = ''

@minValue(1)
@description('Failed-processing alert: minimum number of failed images in the 15-minute window before the rate is considered.')
param failedProcessingMinCount int = 5

@minValue(1)
@maxValue(100)
@description('Failed-processing alert: failure rate in percent of processUpload invocations that fires the alert.')
param failedProcessingRatePercent int = 10

// ---------------------------------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------------------------------

var abbrs = loadJsonContent('./abbreviations.json')
// Not derived from the location: the same environment deployed to (or redeployed from) another region names the same
// shared resources (Cosmos DB account, Event Hubs alias), rather than creating empty new ones.
var resourceToken = toLower(uniqueString(subscription().id, environmentName))
var secondaryEnabled = !empty(secondaryLocation)
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = '${abbrs.webSitesFunctions}${resourceToken}'
var deploymentStorageContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'
var storageAccountName = '${abbrs.storageStorageAccounts}${resourceToken}'
// The Parquet exports' Data Lake Storage Gen2 account (app/analytics-storage.bicep says why it is a second account).
var analyticsStorageAccountName = '${abbrs.storageStorageAccounts}dl${take(resourceToken, 20)}'
var analyticsContainerName = 'analytics'
var cosmosAccountName = '${abbrs.documentDBDatabaseAccounts}${resourceToken}'
var eventHubsNamespaceName = '${abbrs.eventHubNamespaces}${resourceToken}'
// app/eventhubs.bicep names the geo-DR secondary '<namespace>-secondary'
var eventHubsSecondaryNamespaceName = secondaryEnabled ? '${eventHubsNamespaceName}-secondary' : ''
var appInsightsName = '${abbrs.insightsComponents}${resourceToken}'
var blobSystemTopicName = '${abbrs.eventGridDomainsTopics}storage-${resourceToken}'
var deadLetterContainerName = 'eventgrid-dead-letters'
// The standby stamp in the secondary region: the same resources with a role suffix, never a location.
var standbyFunctionAppName = '${functionAppName}-standby'
var standbyDeploymentContainerName = 'app-package-${take(standbyFunctionAppName, 32)}-${take(resourceToken, 7)}'
var standbyStorageAccountName = '${storageAccountName}sb'
var standbyAppInsightsName = '${appInsightsName}-standby'
var standbyBlobSystemTopicName = '${blobSystemTopicName}-standby'
// COSMOS_PREFERRED_REGIONS: each app reads from the replica in its own region first.
var primaryRegions = secondaryEnabled ? [location, secondaryLocation] : [location]
var standbyRegions = [secondaryLocation, location]

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

// ---------------------------------------------------------------------------------------------------------------------
// Identity and monitoring (native modules with the parameters and outputs of the AVM modules the azd templates use)
// ---------------------------------------------------------------------------------------------------------------------

module appIdentity 'app/identity.bicep' = {
  name: 'appIdentity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module logAnalytics 'app/log-analytics.bicep' = {
  name: 'logAnalytics'
  scope: rg
  params: {
    name: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    location: location
    tags: tags
    dataRetention: logAnalyticsRetentionDays
  }
}

module appInsights 'app/app-insights.bicep' = {
  name: 'appInsights'
  scope: rg
  params: {
    name: appInsightsName
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    disableLocalAuth: true // Entra ID ingestion only: APPLICATIONINSIGHTS_AUTHENTICATION_STRING + Monitoring Metrics Publisher
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Data services
// ---------------------------------------------------------------------------------------------------------------------

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: storageAccountName
    location: location
    tags: tags
    skuName: storageSkuName
    deploymentContainerName: deploymentStorageContainerName
    deadLetterContainerName: deadLetterContainerName
    retentionDays: retentionDays
    softDeleteRetentionDays: blobSoftDeleteRetentionDays
    vnetEnabled: vnetEnabled
    logAnalyticsWorkspaceId: logAnalytics.outputs.resourceId
  }
}

module analyticsStorage 'app/analytics-storage.bicep' = {
  name: 'analyticsStorage'
  scope: rg
  params: {
    name: analyticsStorageAccountName
    location: location
    tags: tags
    skuName: storageSkuName
    containerName: analyticsContainerName
    vnetEnabled: vnetEnabled
  }
}

module cosmos 'app/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: cosmosAccountName
    location: location
    tags: tags
    databaseName: cosmosDatabaseName
    zoneRedundant: zoneRedundant
    secondaryLocation: secondaryLocation
    secondaryZoneRedundant: cosmosSecondaryZoneRedundant
    activeRegion: activeRegion
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    vnetEnabled: vnetEnabled
    allowedSubnetIds: vnetEnabled && secondaryEnabled ? [standbyVnet!.outputs.appSubnetId] : []
  }
}

module eventHubs 'app/eventhubs.bicep' = {
  name: 'eventHubs'
  scope: rg
  params: {
    name: eventHubsNamespaceName
    location: location
    secondaryLocation: secondaryLocation
    activeRegion: activeRegion
    tags: tags
    skuName: eventHubsSku
    capacity: eventHubsCapacity
    zoneRedundant: zoneRedundant
    eventHubName: eventHubName
    partitionCount: eventHubPartitionCount
    retentionDays: min(eventHubRetentionDays, retentionDays)
    consumerGroupName: eventHubConsumerGroup
    vnetEnabled: vnetEnabled
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Networking (optional)
// ---------------------------------------------------------------------------------------------------------------------

module vnet 'app/vnet.bicep' = if (vnetEnabled) {
  name: 'vnet'
  scope: rg
  params: {
    name: '${abbrs.networkVirtualNetworks}${resourceToken}'
    location: location
    tags: tags
    addressPrefix: vnetAddressPrefix
    appSubnetPrefix: appSubnetPrefix
    privateEndpointSubnetPrefix: privateEndpointSubnetPrefix
    gatewaySubnetPrefix: dataCentreVpnEnabled ? gatewaySubnetPrefix : ''
    dnsResolverSubnetPrefix: dataCentreDnsResolverEnabled ? dnsResolverSubnetPrefix : ''
  }
}

// The path from the data centre (infra/README.md, "From the data centre"): VPN gateway and DNS resolver, both optional.
module vpnGateway 'app/vpn-gateway.bicep' = if (vnetEnabled && dataCentreVpnEnabled) {
  name: 'vpnGateway'
  scope: rg
  params: {
    location: location
    tags: tags
    nameSuffix: resourceToken
    gatewaySubnetId: vnet!.outputs.gatewaySubnetId
    zoneRedundant: zoneRedundant
    dataCentreVpnDeviceIp: dataCentreVpnDeviceIp
    dataCentreAddressPrefixes: dataCentreAddressPrefixes
    sharedKey: dataCentreVpnSharedKey
  }
}

module dnsResolver 'app/dns-resolver.bicep' = if (vnetEnabled && dataCentreDnsResolverEnabled) {
  name: 'dnsResolver'
  scope: rg
  params: {
    location: location
    tags: tags
    nameSuffix: resourceToken
    virtualNetworkId: vnet!.outputs.vnetId
    inboundSubnetId: vnet!.outputs.dnsResolverSubnetId
  }
}

module privateEndpoints 'app/private-endpoints.bicep' = if (vnetEnabled) {
  name: 'privateEndpoints'
  scope: rg
  params: {
    location: location
    tags: tags
    nameSuffix: resourceToken
    virtualNetworkId: vnet!.outputs.vnetId
    subnetId: vnet!.outputs.privateEndpointSubnetId
    storageAccountId: storage.outputs.id
    cosmosAccountId: cosmos.outputs.id
    eventHubsNamespaceId: eventHubs.outputs.id
    analyticsStorageAccountId: analyticsStorage.outputs.id
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Compute
// ---------------------------------------------------------------------------------------------------------------------

module functionApp 'app/function-app.bicep' = {
  name: 'functionApp'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    standby: activeRegion != 'primary'
    zoneRedundant: zoneRedundant
    instanceMemoryMB: functionInstanceMemoryMB
    maximumInstanceCount: functionMaximumInstanceCount
    durableAlwaysReadyInstances: activeRegion == 'primary' ? durableAlwaysReadyInstances : 0
    identityId: appIdentity.outputs.resourceId
    identityClientId: appIdentity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.primaryBlobEndpoint
    deploymentContainerName: deploymentStorageContainerName
    applicationInsightsConnectionString: appInsights.outputs.connectionString
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    cosmosPreferredRegions: primaryRegions
    eventHubsFullyQualifiedNamespace: eventHubs.outputs.fullyQualifiedNamespace
    eventHubName: eventHubs.outputs.eventHubName
    eventHubConsumerGroup: eventHubs.outputs.consumerGroupName
    imageEngine: imageEngine
    maxUploadBytes: maxUploadBytes
    maxImagePixels: maxImagePixels
    callbackAllowedHosts: callbackAllowedHosts
    continuationTokenKey: continuationTokenKey
    batchReceiveTimeoutSeconds: batchReceiveTimeoutSeconds
    retentionDays: retentionDays
    analyticsBlobEndpoint: analyticsStorage.outputs.blobEndpoint
    duplicateHashDistance: duplicateHashDistance
    authClientId: authClientId
    ownerHashSalt: ownerHashSalt
    uploadRatePerMinute: uploadRatePerMinute
    uploadBytesPerDay: uploadBytesPerDay
    virtualNetworkSubnetId: vnetEnabled ? vnet!.outputs.appSubnetId : ''
  }
  dependsOn: [
    rbac // the host needs its storage roles before it starts, or the first deployment fails to find AzureWebJobsStorage
  ]
}

// ---------------------------------------------------------------------------------------------------------------------
// RBAC: identity-based connections only, no keys anywhere
// ---------------------------------------------------------------------------------------------------------------------

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    appPrincipalId: appIdentity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
    // Names known when the deployment starts (not module outputs), so that what-if can predict the role assignments.
    storageAccountName: storageAccountName
    cosmosAccountName: cosmosAccountName
    eventHubsNamespaceName: eventHubsNamespaceName
    eventHubsSecondaryNamespaceName: eventHubsSecondaryNamespaceName
    applicationInsightsName: appInsightsName
    analyticsStorageAccountName: analyticsStorageAccountName
  }
  dependsOn: [
    storage
    analyticsStorage
    cosmos
    eventHubs
    appInsights
  ]
}

// Batch producers outside the app: send to the hub, write to batches/ (nothing wider).
module producerRbac 'app/producer-rbac.bicep' = {
  name: 'producerRbac'
  scope: rg
  params: {
    principalIds: producerPrincipalIds
    // Names known when the deployment starts (not module outputs), so that what-if can predict the role assignments.
    eventHubsNamespaceName: eventHubsNamespaceName
    eventHubName: eventHubName
    scopeToHub: activeRegion == 'primary' || !secondaryEnabled
    storageAccountName: storageAccountName
    batchesContainerName: 'batches'
  }
  dependsOn: [
    storage
    eventHubs
  ]
}

// Analysts read the exports and (Fabric mirroring) the facts container; nothing else.
module analystRbac 'app/analyst-rbac.bicep' = if (!empty(analystsGroupObjectId)) {
  name: 'analystRbac'
  scope: rg
  params: {
    analystsGroupObjectId: analystsGroupObjectId
    // Names known when the deployment starts (not module outputs), so that what-if can predict the role assignments.
    analyticsStorageAccountName: analyticsStorageAccountName
    analyticsContainerName: analyticsContainerName
    cosmosAccountName: cosmosAccountName
    cosmosDatabaseName: cosmosDatabaseName
    factsContainerName: 'facts'
  }
  dependsOn: [
    analyticsStorage
    cosmos
  ]
}

// ---------------------------------------------------------------------------------------------------------------------
// Blob events: Event Grid system topic on the storage account (as in the azd Event Grid blob-trigger sample)
// ---------------------------------------------------------------------------------------------------------------------

module blobSystemTopic 'app/event-grid-system-topic.bicep' = {
  name: 'blobSystemTopic'
  scope: rg
  params: {
    name: blobSystemTopicName
    location: location
    tags: tags
    source: storage.outputs.id
    topicType: 'Microsoft.Storage.StorageAccounts'
    deadLetterStorageAccountName: storageAccountName
    deadLetterContainerName: deadLetterContainerName
  }
}

// Optional Bicep path for the subscription (the azd postdeploy hook infra/scripts/postdeploy.sh does the same with az CLI).
module blobEventSubscription 'app/blob-event-subscription.bicep' = if (createBlobEventSubscription) {
  name: 'blobEventSubscription'
  scope: rg
  params: {
    systemTopicName: blobSystemTopicName
    functionAppName: functionAppName
    functionName: 'processUpload'
    containerName: storage.outputs.uploadsContainerName
    deadLetterStorageAccountId: storage.outputs.id
    deadLetterContainerName: deadLetterContainerName
  }
  dependsOn: [
    blobSystemTopic
    functionApp
  ]
}

// ---------------------------------------------------------------------------------------------------------------------
// The secondary region (secondaryLocation): a standby stamp that can take over. Its app runs the same code on its own
// storage (host, Durable task hub, uploads, derivatives) and telemetry; it shares the Cosmos DB account (a region of
// it) and the Event Hubs alias. While the primary is active its batch ingest and maintenance jobs are off.
// ---------------------------------------------------------------------------------------------------------------------

module standbyIdentity 'app/identity.bicep' = if (secondaryEnabled) {
  name: 'standbyIdentity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}-standby'
    location: secondaryLocation
    tags: tags
  }
}

module standbyLogAnalytics 'app/log-analytics.bicep' = if (secondaryEnabled) {
  name: 'standbyLogAnalytics'
  scope: rg
  params: {
    name: '${abbrs.operationalInsightsWorkspaces}${resourceToken}-standby'
    location: secondaryLocation
    tags: tags
    dataRetention: logAnalyticsRetentionDays
  }
}

module standbyAppInsights 'app/app-insights.bicep' = if (secondaryEnabled) {
  name: 'standbyAppInsights'
  scope: rg
  params: {
    name: standbyAppInsightsName
    location: secondaryLocation
    tags: tags
    workspaceResourceId: standbyLogAnalytics!.outputs.resourceId
    disableLocalAuth: true
  }
}

module standbyStorage 'app/storage.bicep' = if (secondaryEnabled) {
  name: 'standbyStorage'
  scope: rg
  params: {
    name: standbyStorageAccountName
    location: secondaryLocation
    tags: tags
    skuName: 'Standard_ZRS' // region A's account is the geo-redundant one; B holds what B processes while active
    deploymentContainerName: standbyDeploymentContainerName
    deadLetterContainerName: deadLetterContainerName
    retentionDays: retentionDays
    softDeleteRetentionDays: blobSoftDeleteRetentionDays
    vnetEnabled: vnetEnabled
    logAnalyticsWorkspaceId: standbyLogAnalytics!.outputs.resourceId
  }
}

module standbyVnet 'app/vnet.bicep' = if (vnetEnabled && secondaryEnabled) {
  name: 'standbyVnet'
  scope: rg
  params: {
    name: '${abbrs.networkVirtualNetworks}${resourceToken}-standby'
    location: secondaryLocation
    tags: tags
    addressPrefix: secondaryVnetAddressPrefix
    appSubnetPrefix: secondaryAppSubnetPrefix
    privateEndpointSubnetPrefix: secondaryPrivateEndpointSubnetPrefix
    appSubnetServiceEndpoints: [
      'Microsoft.AzureCosmosDB'
    ]
  }
}

module standbyPrivateEndpoints 'app/private-endpoints.bicep' = if (vnetEnabled && secondaryEnabled) {
  name: 'standbyPrivateEndpoints'
  scope: rg
  params: {
    location: secondaryLocation
    tags: tags
    nameSuffix: '${resourceToken}-standby'
    virtualNetworkId: standbyVnet!.outputs.vnetId
    subnetId: standbyVnet!.outputs.privateEndpointSubnetId
    storageAccountId: standbyStorage!.outputs.id
    cosmosAccountId: '' // through the app subnet's service endpoint (cosmos.bicep allowedSubnetIds)
    eventHubsNamespaceId: eventHubs.outputs.secondaryId
    createZones: false
  }
  dependsOn: [
    privateEndpoints // creates the private DNS zones this links to
  ]
}

module standbyFunctionApp 'app/function-app.bicep' = if (secondaryEnabled) {
  name: 'standbyFunctionApp'
  scope: rg
  params: {
    name: standbyFunctionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}-standby'
    location: secondaryLocation
    tags: tags
    serviceName: 'api-standby'
    standby: activeRegion != 'secondary'
    zoneRedundant: zoneRedundant
    instanceMemoryMB: functionInstanceMemoryMB
    maximumInstanceCount: functionMaximumInstanceCount
    durableAlwaysReadyInstances: activeRegion == 'secondary' ? durableAlwaysReadyInstances : 0 // scales to zero while standing by
    identityId: standbyIdentity!.outputs.resourceId
    identityClientId: standbyIdentity!.outputs.clientId
    storageAccountName: standbyStorage!.outputs.name
    storageBlobEndpoint: standbyStorage!.outputs.primaryBlobEndpoint
    deploymentContainerName: standbyDeploymentContainerName
    applicationInsightsConnectionString: standbyAppInsights!.outputs.connectionString
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    cosmosPreferredRegions: standbyRegions
    eventHubsFullyQualifiedNamespace: eventHubs.outputs.fullyQualifiedNamespace
    eventHubName: eventHubs.outputs.eventHubName
    eventHubConsumerGroup: eventHubs.outputs.consumerGroupName
    imageEngine: imageEngine
    maxUploadBytes: maxUploadBytes
    maxImagePixels: maxImagePixels
    callbackAllowedHosts: callbackAllowedHosts
    continuationTokenKey: continuationTokenKey
    batchReceiveTimeoutSeconds: batchReceiveTimeoutSeconds
    retentionDays: retentionDays
    analyticsBlobEndpoint: analyticsStorage.outputs.blobEndpoint
    duplicateHashDistance: duplicateHashDistance
    authClientId: authClientId
    ownerHashSalt: ownerHashSalt
    uploadRatePerMinute: uploadRatePerMinute
    uploadBytesPerDay: uploadBytesPerDay
    virtualNetworkSubnetId: vnetEnabled ? standbyVnet!.outputs.appSubnetId : ''
  }
  dependsOn: [
    standbyRbac
  ]
}

module standbyRbac 'app/rbac.bicep' = if (secondaryEnabled) {
  name: 'standbyRbac'
  scope: rg
  params: {
    appPrincipalId: standbyIdentity!.outputs.principalId
    userPrincipalId: '' // the deployer's roles are on the primary stamp (rbac above)
    userPrincipalType: principalType
    storageAccountName: standbyStorageAccountName
    cosmosAccountName: cosmosAccountName
    eventHubsNamespaceName: eventHubsNamespaceName
    eventHubsSecondaryNamespaceName: eventHubsSecondaryNamespaceName
    applicationInsightsName: standbyAppInsightsName
    analyticsStorageAccountName: analyticsStorageAccountName // one analytics account: the standby exports to it after a failover
  }
  dependsOn: [
    standbyStorage
    analyticsStorage
    cosmos
    eventHubs
    standbyAppInsights
  ]
}

// Producers keep working after a failover: Data Sender on the secondary namespace and the standby's batches container.
module standbyProducerRbac 'app/producer-rbac.bicep' = if (secondaryEnabled) {
  name: 'standbyProducerRbac'
  scope: rg
  params: {
    principalIds: producerPrincipalIds
    eventHubsNamespaceName: eventHubsSecondaryNamespaceName
    eventHubName: eventHubName
    scopeToHub: activeRegion == 'secondary'
    storageAccountName: standbyStorageAccountName
    batchesContainerName: 'batches'
  }
  dependsOn: [
    standbyStorage
    eventHubs
  ]
}

module standbyBlobSystemTopic 'app/event-grid-system-topic.bicep' = if (secondaryEnabled) {
  name: 'standbyBlobSystemTopic'
  scope: rg
  params: {
    name: standbyBlobSystemTopicName
    location: secondaryLocation
    tags: tags
    source: standbyStorage!.outputs.id
    topicType: 'Microsoft.Storage.StorageAccounts'
    deadLetterStorageAccountName: standbyStorageAccountName
    deadLetterContainerName: deadLetterContainerName
  }
}

module standbyBlobEventSubscription 'app/blob-event-subscription.bicep' = if (secondaryEnabled && createBlobEventSubscription) {
  name: 'standbyBlobEventSubscription'
  scope: rg
  params: {
    systemTopicName: standbyBlobSystemTopicName
    functionAppName: standbyFunctionAppName
    functionName: 'processUpload'
    containerName: storage.outputs.uploadsContainerName
    deadLetterStorageAccountId: standbyStorage!.outputs.id
    deadLetterContainerName: deadLetterContainerName
  }
  dependsOn: [
    standbyBlobSystemTopic
    standbyFunctionApp
  ]
}

// The on-premises backup server reads Cosmos DB (image-pipeline backup); nothing else.
module backupRbac 'app/backup-rbac.bicep' = {
  name: 'backupRbac'
  scope: rg
  params: {
    principalIds: backupPrincipalIds
    cosmosAccountName: cosmosAccountName
  }
  dependsOn: [
    cosmos
  ]
}

// ---------------------------------------------------------------------------------------------------------------------
// Alerts
// ---------------------------------------------------------------------------------------------------------------------

module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    nameSuffix: resourceToken
    applicationInsightsId: appInsights.outputs.resourceId
    logAnalyticsWorkspaceId: logAnalytics.outputs.resourceId
    alertEmail: alertEmail
    failedProcessingMinCount: failedProcessingMinCount
    failedProcessingRatePercent: failedProcessingRatePercent
  }
  dependsOn: [
    storage // the poison-queue alert reads StorageQueueLogs, which the storage module's diagnostic setting creates
  ]
}

// The app's metrics (OpenTelemetry, in Application Insights) charted in a workbook.
module workbook 'app/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    location: location
    tags: tags
    applicationInsightsId: appInsights.outputs.resourceId
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Outputs (azd writes them to .azure/<env>/.env; the postdeploy hook reads them)
// ---------------------------------------------------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_BASE_URL string = functionApp.outputs.baseUrl
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output UPLOADS_CONTAINER_NAME string = storage.outputs.uploadsContainerName
output DEAD_LETTER_CONTAINER_NAME string = deadLetterContainerName
output BLOB_SYSTEM_TOPIC_NAME string = blobSystemTopic.outputs.name
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output COSMOS_DATABASE string = cosmos.outputs.databaseName
output EVENTHUB_FULLY_QUALIFIED_NAMESPACE string = eventHubs.outputs.fullyQualifiedNamespace
output EVENTHUB_NAME string = eventHubs.outputs.eventHubName
output APPLICATIONINSIGHTS_CONNECTION_STRING string = appInsights.outputs.connectionString
output BATCHES_CONTAINER_NAME string = storage.outputs.batchesContainerName
output ANALYTICS_STORAGE_ACCOUNT_NAME string = analyticsStorage.outputs.name
output ANALYTICS_DFS_ENDPOINT string = analyticsStorage.outputs.dfsEndpoint
// Machine clients (the CLI, the bridge, the smoke test) ask Entra ID for a token for this scope (--api-scope)
output IMAGE_PIPELINE_API_SCOPE string = empty(authClientId) ? '' : 'api://${authClientId}/.default'
output DATA_CENTRE_VPN_GATEWAY_IP string = vnetEnabled && dataCentreVpnEnabled ? vpnGateway!.outputs.gatewayPublicIp : ''
output COSMOS_ACCOUNT_NAME string = cosmos.outputs.name
output EVENTHUB_NAMESPACE string = eventHubs.outputs.name
output EVENTHUB_SECONDARY_NAMESPACE string = eventHubs.outputs.secondaryNamespaceName
output EVENTHUB_ALIAS string = eventHubs.outputs.geoDrAliasName
output AZURE_SECONDARY_LOCATION string = secondaryLocation
output AZURE_STANDBY_FUNCTION_APP_NAME string = secondaryEnabled ? standbyFunctionApp!.outputs.name : ''
output AZURE_STANDBY_STORAGE_ACCOUNT_NAME string = secondaryEnabled ? standbyStorage!.outputs.name : ''
output STANDBY_BLOB_SYSTEM_TOPIC_NAME string = secondaryEnabled ? standbyBlobSystemTopic!.outputs.name : ''
output STANDBY_API_BASE_URL string = secondaryEnabled ? standbyFunctionApp!.outputs.baseUrl : ''
output DATA_CENTRE_DNS_FORWARD_TO string = vnetEnabled && dataCentreDnsResolverEnabled ? dnsResolver!.outputs.inboundAddress : ''
