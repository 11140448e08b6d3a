// govkit: the council ICT governance function app (Go custom handler on Flex Consumption).
//
// Deploy:  azd up -C infra                (azd reads main.bicepparam)
//   or:    az deployment sub create -l uksouth -f infra/main.bicep -p infra/main.bicepparam
// Needs Bicep >= 0.26 (user-defined functions; compile-time imports in modules/roles.bicep).
//
// Resource API versions, chosen deliberately (newest GA version seen in Microsoft's own
// samples/AVM for each type that has every property used here; no preview versions):
//   Microsoft.Resources/resourceGroups                         2024-03-01
//   Microsoft.Storage/storageAccounts (+ blob/table/queue services, containers, tables, queues)
//                                                              2024-01-01
//   Microsoft.ServiceBus/namespaces (+ queues)                 2024-01-01  first GA version with minimumTlsVersion + disableLocalAuth together
//   Microsoft.KeyVault/vaults (+ secrets)                      2024-11-01
//   Microsoft.Web/serverfarms, sites, sites/config, sites/basicPublishingCredentialsPolicies
//                                                              2024-04-01  has functionAppConfig (Flex); >= 2023-12-01 required
//   Microsoft.Authorization/roleAssignments                    2022-04-01  current GA
//   Microsoft.Insights/components (existing, for RBAC scope)   2020-02-02  current GA
// Azure Verified Modules (pinned; AVM telemetry off by default):
//   br/public:avm/res/managed-identity/user-assigned-identity  0.4.2
//   br/public:avm/res/operational-insights/workspace           0.12.0
//   br/public:avm/res/insights/component                       0.6.1
// Storage, Service Bus, Key Vault and the Flex site are plain resources: the role
// assignments are scoped per queue/vault/component, secrets are conditional, and the
// Flex functionAppConfig shape is easier to review written out than through a module.
//
// Graph and Power BI permissions cannot be granted in Bicep: run
// infra/scripts/grant-graph-permissions.sh once after the first deployment.
targetScope = 'subscription'

// ---------------------------------------------------------------- parameters

@description('Environment name (dev, test, prod): lower-case letters and digits. Used in resource names and the azd-env-name tag.')
@minLength(2)
@maxLength(12)
param environmentName string

@description('Azure region for every resource.')
param location string = 'uksouth'

@description('Resource group to create (or reuse).')
param resourceGroupName string = 'rg-govkit-${environmentName}'

@description('Flex Consumption: instance ceiling (cost cap).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Flex Consumption: memory per instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Client id of the Entra app registration with the app roles (infra/scripts/create-app-registration.sh). Empty turns platform authentication off: only for a throw-away environment.')
param apiClientId string = ''

@description('Power BI workspace (group) id for the push dataset; empty: CSV snapshots only.')
param powerBiWorkspaceId string = ''

@description('Public base URL of the app for links on Teams cards (e.g. https://<app>.azurewebsites.net, or a front door); empty: cards carry no links.')
param publicBaseUrl string = ''

@description('SharePoint lists that feed the registers, as the JSON the SHAREPOINT_LISTS setting takes; empty: none.')
param sharePointLists string = ''

@description('Bank holidays that move subject-request deadlines: england-and-wales, scotland or northern-ireland.')
@allowed(['england-and-wales', 'scotland', 'northern-ireland'])
param bankHolidayDivision string = 'england-and-wales'

@description('Log level for the Go handler (GOVKIT_LOG_LEVEL).')
@allowed(['debug', 'info', 'warn', 'error'])
param logLevel string = 'info'

@description('Microsoft Graph base URL. Change for national clouds (e.g. https://graph.microsoft.us/v1.0).')
param graphBaseUrl string = 'https://graph.microsoft.com/v1.0'

@description('Power BI REST base URL. Change for national clouds.')
param powerBiBaseUrl string = 'https://api.powerbi.com/v1.0/myorg'

@description('Teams notification routes, lower-case kebab (ig-team). Each becomes app setting TEAMS_ROUTE_<NAME> (IG_TEAM), a Key Vault reference to secret teams-route-<name>.')
param teamsRoutes array = []

@secure()
@description('Optional route name -> Teams Workflows webhook URL. Supplied routes are written to Key Vault; otherwise set the secret with az keyvault secret set.')
param teamsWebhookUrls object = {}

