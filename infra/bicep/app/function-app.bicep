// Flex Consumption (FC1) function app, Node 22, user-assigned identity, identity-based connections only.
// Native resources (not the AVM web/site module) so that functionAppConfig (alwaysReady, runtime, deployment storage)
// and the app settings are written out literally; test/infra reads the app settings object below and checks it against
// APP_SETTINGS in src/lib/config.ts.

param name string
param planName string
param location string
param tags object = {}
@description('azd service this app is deployed as (azure.yaml): api; the standby app is deployed by the postdeploy hook.')
param serviceName string = 'api'
@description('The app in the region that is not active: its batch ingest and its maintenance jobs stay off, so two regions never process the same batches. HTTP and the blob trigger (its own storage\'s events only) run.')
param standby bool = false
param zoneRedundant bool
param instanceMemoryMB int
param maximumInstanceCount int
param durableAlwaysReadyInstances int
param identityId string
param identityClientId string
param storageAccountName string
param storageBlobEndpoint string
param deploymentContainerName string
@secure()
param applicationInsightsConnectionString string
param cosmosEndpoint string
param cosmosDatabaseName string
@description('COSMOS_PREFERRED_REGIONS: the app\'s own region first, so it reads from the replica next to it.')
param cosmosPreferredRegions array
param eventHubsFullyQualifiedNamespace string
param eventHubName string
param eventHubConsumerGroup string
param imageEngine string
param maxUploadBytes int
param maxImagePixels int
param callbackAllowedHosts string
@secure()
param continuationTokenKey string
param batchReceiveTimeoutSeconds int
@minValue(1)
@maxValue(7)
param retentionDays int
param analyticsBlobEndpoint string
param duplicateHashDistance int
@description('Application (client) id of the Entra ID app registration for sign-in; empty: no App Service Authentication, and the app serves nobody (AUTH_MODE=easyauth trusts no caller without it).')
param authClientId string
@secure()
param ownerHashSalt string
param uploadRatePerMinute int
param uploadBytesPerDay int
param virtualNetworkSubnetId string = ''

// 'durable' is the per-function scaling group of all Durable Functions triggers (orchestration, activity, entity).
var alwaysReady = durableAlwaysReadyInstances > 0
  ? [
      {
        name: 'durable'
        instanceCount: durableAlwaysReadyInstances
      }
    ]
  : []

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
    zoneRedundant: zoneRedundant
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: alwaysReady
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// Every setting the code reads with scope 'azure' in src/lib/config.ts, identity-based where it is a connection,
// plus a few host-level settings. No connection strings with secrets, no service keys (the one secret is the app's own
// continuation token signing key).
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: {
    // Host storage, Durable Functions task hub, blob trigger and the app's own blob client
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    // Cosmos DB
    COSMOS_CONNECTION__accountEndpoint: cosmosEndpoint
    COSMOS_CONNECTION__credential: 'managedidentity'
    COSMOS_CONNECTION__clientId: identityClientId
    COSMOS_DATABASE: cosmosDatabaseName
    COSMOS_PREFERRED_REGIONS: join(cosmosPreferredRegions, ',')
    // Event Hubs
    EVENTHUB_CONNECTION__fullyQualifiedNamespace: eventHubsFullyQualifiedNamespace
    EVENTHUB_CONNECTION__credential: 'managedidentity'
    EVENTHUB_CONNECTION__clientId: identityClientId
    EVENTHUB_NAME: eventHubName
    EVENTHUB_CONSUMER_GROUP: eventHubConsumerGroup
    // Processing limits
    IMAGE_ENGINE: imageEngine
    MAX_UPLOAD_BYTES: string(maxUploadBytes)
    MAX_IMAGE_PIXELS: string(maxImagePixels)
    BLOB_TRIGGER_SOURCE: 'EventGrid'
    // Batch callbacks and listing tokens
    CALLBACK_ALLOWED_HOSTS: callbackAllowedHosts
    CONTINUATION_TOKEN_KEY: continuationTokenKey
    // Batches: seconds without a record before a receiving batch is closed and processed with what arrived
    BATCH_RECEIVE_TIMEOUT: string(batchReceiveTimeoutSeconds)
    // The privacy policy: days an image and its personal metadata are kept (the app's hourly retention sweep; backups are pruned to it)
    RETENTION_DAYS: string(retentionDays)
    // Analytics: the Parquet exports' Data Lake account, and the near-duplicate distance
    ANALYTICS_STORAGE__blobServiceUri: analyticsBlobEndpoint
    ANALYTICS_STORAGE__credential: 'managedidentity'
    ANALYTICS_STORAGE__clientId: identityClientId
    DUPLICATE_HASH_DISTANCE: string(duplicateHashDistance)
    // Users: the principal App Service Authentication injects (believed only while WEBSITE_AUTH_ENABLED, which the
    // platform sets, says it is on), the owner hash of analytics facts, per-user upload limits
    AUTH_MODE: 'easyauth'
    OWNER_HASH_SALT: ownerHashSalt
    UPLOAD_RATE_PER_MINUTE: string(uploadRatePerMinute)
    UPLOAD_BYTES_PER_DAY: string(uploadBytesPerDay)
    // Easy Auth signs in with the app's managed identity as a federated credential of the app registration: no secret
    OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: identityClientId
    // Host level: Entra-authenticated telemetry, default identity for DefaultAzureCredential
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    AZURE_CLIENT_ID: identityClientId
    // Host level: the largest request body the Functions host passes on (its default is 100 MB). Above the web batch
    // limit of 200 MiB, which the app checks itself while it streams the body (HTTP streams, src/functions/http.ts)
    FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '220200960'
    // Host level: the triggers only the active region runs (infra/scripts/failover.sh flips them)
    'AzureWebJobs.ingestBatchRecords.Disabled': standby ? 'true' : 'false'
    'AzureWebJobs.maintenance.Disabled': standby ? 'true' : 'false'
  }
}

// App Service Authentication (Easy Auth) with Entra ID in front of the app. API requests without a valid session or
// token are answered 401 by Easy Auth itself; the web pages (which hold no data) pass through unsigned, and the app
// sends a browser that is not signed in to /.auth/login/aad, so it comes back to the page it asked for. The blob
// extension's webhook (Event Grid's BlobCreated deliveries, which carry no Entra token) is protected by its system key.
// Easy Auth replaces any X-MS-CLIENT-PRINCIPAL a client sends with the principal it validated: what the app authorises
// by (src/lib/api/access.ts). The session cookie carries the sign-in; no provider tokens are kept (no token store).
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(authClientId)) {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: [
        '/api/web'
        '/api/web/*'
        '/runtime/webhooks/blobs'
      ]
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
          clientId: authClientId
          clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'
        }
        validation: {
          // Tokens machine clients get for api://<client id>/.default, and the users' ID tokens
          allowedAudiences: [
            authClientId
            'api://${authClientId}'
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
  dependsOn: [
    appSettings // the federated credential's setting must exist when Easy Auth starts
  ]
}

output name string = functionApp.name
output id string = functionApp.id
output baseUrl string = 'https://${functionApp.properties.defaultHostName}'
