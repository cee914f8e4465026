// The role the app's identity sends email with: the actions Microsoft documents for a custom
// email-sender role, instead of Communication and Email Service Owner, which allows every
// Communication and Email operation, key listing and regeneration included. A role definition
// lives in the subscription; this one is assignable only in the app's resource group, and named
// after the Communication Service, so its name is unique in the tenant as role names must be.
// `azd down` leaves the definition behind (it costs nothing, and the next `azd up` reuses it).
targetScope = 'subscription'

@description('Name of the Communication Service the role sends through.')
param communicationServiceName string

@description('Id of the resource group the role may be assigned in.')
param resourceGroupId string

resource emailSender 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroupId, communicationServiceName, 'email-sender')
  properties: {
    roleName: 'Email sender of ${communicationServiceName}'
    description: 'Sends email through ${communicationServiceName} with Microsoft Entra ID.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.Communication/CommunicationServices/Read'
          'Microsoft.Communication/CommunicationServices/Write'
          'Microsoft.Communication/EmailServices/write'
        ]
        notActions: []
      }
    ]
    assignableScopes: [resourceGroupId]
  }
}

output id string = emailSender.id
