// Logs and telemetry: a Log Analytics workspace and a workspace-based Application Insights.

@description('Location of the workspace and the Application Insights component.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Suffix that makes resource names unique.')
param resourceToken string

@description('Days logs are kept.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Entra ID ingestion only: the instrumentation key in the connection string admits nothing.
    DisableLocalAuth: true
  }
}

output applicationInsightsName string = appInsights.name
output applicationInsightsId string = appInsights.id
// Not a secret, local auth being off: it names where telemetry goes; the host signs in with
// its identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING) to send it.
output applicationInsightsConnectionString string = appInsights.properties.ConnectionString
