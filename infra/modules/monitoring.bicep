// Log Analytics workspace + workspace-based Application Insights with local
// (instrumentation-key) auth disabled: telemetry is accepted only from callers with
// Entra tokens, so the app sends APPLICATIONINSIGHTS_AUTHENTICATION_STRING and its
// identity holds Monitoring Metrics Publisher on the component.
import { builtInRoles } from 'roles.bicep'

param workspaceName string
param appInsightsName string
param location string
param tags object

@description('Principal id of the app\'s user-assigned managed identity.')
param principalId string

@description('Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 90

@description('Send AVM deployment telemetry to Microsoft.')
param enableTelemetry bool = false

module workspace 'br/public:avm/res/operational-insights/workspace:0.12.0' = {
  name: 'law-${uniqueString(workspaceName)}'
  params: {
    name: workspaceName
    location: location
    tags: tags
    skuName: 'PerGB2018'
    dataRetention: retentionInDays
    enableTelemetry: enableTelemetry
  }
}

module component 'br/public:avm/res/insights/component:0.6.1' = {
  name: 'appi-${uniqueString(appInsightsName)}'
  params: {
    name: appInsightsName
    location: location
    tags: tags
    kind: 'web'
    applicationType: 'web'
    workspaceResourceId: workspace.outputs.resourceId
    disableLocalAuth: true
    enableTelemetry: enableTelemetry
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// Component scope: the narrowest the role can be granted at.
resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, builtInRoles.monitoringMetricsPublisher)
  scope: appInsights
  dependsOn: [component]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output workspaceId string = workspace.outputs.resourceId
output appInsightsName string = component.outputs.name
// infra-check: not-secret (ingestion endpoint + instrumentation key, an identifier; local auth is disabled, so it cannot send telemetry alone)
output connectionString string = component.outputs.connectionString
