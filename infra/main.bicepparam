// Sample environment "dev" in uksouth. azd sets AZURE_ENV_NAME / AZURE_LOCATION /
// AZURE_PRINCIPAL_ID; with plain az deployment the defaults below apply.
// No secret values live in this file: they come from environment variables at
// deployment time, or (preferred) are set in Key Vault afterwards (see README).
using './main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'dev')
param location = readEnvironmentVariable('AZURE_LOCATION', 'uksouth')

param maximumInstanceCount = 40
param instanceMemoryMB = 2048
param logLevel = 'info'
// Client id of the API app registration (infra/scripts/create-app-registration.sh prints it).
param apiClientId = readEnvironmentVariable('GOVKIT_API_CLIENT_ID', '')

// Teams routes (kebab-case, as shared/teams expects): route ig-team becomes app setting
// TEAMS_ROUTE_IG_TEAM, a Key Vault reference to secret teams-route-ig-team. Create the
// secret first (az keyvault secret set, or GOVKIT_TEAMS_WEBHOOK_URLS_JSON below), then
// list the route here: a route whose secret is missing leaves an unresolved reference,
// which the handler reports as an invalid setting.
param teamsRoutes = [
  // 'ig-team'
  // 'ict-champions-adults'
]

// Optional, e.g. export GOVKIT_TEAMS_WEBHOOK_URLS_JSON='{"ig-team":"https://..."}'
param teamsWebhookUrls = json(readEnvironmentVariable('GOVKIT_TEAMS_WEBHOOK_URLS_JSON', '{}'))
param sharePointClientState = readEnvironmentVariable('GOVKIT_SHAREPOINT_CLIENT_STATE', '')

// The deploying admin may set and rotate secrets (azd sets AZURE_PRINCIPAL_ID).
param secretsOfficerPrincipalIds = empty(readEnvironmentVariable('AZURE_PRINCIPAL_ID', ''))
  ? []
  : [readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')]

param tags = {
  owner: 'ICT governance'
}
