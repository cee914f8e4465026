// The whole app on Azure: `azd up` deploys this at subscription scope into one resource group.
// Function App (Flex Consumption) -> Cosmos DB, Communication Services email, host storage and
// Application Insights, all reached with the app's managed identity: no key or secret anywhere.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; names the resource group and seeds unique resource names.')
param environmentName string

@minLength(1)
@description('Region of every resource; pick one where Flex Consumption is available.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Resource group to create; empty: rg-<environmentName>.')
param resourceGroupName string = ''

@minLength(1)
@description('AUTH_AUDIENCE: client id (GUID) of the API app registration (the aud of v2 access tokens).')
param authAudience string

@minLength(36)
@maxLength(36)
@description('OPERATOR_TENANT_ID: Entra tenant id of the operators (role Operator).')
param operatorTenantId string

@minLength(3)
@description('REVIEWERS_EMAIL: mailbox that receives enrollment escalations.')
param reviewersEmail string

@description('PORTAL_BASE_URL: when set, links in emails redirect to the portal.')
param portalBaseUrl string = ''

@description('CORS_ORIGINS: comma-separated origins allowed to call the API from a browser.')
param corsOrigins string = ''

@description('0: serverless Cosmos DB (default). Otherwise autoscale maximum RU/s, at least 1000.')
@minValue(0)
param cosmosAutoscaleMaxThroughput int = 0

@description('Where Communication Services stores email data at rest, e.g. Europe, United States.')
param emailDataLocation string = 'Europe'

@description('IDEMPOTENCY_SECRET: a random secret of at least 32 characters, kept in Key Vault (azd env set IDEMPOTENCY_SECRET "$(openssl rand -base64 32)").')
@secure()
@minLength(32)
param idempotencySecret string

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module monitoring './modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
  }
}

module storage './modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
  }
}

module cosmos './modules/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
  }
}

module communication './modules/communication.bicep' = {
  name: 'communication'
  scope: rg
  params: {
    tags: tags
    resourceToken: resourceToken
    dataLocation: emailDataLocation
  }
}

module keyVault './modules/key-vault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    idempotencySecret: idempotencySecret
  }
}

module functionApp './modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    communicationEndpoint: communication.outputs.endpoint
    emailSender: communication.outputs.senderAddress
    authAudience: authAudience
    operatorTenantId: operatorTenantId
    reviewersEmail: reviewersEmail
    portalBaseUrl: portalBaseUrl
    corsOrigins: corsOrigins
    idempotencySecretUri: keyVault.outputs.idempotencySecretUri
  }
}

module access './modules/access.bicep' = {
  name: 'access'
  scope: rg
  params: {
    principalId: functionApp.outputs.principalId
    storageAccountName: storage.outputs.name
    cosmosAccountName: cosmos.outputs.accountName
    communicationServiceName: communication.outputs.communicationServiceName
    keyVaultName: keyVault.outputs.name
  }
}

// azd saves these in the environment (.azure/<name>/.env) and prints the endpoint.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output API_URL string = functionApp.outputs.url
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output EMAIL_SENDER string = communication.outputs.senderAddress
