// An Azure Monitor workbook that charts the app's own metrics (src/lib/metrics.ts, exported with OpenTelemetry to
// Application Insights, where they land in customMetrics): images processed and failed by format, processing time,
// batch duration and size, dead letters and retention-sweep deletions. Open it from the Application Insights
// resource (Workbooks) or the resource group.

param location string
param tags object = {}
param applicationInsightsId string
param displayName string = 'Image Pipeline: processing'

// One chart per metric family; `{TimeRange}` is the workbook's time picker. Counters and histograms arrive as
// aggregates per export interval: valueSum is the sum, valueCount the number of measurements, valueMax the largest.
var charts = [
  {
    name: 'images'
    title: 'Images processed and failed, by format'
    visualization: 'timechart'
    query: '''
customMetrics
| where timestamp {TimeRange}
| where name in ("image_pipeline.images.processed", "image_pipeline.images.failed")
| extend outcome = iff(name endswith "failed", "failed", "processed"), format = tostring(customDimensions["format"])
| summarize images = sum(valueSum) by bin(timestamp, {TimeRange:grain}), series = strcat(outcome, " ", format)
| render timechart
'''
  }
  {
    name: 'processing-duration'
    title: 'Processing time per image (ms), by format: mean and largest'
    visualization: 'timechart'
    query: '''
customMetrics
| where timestamp {TimeRange}
| where name == "image_pipeline.image.processing.duration"
| extend format = tostring(customDimensions["format"])
| summarize mean = sum(valueSum) / sum(valueCount), largest = max(valueMax) by bin(timestamp, {TimeRange:grain}), format
| render timechart
'''
  }
  {
    name: 'batch-duration'
    title: 'Batch processing time (s), by how batches ended'
    visualization: 'timechart'
    query: '''
customMetrics
| where timestamp {TimeRange}
| where name == "image_pipeline.batch.duration"
| extend status = tostring(customDimensions["status"])
| summarize mean = sum(valueSum) / sum(valueCount), longest = max(valueMax) by bin(timestamp, {TimeRange:grain}), status
| render timechart
'''
  }
  {
    name: 'batch-items'
    title: 'Items per batch, and batches ended'
    visualization: 'table'
    query: '''
customMetrics
| where timestamp {TimeRange}
| where name == "image_pipeline.batch.items"
| extend status = tostring(customDimensions["status"])
| summarize batches = sum(valueCount), items = sum(valueSum), meanItems = sum(valueSum) / sum(valueCount), largest = max(valueMax) by status
'''
  }
  {
    name: 'dead-letters'
    title: 'Dead-lettered batch records, by kind'
    visualization: 'barchart'
    query: '''
customMetrics
| where timestamp {TimeRange}
| where name == "image_pipeline.dead_letters"
| extend kind = tostring(customDimensions["kind"])
| summarize records = sum(valueSum) by bin(timestamp, {TimeRange:grain}), kind
| render barchart
'''
  }
  {
    name: 'sweep-deletions'
    title: 'Retention sweep deletions, by what was deleted'
    visualization: 'barchart'
    query: '''
customMetrics
| where timestamp {TimeRange}
| where name == "image_pipeline.sweep.deletions"
| extend what = tostring(customDimensions["what"])
| summarize deleted = sum(valueSum) by bin(timestamp, {TimeRange:grain}), what
| render barchart
'''
  }
]

var timeRange = {
  type: 9
  name: 'parameters'
  content: {
    version: 'KqlParameterItem/1.0'
    parameters: [
      {
        id: 'time-range'
        version: 'KqlParameterItem/1.0'
        name: 'TimeRange'
        label: 'Time range'
        type: 4
        isRequired: true
        value: { durationMs: 86400000 }
        typeSettings: {
          selectableValues: [
            { durationMs: 3600000 }
            { durationMs: 86400000 }
            { durationMs: 604800000 }
            { durationMs: 2592000000 }
          ]
        }
      }
    ]
  }
}

var workbookContent = {
  version: 'Notebook/1.0'
  items: concat(
    [timeRange],
    map(charts, chart => {
      type: 3
      name: chart.name
      content: {
        version: 'KqlItem/1.0'
        title: chart.title
        query: chart.query
        size: 0
        queryType: 0
        resourceType: 'microsoft.insights/components'
        visualization: chart.visualization
        timeContextFromParameter: 'TimeRange'
      }
    })
  )
  fallbackResourceIds: [applicationInsightsId]
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID: a stable one, so a redeployment updates it in place.
  name: guid(resourceGroup().id, 'image-pipeline-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsightsId
    serializedData: string(workbookContent)
  }
}

output id string = workbook.id