@secure()
@description('Optional SharePoint webhook clientState; written to Key Vault when supplied.')
param sharePointClientState string = ''

@description('Object ids allowed to set/rotate secrets in the vault (Key Vault Secrets Officer), e.g. the deploying admin.')
param secretsOfficerPrincipalIds array = []

@description('Grant Azure Service Bus Data Owner on the namespace for accurate scale metrics (see modules/servicebus.bicep).')
param grantServiceBusDataOwner bool = false

@description('Storage replication (Standard_ZRS recommended for prod).')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS'])
param storageSkuName string = 'Standard_LRS'

@description('Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 90

@description('Extra tags for every resource.')
param tags object = {}

// ---------------------------------------------------------------- names and lists

var allTags = union(tags, {
  'azd-env-name': environmentName
  application: 'govkit'
})
var token = toLower(uniqueString(subscription().id, resourceGroupName, environmentName))
var env = toLower(environmentName)

var identityName = 'id-govkit-${env}'
var storageAccountName = take('stgovkit${replace(env, '-', '')}${token}', 24)
var serviceBusName = 'sb-govkit-${env}-${token}'
var keyVaultName = take('kv-govkit-${env}-${token}', 24)
var workspaceName = 'log-govkit-${env}'
var appInsightsName = 'appi-govkit-${env}'
var planName = 'asp-govkit-${env}'
var functionAppName = 'func-govkit-${env}-${token}'

// What the code uses. Add a table/container/queue here and it is created (and the
// identity's role assignments already cover it).
var deploymentContainerName = 'deployment'
var blobContainers = [
  deploymentContainerName // Flex deployment package (written by azd / make deploy)
  'powerbi-feed'
  'teams-outbox'
  'erasure-evidence'
  'run-reports'
  'app-exports' // council-held copies linked to apps (ERASURE_COUNCIL_COPY_PREFIXES)
]
// Every table the code uses (functions/infra_test.go checks this list against the code).
var tableNames = [
  'contracts'
  'contractalerts'
  'notificationledger'
  'teamsdeliveries'
  'cloudapps'
  'cloudappfindings'
  'watermarks'
  'subjectrequests'
  'subjectrequestevents'
  'subjectrequestpeople'
  'subjectrequestcounters'
  'subjectrequestidempotency'
  'sharepointitems'
  'sharepointitemerrors'
  'sharepointwatermarks'
  'powerbifeedruns'
  'powerbischemas'
  'erasurechecks'
  'erasurecheckresults'
  'erasureevidence'
]
var serviceBusQueues = [
  'notifications'
  'sharepoint-changes'
]

// ---------------------------------------------------------------- resources

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: resourceGroupName
  location: location
  tags: allTags
}

module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.2' = {
  name: 'identity'
  scope: rg
  params: {
    name: identityName
    location: location
    tags: allTags
    enableTelemetry: false
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    workspaceName: workspaceName
    appInsightsName: appInsightsName
    location: location
    tags: allTags
    principalId: identity.outputs.principalId
    retentionInDays: logRetentionInDays
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: storageAccountName
    location: location
    tags: allTags
    skuName: storageSkuName
    containerNames: blobContainers
    tableNames: tableNames
    principalId: identity.outputs.principalId
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    name: serviceBusName
    location: location
    tags: allTags
    queueNames: serviceBusQueues
    principalId: identity.outputs.principalId
    grantDataOwnerForScaling: grantServiceBusDataOwner
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: keyVaultName
    location: location
    tags: allTags
    principalId: identity.outputs.principalId
    teamsRoutes: teamsRoutes
    teamsWebhookUrls: teamsWebhookUrls
    sharePointClientState: sharePointClientState
    secretsOfficerPrincipalIds: secretsOfficerPrincipalIds
  }
}

// ---------------------------------------------------------------- app settings
// Every setting the app reads, in one object: adding a setting is one line here.
// infra/check/app-settings.txt lists the names the Go code reads; infra/check fails if
// one is missing here.

func kvRef(vault string, secret string) string => '@Microsoft.KeyVault(VaultName=${vault};SecretName=${secret})'

var teamsRouteSettings = toObject(
  teamsRoutes,
  route => 'TEAMS_ROUTE_${toUpper(replace(route, '-', '_'))}',
  route => kvRef(keyVaultName, 'teams-route-${toLower(route)}')
)

