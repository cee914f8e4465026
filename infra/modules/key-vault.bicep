// The vault of the app's one secret, IDEMPOTENCY_SECRET: the server key idempotent answers and
// webhook signing secrets are sealed with. The template never writes it: the postprovision hook
// (infra/hooks/postprovision.mjs) creates it with a random value when it is absent, so a
// provision from a new machine or from CI never changes it; rotating it keeps the one before as
// idempotency-secret-previous (docs/deployment.md, Rotating IDEMPOTENCY_SECRET). The Function
// App reads both through Key Vault references with its identity (access.bicep grants Key Vault
// Secrets User on this vault only).

@description('Location of the vault.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Suffix that makes resource names unique.')
param resourceToken string

// Written by the hooks, named here once: test/unit/infra-hooks.test.ts holds the hooks to them.
var idempotencySecretName = 'idempotency-secret'
var idempotencySecretPreviousName = 'idempotency-secret-previous'

// Soft delete for 7 days (the least) and no purge protection: `azd down --purge` removes it for
// good, and after a plain `azd down` the preprovision hook recovers it rather than colliding.
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

output name string = vault.name
output uri string = vault.properties.vaultUri
// Without a version: the app reads the latest, so a rotation needs no redeployment.
output idempotencySecretUri string = '${vault.properties.vaultUri}secrets/${idempotencySecretName}'
output idempotencyPreviousSecretUri string = '${vault.properties.vaultUri}secrets/${idempotencySecretPreviousName}'
