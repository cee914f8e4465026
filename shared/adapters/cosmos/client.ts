import type { CosmosClient, CosmosClientOptions } from '@azure/cosmos';
import type { TokenCredential } from '@azure/identity';
import https from 'node:https';
import type { AzureIdentity } from '../../config';

export interface CosmosConnection {
  endpoint: string;
  /** An account key; without one the app signs in with Entra ID (see `azureCredential`). */
  key: string | undefined;
  /** Who signs in without a key; a developer's own sign-in when not given. */
  identity?: AzureIdentity;
}

const developer: AzureIdentity = { onAzureHost: false, clientId: undefined };

/** The well-known key of the Cosmos DB emulators; the embedded emulator accepts any key. */
export const emulatorKey =
  'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU9DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

export function isLocalEndpoint(endpoint: string): boolean {
  const { hostname } = new URL(endpoint);
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
}

/**
 * The credential for where the app runs. On an Azure host, its managed identity and nothing
 * else: DefaultAzureCredential would walk a chain of credentials first (environment, workload
 * identity, then managed identity), costing probes at the first token and leaving it open which
 * identity signs in. A user-assigned identity is named by its client id (AZURE_CLIENT_ID).
 * Elsewhere a developer's own sign-in (Azure CLI, azd, VS Code...) through DefaultAzureCredential.
 */
export async function azureCredential(identity: AzureIdentity): Promise<TokenCredential> {
  const { DefaultAzureCredential, ManagedIdentityCredential } = await import('@azure/identity');
  if (!identity.onAzureHost) return new DefaultAzureCredential();
  return identity.clientId === undefined
    ? new ManagedIdentityCredential()
    : new ManagedIdentityCredential({ clientId: identity.clientId });
}

/**
 * `azureCredential`, built at the first token request. @azure/identity, with MSAL, is a quarter
 * of the bundle and only Azure needs it: it is loaded then, not at every cold start (a dynamic
 * import, which esbuild keeps in the bundle but evaluates only then).
 */
export function lazyAzureCredential(identity: AzureIdentity): TokenCredential {
  let credential: Promise<TokenCredential> | undefined;
  return {
    async getToken(scopes, options) {
      credential ??= azureCredential(identity);
      return (await credential).getToken(scopes, options);
    },
  };
}

/**
 * Builds the process's one CosmosClient, with a bounded request timeout and
 * bounded retries on 429/503 so a dependency outage answers 503 quickly rather than hanging.
 * The SDK is the largest part of the app: it is imported here, when the first invocation
 * builds the services, so registering the functions at a cold start does not load it.
 */
export async function createCosmosClient(
  connection: CosmosConnection,
  extra: Partial<CosmosClientOptions> = {},
): Promise<CosmosClient> {
  const { CosmosClient } = await import('@azure/cosmos');
  const local = isLocalEndpoint(connection.endpoint);
  // The SDK's own keep-alive agents serve http and real https; a local https emulator has a
  // self-signed certificate. (Passing an agent for http would make the SDK refuse http.)
  const agent =
    local && connection.endpoint.startsWith('https:')
      ? { agent: new https.Agent({ keepAlive: true, rejectUnauthorized: false }) }
      : {};
  const credentials =
    connection.key !== undefined || local
      ? { key: connection.key ?? emulatorKey }
      : { aadCredentials: lazyAzureCredential(connection.identity ?? developer) };
  return new CosmosClient({
    endpoint: connection.endpoint,
    ...credentials,
    ...agent,
    ...extra,
    connectionPolicy: {
      // The emulators answer on one address only; a real account discovers its regions. With
      // discovery on, the SDK's retry loops can last minutes: each call has a deadline
      // (operations.ts, cosmosCall) that answers 503 first.
      enableEndpointDiscovery: !local,
      requestTimeout: 10_000,
      retryOptions: {
        maxRetryAttemptCount: 5,
        fixedRetryIntervalInMilliseconds: 0,
        maxWaitTimeInSeconds: 10,
      },
      ...extra.connectionPolicy,
    },
  });
}