var appSettings = union(
  {
    // Functions host: identity-based storage (shared keys are disabled on the account).
    AzureWebJobsStorage__accountName: storage.outputs.name
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identity.outputs.clientId
    // Functions host: Service Bus trigger/output connection "ServiceBusConnection".
    ServiceBusConnection__fullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    ServiceBusConnection__credential: 'managedidentity'
    ServiceBusConnection__clientId: identity.outputs.clientId
    // Application Insights with Entra auth (local auth is disabled on the component).
    APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString // infra-check: not-secret (no key; Entra auth)
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
    // The Go handler.
    AZURE_CLIENT_ID: identity.outputs.clientId // azidentity picks the UAMI
    GOVKIT_STORAGE_ACCOUNT: storage.outputs.name // no connection string => managed identity
    GOVKIT_STORAGE_ENDPOINT_SUFFIX: environment().suffixes.storage
    GOVKIT_SERVICEBUS_NAMESPACE: serviceBus.outputs.fullyQualifiedNamespace
    GOVKIT_LOG_LEVEL: logLevel
    GOVKIT_PLATFORM_AUTH: string(!empty(apiClientId)) // handler trusts X-MS-CLIENT-PRINCIPAL only when Easy Auth is on
    GOVKIT_PUBLIC_BASE_URL: publicBaseUrl
    GOVKIT_TENANT_ID: tenant().tenantId
    // Timer schedules (NCRONTAB, UTC: WEBSITE_TIME_ZONE is not supported on Flex). function.json
    // files reference them as %NAME%, so they must exist.
    CONTRACT_ALERTS_SCHEDULE: '0 0 7 * * 1-5'
    SUBJECT_REQUEST_SWEEP_SCHEDULE: '0 30 6 * * *'
    POWERBI_FEED_SCHEDULE: '0 5 7-18 * * 1-5'
    CLOUD_APP_HARVEST_SCHEDULE: '0 0 5 * * *'
    DATA_ERASURE_CHECKS_SCHEDULE: '0 0 6 * * *'
    POWERBI_WORKSPACE_ID: powerBiWorkspaceId
    UK_BANK_HOLIDAY_DIVISION: bankHolidayDivision
    UK_BANK_HOLIDAYS_FILE: '' // optional newer gov.uk file on a mount; empty: the embedded data
    CLOUD_APP_HIGH_RISK_PERMISSIONS: '' // extra permissions to rank high risk, beyond the built-in table
    CLOUD_APPS_REGISTER_URL: empty(publicBaseUrl) ? '' : '${publicBaseUrl}/api/cloudapps'
    GOVKIT_GRAPH_BASE_URL: graphBaseUrl
    GOVKIT_POWERBI_BASE_URL: powerBiBaseUrl
    SHAREPOINT_CLIENT_STATE: kvRef(keyVaultName, 'sharepoint-client-state')
    SHAREPOINT_LISTS: sharePointLists // JSON; see README "SharePoint list forms"
    SHAREPOINT_NOTIFICATION_URL: empty(publicBaseUrl) ? '' : '${publicBaseUrl}/api/sharepoint/webhook'
    SHAREPOINT_SUBSCRIPTIONS_SCHEDULE: '0 15 2 * * *'

  },
  teamsRouteSettings // TEAMS_ROUTE_<NAME>, one per entry in teamsRoutes
)

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    planName: planName
    appName: functionAppName
    location: location
    tags: allTags
    identityResourceId: identity.outputs.resourceId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    appSettings: appSettings
    authClientId: apiClientId
    authExcludedPaths: [
      '/api/health' // anonymous probe
      '/api/sharepoint/webhook' // SharePoint cannot sign in; protected by its clientState secret
    ]
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
  // Start the app only after the vault and its role assignment exist (Key Vault
  // references); the other modules are already ordered through their outputs.
  dependsOn: [keyVault]
}

// ---------------------------------------------------------------- outputs
// UPPER_CASE so azd stores them in .azure/<env>/.env; deploy.sh and the Graph script read them.

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_SERVICEBUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_UAMI_CLIENT_ID string = identity.outputs.clientId
output AZURE_UAMI_PRINCIPAL_ID string = identity.outputs.principalId
