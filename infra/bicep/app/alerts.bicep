// Alerts: (a) failed image processing rate, (b) blob-trigger poison messages. Optional e-mail action group.

param location string
param tags object = {}
param nameSuffix string
param applicationInsightsId string
param logAnalyticsWorkspaceId string

@description('Empty string: no action group; the alerts still fire and show in Azure Monitor.')
param alertEmail string = ''
param failedProcessingMinCount int
param failedProcessingRatePercent int

var hasEmail = !empty(alertEmail)

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (hasEmail) {
  name: 'ag-image-pipeline-${nameSuffix}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'imgpipeline'
    enabled: true
    emailReceivers: [
      {
        name: 'on-call'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var actions = {
  actionGroups: hasEmail ? [actionGroup.id] : []
}

// (a) The app logs one trace containing "image processing failed" per failed image, from the blob trigger
// (processUpload) and the batch activity (batchProcessItem) alike; their invocations are the requests. Fires when,
// within 15 minutes, at least failedProcessingMinCount images failed and they are at least
// failedProcessingRatePercent % of those invocations.
var failedProcessingQuery = '''
let failedCount = toscalar(traces | where message has "image processing failed" | count);
let invocationCount = toscalar(requests | where operation_Name in~ ("processUpload", "batchProcessItem") or name in~ ("processUpload", "batchProcessItem") | count);
print failed = failedCount, invocations = invocationCount
| extend failureRatePercent = iff(invocations == 0, 100.0, 100.0 * failed / invocations)
| where failed >= MIN_COUNT and failureRatePercent >= RATE_PERCENT
'''

resource failedProcessingAlert 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = {
  name: 'alert-failed-processing-${nameSuffix}'
  location: location
  tags: tags
  properties: {
    displayName: 'Image Pipeline: failed image processing rate'
    description: 'Traces "image processing failed" reached ${failedProcessingMinCount} and ${failedProcessingRatePercent}% of processUpload and batchProcessItem invocations in 15 minutes.'
    severity: 2
    enabled: true
    scopes: [
      applicationInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: replace(
            replace(failedProcessingQuery, 'MIN_COUNT', string(failedProcessingMinCount)),
            'RATE_PERCENT',
            string(failedProcessingRatePercent)
          )
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: actions
  }
}

// (b) After 5 failed attempts the blob trigger puts a message on the queue webjobs-blobtrigger-poison in the host
// storage account (AzureWebJobsStorage). Storage queue metrics are per account, not per queue (and Durable Functions
// queues share the account), so a metric alert cannot single the poison queue out; instead the storage module sends
// queue write logs to Log Analytics and this alert fires on any PutMessage to the poison queue.
var poisonQuery = '''
StorageQueueLogs
| where OperationName == "PutMessage"
| where Uri has "/webjobs-blobtrigger-poison/"
'''

resource poisonMessageAlert 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = {
  name: 'alert-poison-messages-${nameSuffix}'
  location: location
  tags: tags
  properties: {
    displayName: 'Image Pipeline: blob trigger poison messages'
    description: 'A blob could not be processed after 5 attempts and was moved to the webjobs-blobtrigger-poison queue.'
    severity: 1
    enabled: true
    scopes: [
      logAnalyticsWorkspaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: poisonQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: actions
  }
}
