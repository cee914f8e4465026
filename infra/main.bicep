// The whole app on Azure: `azd up` deploys this at subscription scope into one resource group.
// Function App (Flex Consumption) -> Cosmos DB, Communication Services email, host storage and
// Application Insights, all reached with the app's managed identity: no key or secret anywhere.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; names the resource group and seeds unique resource names.')
param environmentName string

// Regions where Flex Consumption runs (`az functionapp list-flexconsumption-locations`): a
// region outside them would fail only when the plan is created, after everything else exists.
@minLength(1)
@description('Region of every resource: one where Flex Consumption is available.')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
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

@minLength(3)
@description('Where the alert rules email the operators (the action group of modules/alerts.bicep).')
param alertEmail string

@description('PORTAL_BASE_URL: when set, links in emails redirect to the portal.')
param portalBaseUrl string = ''

@description('CORS_ORIGINS: comma-separated origins allowed to call the API from a browser.')
param corsOrigins string = ''

// In thousands: Cosmos DB refuses an autoscale maximum under 1000 RU/s or not a multiple of
// 1000, so no other value can be written here.
@description('0: serverless Cosmos DB (default). Otherwise the autoscale maximum in thousands of RU/s (4: 4000 RU/s, scaling between 400 and 4000).')
@minValue(0)
@maxValue(1000)
param cosmosAutoscaleMaxThousandRUs int = 0

@description('Where Communication Services stores email data at rest, e.g. Europe, United States.')
param emailDataLocation string = 'Europe'

@description('Your email domain (e.g. mail.contoso.com): a customer-managed domain, whose DNS records to create are output as EMAIL_DNS_RECORDS. Empty: the Azure-managed domain, for trials only (5 emails a minute, 10 an hour).')
param emailCustomDomain string = ''

@description('Set once the DNS records of emailCustomDomain are created and the domain verified: the app then sends from it.')
param emailCustomDomainVerified bool = false

@description('EMAIL_SENDS_PER_MINUTE: the send budget a minute; 0: the ACS quota of the domain sent from (5 Azure-managed, 30 custom). Raise it with the ACS quota.')
@minValue(0)
param emailSendsPerMinute int = 0

@description('EMAIL_SENDS_PER_HOUR: the send budget an hour; 0: the ACS quota of the domain sent from (10 Azure-managed, 100 custom). Raise it with the ACS quota.')
@minValue(0)
param emailSendsPerHour int = 0

@description('IDEMPOTENCY_SECRET: a random secret of at least 32 characters, kept in Key Vault (azd env set IDEMPOTENCY_SECRET "$(openssl rand -base64 32)").')
@secure()
@minLength(32)
param idempotencySecret string

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
// The ACS quota (per subscription) of the domain the app sends from, until raised on request.
var customDomainQuota = { perMinute: 30, perHour: 100 }
var managedDomainQuota = { perMinute: 5, perHour: 10 }
var emailQuota = !empty(emailCustomDomain) && emailCustomDomainVerified ? customDomainQuota : managedDomainQuota
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
    autoscaleMaxThroughput: cosmosAutoscaleMaxThousandRUs * 1000
  }
}

module communication './modules/communication.bicep' = {
  name: 'communication'
  scope: rg
  params: {
    tags: tags
    resourceToken: resourceToken
    dataLocation: emailDataLocation
    customDomain: emailCustomDomain
    customDomainVerified: emailCustomDomainVerified
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
    emailSendsPerMinute: emailSendsPerMinute > 0 ? emailSendsPerMinute : emailQuota.perMinute
    emailSendsPerHour: emailSendsPerHour > 0 ? emailSendsPerHour : emailQuota.perHour
    authAudience: authAudience
    operatorTenantId: operatorTenantId
    reviewersEmail: reviewersEmail
    portalBaseUrl: portalBaseUrl
    corsOrigins: corsOrigins
    idempotencySecretUri: keyVault.outputs.idempotencySecretUri
  }
}

module alerts './modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    alertEmail: alertEmail
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
    applicationInsightsName: monitoring.outputs.applicationInsightsName
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
// With emailCustomDomain: the DNS records (Domain, SPF, DKIM, DKIM2) to create at your DNS host
// before verifying the domain; `azd env get-value EMAIL_DNS_RECORDS` prints them.
output EMAIL_DNS_RECORDS object = communication.outputs.dnsRecords
