// The whole app on Azure: `azd up` deploys this at subscription scope into one resource group.
// Function App (Flex Consumption) -> Cosmos DB, Communication Services email, host storage, Key
// Vault and Application Insights, all reached with one user-assigned managed identity created
// first: every role it holds exists before the app does, so nothing waits on the app's identity.
// No key or secret anywhere in the template: the one secret, IDEMPOTENCY_SECRET, is created in
// Key Vault by the postprovision hook when absent, and never rewritten (docs/deployment.md).
targetScope = 'subscription'

import { isDomainName, isEmail, isGuid, isHttpsUrl, isOrigin } from 'checks.bicep'

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

// The formats of these settings are checked below (checks.bicep) before anything is created.
@minLength(36)
@maxLength(36)
@description('AUTH_AUDIENCE: client id (GUID) of the API app registration (the aud of v2 access tokens).')
param authAudience string

@minLength(36)
@maxLength(36)
@description('OPERATOR_TENANT_ID: Entra tenant id of the operators (role Operator).')
param operatorTenantId string

@minLength(6)
@maxLength(254)
@description('REVIEWERS_EMAIL: mailbox that receives enrollment escalations.')
param reviewersEmail string

@minLength(6)
@maxLength(254)
@description('ALERT_EMAIL: where the alert rules email the operators (the action group of modules/alerts.bicep).')
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

// The upper bounds are shared/config.ts's.
@description('EMAIL_SENDS_PER_MINUTE: the send budget a minute; 0: the ACS quota of the domain sent from (5 Azure-managed, 30 custom). Raise it with the ACS quota.')
@minValue(0)
@maxValue(100000)
param emailSendsPerMinute int = 0

@description('EMAIL_SENDS_PER_HOUR: the send budget an hour; 0: the ACS quota of the domain sent from (10 Azure-managed, 100 custom). Raise it with the ACS quota.')
@minValue(0)
@maxValue(1000000)
param emailSendsPerHour int = 0

// Refused here, by Azure Resource Manager, before anything is created: a malformed setting would
// otherwise deploy an app that refuses to load (shared/config.ts). Each message names the azd
// setting to correct.
var checked = {
  authAudience: isGuid(authAudience)
    ? authAudience
    : fail('AUTH_AUDIENCE must be the client id (a GUID) of the API app registration, not its Application ID URI: azd env set AUTH_AUDIENCE <client id>')
  operatorTenantId: isGuid(operatorTenantId)
    ? toLower(operatorTenantId)
    : fail('OPERATOR_TENANT_ID must be the tenant id (a GUID) of the operators\' Entra tenant: azd env set OPERATOR_TENANT_ID <tenant id>')
  reviewersEmail: isEmail(reviewersEmail)
    ? reviewersEmail
    : fail('REVIEWERS_EMAIL must be an email address: azd env set REVIEWERS_EMAIL reviewers@contoso.com')
  alertEmail: isEmail(alertEmail)
    ? alertEmail
    : fail('ALERT_EMAIL must be an email address: azd env set ALERT_EMAIL operators@contoso.com')
  portalBaseUrl: empty(portalBaseUrl) || isHttpsUrl(portalBaseUrl)
    ? portalBaseUrl
    : fail('PORTAL_BASE_URL must be empty or an https:// address, e.g. https://portal.contoso.com')
  corsOrigins: empty(filter(corsOriginList, origin => !isOrigin(origin)))
    ? join(corsOriginList, ',')
    : fail('CORS_ORIGINS must be comma-separated origins, each https://host[:port] (or http://localhost:port), with no path and no wildcard')
  emailCustomDomain: empty(emailCustomDomain) || isDomainName(emailCustomDomain)
    ? toLower(emailCustomDomain)
    : fail('EMAIL_CUSTOM_DOMAIN must be empty or a domain name such as mail.contoso.com')
  emailCustomDomainVerified: !emailCustomDomainVerified || !empty(emailCustomDomain)
    ? emailCustomDomainVerified
    : fail('EMAIL_CUSTOM_DOMAIN_VERIFIED is true but EMAIL_CUSTOM_DOMAIN is empty: set the domain, or EMAIL_CUSTOM_DOMAIN_VERIFIED false')
}
var corsOriginList = filter(map(split(corsOrigins, ','), origin => trim(origin)), origin => !empty(origin))

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
// The ACS quota (per subscription) of the domain the app sends from, until raised on request.
var customDomainQuota = { perMinute: 30, perHour: 100 }
var managedDomainQuota = { perMinute: 5, perHour: 10 }
var emailQuota = checked.emailCustomDomainVerified ? customDomainQuota : managedDomainQuota
var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

// First: the app's identity. Every role below is granted to it as soon as each resource exists,
// and the Function App is created only once they all are (dependsOn access): its first start,
// its Key Vault references and the first deployment never meet a missing role.
module identity './modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
  }
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
    customDomain: checked.emailCustomDomain
    customDomainVerified: checked.emailCustomDomainVerified
  }
}

module keyVault './modules/key-vault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
  }
}

module emailSenderRole './modules/email-sender-role.bicep' = {
  name: 'email-sender-role'
  params: {
    communicationServiceName: communication.outputs.communicationServiceName
    resourceGroupId: rg.id
  }
}

module access './modules/access.bicep' = {
  name: 'access'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    cosmosAccountName: cosmos.outputs.accountName
    communicationServiceName: communication.outputs.communicationServiceName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    emailSenderRoleId: emailSenderRole.outputs.id
  }
}

module functionApp './modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  dependsOn: [access]
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    communicationEndpoint: communication.outputs.endpoint
    emailSender: communication.outputs.senderAddress
    emailSendsPerMinute: emailSendsPerMinute > 0 ? emailSendsPerMinute : emailQuota.perMinute
    emailSendsPerHour: emailSendsPerHour > 0 ? emailSendsPerHour : emailQuota.perHour
    authAudience: checked.authAudience
    operatorTenantId: checked.operatorTenantId
    reviewersEmail: checked.reviewersEmail
    portalBaseUrl: checked.portalBaseUrl
    corsOrigins: checked.corsOrigins
    idempotencySecretUri: keyVault.outputs.idempotencySecretUri
    idempotencyPreviousSecretUri: keyVault.outputs.idempotencyPreviousSecretUri
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
    alertEmail: checked.alertEmail
  }
}

// azd saves these in the environment (.azure/<name>/.env), where the hooks read them
// (infra/hooks), and prints the endpoint.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.uri
output API_URL string = functionApp.outputs.url
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output EMAIL_SENDER string = communication.outputs.senderAddress
// With emailCustomDomain: the DNS records (Domain, SPF, DKIM, DKIM2) to create at your DNS host
// before verifying the domain; `azd env get-value EMAIL_DNS_RECORDS` prints them.
output EMAIL_DNS_RECORDS object = communication.outputs.dnsRecords
