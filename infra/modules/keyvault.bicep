// Key Vault (RBAC mode) for the app's credentials: Teams Workflows webhook URLs (a webhook
// URL is a bearer credential) and the SharePoint webhook clientState. The app reads
// them through Key Vault references in its app settings, resolved with the user-assigned
// identity (keyVaultReferenceIdentity on the site).
//
// A secret resource is created only when a value is supplied at deployment. Otherwise
// the operator sets it once with `az keyvault secret set` (see the README), and later
// deployments leave it alone, so rotation never means redeploying Bicep.
import { builtInRoles } from 'roles.bicep'

@description('Vault name (3-24 characters, globally unique).')
param name string
param location string
param tags object

@description('Principal id of the app\'s user-assigned managed identity (gets Key Vault Secrets User).')
param principalId string

@description('Teams route names; secret "teams-route-<name>" holds each route\'s webhook URL.')
param teamsRoutes array

@secure()
@description('Route name -> Teams Workflows webhook URL. Only routes present here get a secret written.')
param teamsWebhookUrls object = {}

@secure()
@description('SharePoint webhook clientState; written to secret "sharepoint-client-state" when not empty.')
param sharePointClientState string = ''

@description('Object ids of people or groups who set and rotate secrets (Key Vault Secrets Officer).')
param secretsOfficerPrincipalIds array = []

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    // Flex Consumption cannot resolve Key Vault references against a network-restricted
    // vault; access is controlled by Entra ID + RBAC instead.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource teamsSecrets 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = [
  for route in teamsRoutes: if (!empty(teamsWebhookUrls[?route] ?? '')) {
    parent: vault
    name: 'teams-route-${toLower(route)}'
    properties: {
      value: teamsWebhookUrls[?route] ?? ''
      contentType: 'Teams Workflows webhook URL'
    }
  }
]

resource clientStateSecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(sharePointClientState)) {
  parent: vault
  name: 'sharepoint-client-state'
  properties: {
    value: sharePointClientState
    contentType: 'SharePoint webhook clientState'
  }
}

// Vault scope: the vault holds only this app's secrets, and a per-secret assignment
// would not cover a secret an operator adds after deployment (a new Teams route).
resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, builtInRoles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles.keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource secretsOfficers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for officerId in secretsOfficerPrincipalIds: {
    name: guid(vault.id, officerId, builtInRoles.keyVaultSecretsOfficer)
    scope: vault
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles.keyVaultSecretsOfficer)
      principalId: officerId
    }
  }
]

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
