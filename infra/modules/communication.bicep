// Azure Communication Services for email: an Email Communication Service with its sender domain,
// linked to a Communication Service the app sends through with its managed identity
// (ACS_ENDPOINT, no connection string).
//
// The domain is either the Azure-managed one (DoNotReply@<guid>.azurecomm.net, no DNS to set up,
// for trials only: 5 emails a minute and 10 an hour per subscription, and often taken for spam),
// or your own, customer-managed: created when customDomain is given, with the DNS records to
// create as an output, and sent from once customDomainVerified says its verification is done
// (ACS refuses to link a domain that is not verified). A custom domain starts at 30 emails a
// minute and 100 an hour, raised on request (docs/stand-ins.md, Azure limits).

@description('Tags applied to every resource.')
param tags object

@description('Suffix that makes resource names unique.')
param resourceToken string

@description('Where email data is stored at rest, e.g. Europe, United States, UK, France, Germany.')
param dataLocation string

@description('Your email domain, e.g. mail.contoso.com; empty: the Azure-managed domain only.')
param customDomain string = ''

@description('True once customDomain is verified: the Communication Service then sends from it.')
param customDomainVerified bool = false

var useCustomDomain = !empty(customDomain) && customDomainVerified

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: 'email-${resourceToken}'
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

// Until a custom domain is verified, the app sends from the Azure-managed one.
resource managedDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = if (!useCustomDomain) {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource ownDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = if (!empty(customDomain)) {
  parent: emailService
  name: empty(customDomain) ? 'none' : customDomain
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'CustomerManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: 'acs-${resourceToken}'
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    linkedDomains: [useCustomDomain ? ownDomain.id : managedDomain.id]
  }
}

output communicationServiceName string = communicationService.name
output endpoint string = 'https://${communicationService.properties.hostName}'
// Every domain, Azure-managed or custom, comes with the DoNotReply sender: nothing to create. (A
// sender username of our own would need a verified custom domain with raised sending limits.)
output senderAddress string = 'DoNotReply@${useCustomDomain ? ownDomain!.properties.mailFromSenderDomain : managedDomain!.properties.mailFromSenderDomain}'
// The records to create at your DNS host (each: name, type, value, ttl), then verify the domain.
output dnsRecords object = empty(customDomain) ? {} : ownDomain!.properties.verificationRecords
