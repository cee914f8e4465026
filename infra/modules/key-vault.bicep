// The app's one secret: the server key idempotent answers are sealed with (IDEMPOTENCY_SECRET).
// The Function App reads it through a Key Vault reference in its app settings, with its own
// identity (access.bicep grants Key Vault Secrets User on this vault only).

@description('Location of the vault.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Suffix that makes resource names unique.')
param resourceToken string

@description('The idempotency secret: random, at least 32 characters (azd env set IDEMPOTENCY_SECRET).')
@secure()
@minLength(32)
param idempotencySecret string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-${resourceToken}'
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'idempotency-secret'
  properties: {
    value: idempotencySecret
    contentType: 'text/plain'
  }
}

output name string = vault.name
// Without a version: the app reads the latest, so a rotation needs no redeployment.
output idempotencySecretUri string = '${vault.properties.vaultUri}secrets/${secret.name}'
