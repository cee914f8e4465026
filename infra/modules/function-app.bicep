// The Function App on the Flex Consumption plan (Linux, Node.js 22: the version the tests run
// on), signing in with the user-assigned identity of identity.bicep for everything: the host's
// storage, the deployment container, telemetry, its Key Vault references, Cosmos DB and email.
// Created after every role of that identity (main.bicep). App settings: every setting
// shared/config.ts requires, and no secret.

@description('Location of the plan and the app.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Suffix that makes resource names unique.')
param resourceToken string

@description('Resource id of the app\'s user-assigned identity.')
param identityId string

@description('Client id of the app\'s user-assigned identity (AZURE_CLIENT_ID).')
param identityClientId string

@description('Blob endpoint of the host\'s storage account, AzureWebJobsStorage (timer schedules and locks).')
param storageBlobEndpoint string

@description('Table endpoint of that storage account (the host\'s diagnostic events).')
param storageTableEndpoint string

@description('Blob container URL Flex Consumption deploys the package from.')
param deploymentContainerUrl string

@description('Application Insights connection string.')
param applicationInsightsConnectionString string

@description('Cosmos DB account endpoint.')
param cosmosEndpoint string

@description('Cosmos DB database name.')
param cosmosDatabaseName string

@description('Communication Service endpoint (https).')
param communicationEndpoint string

@description('Sender address of every email.')
param emailSender string

@description('EMAIL_SENDS_PER_MINUTE: the platform-wide send budget, within the ACS quota.')
param emailSendsPerMinute int

@description('EMAIL_SENDS_PER_HOUR: the platform-wide send budget, within the ACS quota.')
param emailSendsPerHour int

@description('AUTH_AUDIENCE: the client id (GUID) of the API app registration, the aud of v2 access tokens.')
param authAudience string

@description('OPERATOR_TENANT_ID: the operators\' Entra tenant.')
param operatorTenantId string

@description('REVIEWERS_EMAIL: the mailbox escalations go to.')
param reviewersEmail string

@description('PORTAL_BASE_URL: when set, email links redirect to the portal.')
param portalBaseUrl string = ''

@description('CORS_ORIGINS: comma-separated origins allowed to call the API from a browser.')
param corsOrigins string = ''

@description('IDEMPOTENCY_SECRET: the Key Vault secret URI, given to the app as a Key Vault reference.')
param idempotencySecretUri string

@description('IDEMPOTENCY_SECRET_PREVIOUS: the secret before the last rotation, as a Key Vault reference.')
param idempotencyPreviousSecretUri string

@description('Most instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of each instance, in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

var allowedOrigins = filter(map(split(corsOrigins, ','), origin => trim(origin)), origin => !empty(origin))

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-${resourceToken}'
  location: location
  // azd finds the app to deploy the api service to by this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the identity that holds Key Vault Secrets User.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      cors: {
        allowedOrigins: allowedOrigins
        supportCredentials: false
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // The Node major `npm test` runs on and the bundle targets (test/unit/infra.test.ts).
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// Set after the site exists so PUBLIC_BASE_URL can use its real host name. Flex Consumption
// refuses FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION and WEBSITE_RUN_FROM_PACKAGE:
// functionAppConfig above says all that.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: {
    // The Functions platform, as Microsoft's azd Flex Consumption templates set it: host storage
    // and telemetry with the user-assigned identity (its client id), and the host's request body
    // limit (shared/http/define.ts hostBodyLimitBytes): 4 MiB, well above the app's 64 KiB, so an
    // oversized body reaches the app and gets its 413, while the host, which buffers a body
    // whole, never holds more than 4 MiB of one. Source maps are enabled by the package's entry
    // (shared/local/build.mjs), not by languageWorkers__node__arguments, which restarts the
    // pre-warmed worker at each cold start.
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
    AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '4194304'

    // The app (shared/config.ts). Dev tokens are refused in Azure: entra mode, always.
    AZURE_CLIENT_ID: identityClientId
    AUTH_MODE: 'entra'
    AUTH_AUDIENCE: authAudience
    OPERATOR_TENANT_ID: operatorTenantId
    COSMOS_ENDPOINT: cosmosEndpoint
    COSMOS_DATABASE: cosmosDatabaseName
    ACS_ENDPOINT: communicationEndpoint
    EMAIL_SENDER: emailSender
    EMAIL_SENDS_PER_MINUTE: string(emailSendsPerMinute)
    EMAIL_SENDS_PER_HOUR: string(emailSendsPerHour)
    PUBLIC_BASE_URL: 'https://${functionApp.properties.defaultHostName}'
    PORTAL_BASE_URL: portalBaseUrl
    REVIEWERS_EMAIL: reviewersEmail
    CORS_ORIGINS: corsOrigins
    // Resolved by the platform with the app's identity; the values never sit in the settings.
    // The postprovision hook creates the secrets when absent, then has the references resolved.
    IDEMPOTENCY_SECRET: '@Microsoft.KeyVault(SecretUri=${idempotencySecretUri})'
    IDEMPOTENCY_SECRET_PREVIOUS: '@Microsoft.KeyVault(SecretUri=${idempotencyPreviousSecretUri})'
  }
}

output name string = functionApp.name
output url string = 'https://${functionApp.properties.defaultHostName}'
