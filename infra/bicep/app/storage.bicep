// Storage account for the app data (uploads, derivatives, batch manifests), the Functions host and Durable Functions
// task hub (AzureWebJobsStorage: blobs, queues, tables) and the Flex Consumption deployment package.
// Native resources instead of the AVM storage module: the privacy guarantees (lifecycle rule, soft-delete window, no
// versioning) are asserted by test/infra and are easiest to keep exact when they are written out here.

param name string
param location string
param tags object = {}

@allowed([
  'Standard_ZRS'
  'Standard_RAGZRS'
])
param skuName string

@description('Flex Consumption deployment package container.')
param deploymentContainerName string

@description('Container where Event Grid writes BlobCreated events it could not deliver (dead-lettering), for a replay.')
param deadLetterContainerName string

@description('RETENTION_DAYS: nothing of an image may be kept longer.')
@minValue(3)
@maxValue(7)
param retentionDays int

@minValue(0)
@maxValue(1)
param softDeleteRetentionDays int

param vnetEnabled bool
param logAnalyticsWorkspaceId string

// Container names mirror the code: uploads (incoming images, blob trigger source), derived (derivatives),
// batches (batch manifests), deadletter (batch records that could not be stored or placed in a batch).
// test/infra checks them against the code.
var appContainerNames = [
  'uploads'
  'derived'
  'batches'
  'deadletter'
]

// Everything that holds image bytes or names: every app container (originals, batch items, derivatives, dead letters
// with their records' values and headers), the Event Grid events that could not be delivered (they name the uploaded
// blobs), and the blob trigger's receipts (named after the blobs they stand for).
// test/infra checks that every container of appContainerNames is here.
var retainedPrefixes = [
  'uploads/'
  'derived/'
  'batches/'
  'deadletter/'
  '${deadLetterContainerName}/'
  'azure-webjobs-hosts/blobreceipts/'
]

// The backstop to the app's own hourly retention sweep, with a margin: a blob becomes eligible once it is older than
// this many days, lifecycle management may take up to 2 days to act on it (infra/README.md, "Retention in storage"),
// and soft delete keeps it recoverable for softDeleteRetentionDays more; together within retentionDays.
var lifecycleRunDelayDays = 2
var lifecycleDeleteAfterDays = retentionDays - lifecycleRunDelayDays - softDeleteRetentionDays

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // Entra ID only; the app and the host use the user-assigned identity
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    dnsEndpointType: 'Standard'
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: vnetEnabled ? 'Deny' : 'Allow'
      bypass: 'AzureServices' // Event Grid system topic and Azure Monitor keep working with the firewall closed
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    // No versioning, no change feed: a lifecycle delete must really delete, not turn the blob into a previous version.
    isVersioningEnabled: false
    changeFeed: {
      enabled: false
    }
    // Soft delete keeps a deleted blob for at most 1 day (or not at all), counted into the lifecycle rule's margin.
    deleteRetentionPolicy: softDeleteRetentionDays > 0
      ? {
          enabled: true
          days: max(softDeleteRetentionDays, 1) // = softDeleteRetentionDays here; max() tells the type checker it is >= 1
        }
      : {
          enabled: false
        }
    containerDeleteRetentionPolicy: softDeleteRetentionDays > 0
      ? {
          enabled: true
          days: max(softDeleteRetentionDays, 1) // = softDeleteRetentionDays here; max() tells the type checker it is >= 1
        }
      : {
          enabled: false
        }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in concat(appContainerNames, [deploymentContainerName, deadLetterContainerName]): {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

// Counted from creation, never from the last modification or access, for base blobs, snapshots and versions alike.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'privacy-retention'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
                'appendBlob'
              ]
              prefixMatch: retainedPrefixes
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: lifecycleDeleteAfterDays
                }
              }
              snapshot: {
                delete: {
                  daysAfterCreationGreaterThan: lifecycleDeleteAfterDays
                }
              }
              version: {
                delete: {
                  daysAfterCreationGreaterThan: lifecycleDeleteAfterDays
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    containers
  ]
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

// Queue write logs feed the poison-message alert (PutMessage on webjobs-blobtrigger-poison). Only StorageWrite:
// reads and deletes (the bulk of Durable Functions queue traffic) are not collected.
resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'queue-writes-to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'StorageWrite'
        enabled: true
      }
    ]
  }
}

output id string = storage.id
output name string = storage.name
output primaryBlobEndpoint string = storage.properties.primaryEndpoints.blob
output uploadsContainerName string = appContainerNames[0]
output batchesContainerName string = appContainerNames[2]
