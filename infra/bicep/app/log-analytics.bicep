// Log Analytics workspace (native, in place of the AVM module avm/res/operational-insights/workspace, so that the
// template compiles without the public module registry). Outputs are named as the AVM module's.

param name string
param location string
param tags object = {}

@minValue(30)
@maxValue(730)
param dataRetention int

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: dataRetention
  }
}

output resourceId string = workspace.id
output name string = workspace.name
