// Cosmos DB for NoSQL: the account, the database and every container, from the definition the
// code itself uses (shared/adapters/cosmos/containers.json), so partition keys, indexing
// policies, unique keys and TTL cannot drift between the app and Azure.

@description('Location of the account (its only region).')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Suffix that makes resource names unique.')
param resourceToken string

@description('0 (the default): a serverless account, billed per request. Otherwise the autoscale maximum RU/s shared by the database (at least 1000). An account cannot switch between the two after creation.')
@minValue(0)
param autoscaleMaxThroughput int = 0

var definition = loadJsonContent('../../shared/adapters/cosmos/containers.json')
var serverless = autoscaleMaxThroughput == 0

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: 'cosmos-${resourceToken}'
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: serverless ? [{ name: 'EnableServerless' }] : []
    // Entra ID only: no account keys; the app signs in with its managed identity.
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: definition.database
  properties: {
    resource: {
      id: definition.database
    }
    // Serverless accounts refuse any throughput setting; autoscale is shared at database level.
    options: serverless ? {} : { autoscaleSettings: { maxThroughput: autoscaleMaxThroughput } }
  }
}

resource containers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for container in definition.containers: {
    parent: database
    name: container.id
    properties: {
      resource: {
        id: container.id
        partitionKey: {
          paths: [container.partitionKey]
          kind: 'Hash'
          version: 2
        }
        indexingPolicy: container.indexingPolicy
        uniqueKeyPolicy: {
          uniqueKeys: container.?uniqueKeys ?? []
        }
        // -1: items expire only when they carry their own ttl; absent: no expiry at all.
        defaultTtl: container.?defaultTtl
      }
    }
  }
]

output accountName string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
