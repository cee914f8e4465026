// Azure Communication Services for email: an Email Communication Service with an Azure-managed
// domain (DoNotReply@<guid>.azurecomm.net, no DNS to set up), linked to a Communication Service
// the app sends through with its managed identity (ACS_ENDPOINT, no connection string).

@description('Tags applied to every resource.')
param tags object

@description('Suffix that makes resource names unique.')
param resourceToken string

@description('Where email data is stored at rest, e.g. Europe, United States, UK, France, Germany.')
param dataLocation string

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: 'email-${resourceToken}'
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

resource managedDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: 'acs-${resourceToken}'
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    linkedDomains: [managedDomain.id]
  }
}

output communicationServiceName string = communicationService.name
output endpoint string = 'https://${communicationService.properties.hostName}'
// Azure-managed domains come with the DoNotReply sender.
output senderAddress string = 'DoNotReply@${managedDomain.properties.mailFromSenderDomain}'
