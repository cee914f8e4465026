// What the app's identity may do, and nothing more: each role is scoped to the one resource it is
// for. Granted to the user-assigned identity (identity.bicep) as soon as each resource exists,
// before the Function App is created.

@description('Object id of the app\'s user-assigned identity.')
param principalId string

@description('Storage account of the Functions host and the deployment container.')
param storageAccountName string

@description('Cosmos DB account.')
param cosmosAccountName string

@description('Communication Service the app sends email through.')
param communicationServiceName string

@description('Application Insights component the host sends telemetry to, with Entra ID.')
param applicationInsightsName string

@description('Key Vault holding the idempotency secret.')
param keyVaultName string

@description('Id of the custom role that sends email (email-sender-role.bicep).')
param emailSenderRoleId string

// Built-in Azure role definition ids.
// Storage Blob Data Owner: the deployment package and the host's blobs (timer schedules and
// singleton locks). Storage Table Data Contributor: the host's diagnostic events (without it
// the host logs AZFD0003). No queue access: the app has only HTTP and timer triggers, and
// Microsoft lists queues only for blob triggers and Durable Functions.
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
// Monitoring Metrics Publisher: telemetry ingestion with Entra ID (local auth is off).
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'
// Cosmos DB Built-in Data Contributor: a data-plane role of the account, not an Azure RBAC role.
var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'
// Key Vault Secrets User: read secret values, on the app's one vault.
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: communicationServiceName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource storageBlobAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource storageTableAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource telemetryAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// The identity exists since the first wave of the deployment, long before the account does, so
// Cosmos DB's check of the principal (which has no principalType to skip it) finds it.
resource cosmosAccess 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, principalId, cosmosDataContributor)
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributor}'
    principalId: principalId
    scope: cosmos.id
  }
}

// Sending email: a custom role with only the actions that takes (email-sender-role.bicep).
resource emailAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communicationService.id, principalId, emailSenderRoleId)
  scope: communicationService
  properties: {
    roleDefinitionId: emailSenderRoleId
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource secretsAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
