// Workspace-based Application Insights (native, in place of the AVM module avm/res/insights/component, so that the
// template compiles without the public module registry). Outputs are named as the AVM module's.

param name string
param location string
param tags object = {}
param workspaceResourceId string

@description('Entra ID ingestion only: the app sends with APPLICATIONINSIGHTS_AUTHENTICATION_STRING and the Monitoring Metrics Publisher role.')
param disableLocalAuth bool

resource component 'Microsoft.Insights/components@2020-02-02' = {
  name: name
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspaceResourceId
    DisableLocalAuth: disableLocalAuth
  }
}

output resourceId string = component.id
output name string = component.name
output connectionString string = component.properties.ConnectionString
