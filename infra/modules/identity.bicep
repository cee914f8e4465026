// The app's user-assigned managed identity, created before anything that needs it: access.bicep
// grants it every role while the resources are created, and the Function App signs in with it
// (AZURE_CLIENT_ID, its Key Vault references, its host storage and deployment container, its
// telemetry). A system-assigned identity would exist only once the app does, so its roles would
// race the app's first start and first deployment.

@description('Location of the identity.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Suffix that makes resource names unique.')
param resourceToken string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${resourceToken}'
  location: location
  tags: tags
}

output id string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
