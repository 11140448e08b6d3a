// Flex Consumption plan (FC1, Linux) and the function app running the Go custom handler.
// Runtime comes only from functionAppConfig.runtime (name 'custom'); on Flex the app
// settings must NOT contain FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION,
// WEBSITE_RUN_FROM_PACKAGE, WEBSITE_CONTENT*, WEBSITE_TIME_ZONE or TZ.

param planName string
param appName string
param location string
param tags object

@description('Resource id of the user-assigned managed identity the app runs as.')
param identityResourceId string

@description('Blob endpoint of the storage account holding the deployment container.')
param storageBlobEndpoint string

@description('Container the deployment package (zip) is uploaded to.')
param deploymentContainerName string

@description('Complete app settings (this resource replaces the whole collection).')
param appSettings object

@description('Upper bound on instances (cost ceiling).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int

@description('Custom handler runtime version. Check with: az functionapp list-flexconsumption-runtimes --location <region> --runtime custom')
param runtimeVersion string = '1.0'

@description('Client id of the Entra app registration that protects the APIs (infra/scripts/create-app-registration.sh). Empty: platform authentication off (not for production).')
param authClientId string

@description('Paths reachable without sign-in: probes, and webhooks protected by their own secret.')
param authExcludedPaths array

@description('Disable FTP and SCM basic-auth publishing credentials (deploy with Entra ID instead).')
param disableBasicPublishingAuth bool = true

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  // azd finds the deployment target by this tag (service "functions" in azure.yaml).
  tags: union(tags, { 'azd-service-name': 'functions' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the UAMI, not a system-assigned identity.
    keyVaultReferenceIdentity: identityResourceId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'custom'
        version: runtimeVersion
      }
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: appSettings
}

// Built-in App Service authentication (Easy Auth) with Entra ID: unauthenticated
// API calls get 401 before they reach the handler; the handler then checks the
// app roles in X-MS-CLIENT-PRINCIPAL (functions/access.go).
resource auth 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(authClientId)) {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: authExcludedPaths
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${authClientId}'
            authClientId
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

resource ftpPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: !disableBasicPublishingAuth
  }
}

resource scmPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: !disableBasicPublishingAuth
  }
}

output name string = site.name
output id string = site.id
output defaultHostName string = site.properties.defaultHostName
