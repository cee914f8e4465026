import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azureCredential } from '../../shared/adapters/cosmos/client';
import { ConfigError, loadConfig, runsOnAzureHost } from '../../shared/config';

/**
 * Which credential the app signs in to Cosmos DB and ACS with (when it has no key): its managed
 * identity on an Azure host, a developer's own sign-in elsewhere. The real @azure/identity
 * classes; the token request goes to a stand-in of the host's identity endpoint on loopback,
 * the endpoint App Service and Functions give a managed identity (IDENTITY_ENDPOINT).
 */
const minimal = {
  COSMOS_ENDPOINT: 'https://account.documents.azure.com:443/',
  AUTH_AUDIENCE: '5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6b',
  IDEMPOTENCY_SECRET: 'x'.repeat(43),
};
const userAssigned = '6f1c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f';

const credentialFor = (env: Record<string, string>) =>
  azureCredential(loadConfig({ ...minimal, ...env }).identity);

let endpoint: http.Server;
const tokenRequests: URL[] = [];
const saved = {
  IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT,
  IDENTITY_HEADER: process.env.IDENTITY_HEADER,
};
beforeAll(async () => {
  endpoint = http.createServer((request, response) => {
    tokenRequests.push(new URL(request.url ?? '/', 'http://127.0.0.1'));
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        access_token: 'token-from-the-identity-endpoint',
        expires_on: String(Math.floor(Date.now() / 1000) + 3600),
        resource: 'https://cosmos.azure.com',
        token_type: 'Bearer',
      }),
    );
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  const { port } = endpoint.address() as AddressInfo;
  process.env.IDENTITY_ENDPOINT = `http://127.0.0.1:${port}/msi/token`;
  process.env.IDENTITY_HEADER = 'identity-header';
});
afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await new Promise((resolve) => endpoint.close(resolve));
});

describe('the Azure host', () => {
  it('is recognised from what App Service, Functions and Flex Consumption set', () => {
    expect(runsOnAzureHost({})).toBe(false);
    expect(runsOnAzureHost({ WEBSITE_SITE_NAME: 'func-partner-transition' })).toBe(true);
    expect(runsOnAzureHost({ WEBSITE_INSTANCE_ID: 'a1b2c3' })).toBe(true);
    expect(runsOnAzureHost({ WEBSITE_OWNER_NAME: 'subscription+rg-westeurope' })).toBe(true);
    expect(runsOnAzureHost({ WEBSITE_HOSTNAME: 'func-pt.azurewebsites.net' })).toBe(true);
    // Container runtimes and sandboxes set CONTAINER_NAME anywhere: alone it is no Azure host.
    expect(runsOnAzureHost({ CONTAINER_NAME: 'func-partner-transition-1' })).toBe(false);
  });

  it('is not Core Tools on a developer machine, which sets WEBSITE_HOSTNAME to localhost', () => {
    expect(runsOnAzureHost({ WEBSITE_HOSTNAME: 'localhost:7071' })).toBe(false);
    expect(runsOnAzureHost({ WEBSITE_HOSTNAME: '127.0.0.1:7071' })).toBe(false);
  });
});

describe('the credential', () => {
  it("is the host's system-assigned managed identity on Azure, asked for a token without a client id", async () => {
    const credential = await credentialFor({ WEBSITE_SITE_NAME: 'func-partner-transition' });
    expect(credential).toBeInstanceOf(ManagedIdentityCredential);
    tokenRequests.length = 0;
    const token = await credential.getToken('https://cosmos.azure.com/.default');
    expect(token?.token).toBe('token-from-the-identity-endpoint');
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]!.searchParams.get('resource')).toBe('https://cosmos.azure.com');
    expect(tokenRequests[0]!.searchParams.has('client_id')).toBe(false);
  });

  it('is the user-assigned managed identity named by AZURE_CLIENT_ID on Flex Consumption', async () => {
    const credential = await credentialFor({
      CONTAINER_NAME: 'func-partner-transition-1',
      WEBSITE_HOSTNAME: 'func-pt.azurewebsites.net',
      AZURE_CLIENT_ID: userAssigned,
    });
    expect(credential).toBeInstanceOf(ManagedIdentityCredential);
    tokenRequests.length = 0;
    await credential.getToken('https://cosmos.azure.com/.default');
    expect(tokenRequests.map((url) => url.searchParams.get('client_id'))).toEqual([userAssigned]);
  });

  it("is a developer's own sign-in (DefaultAzureCredential) off Azure, Core Tools included", async () => {
    expect(await credentialFor({})).toBeInstanceOf(DefaultAzureCredential);
    expect(await credentialFor({ WEBSITE_HOSTNAME: 'localhost:7071' })).toBeInstanceOf(
      DefaultAzureCredential,
    );
  });

  it('refuses an AZURE_CLIENT_ID that is not a GUID, naming it', () => {
    expect(() => loadConfig({ ...minimal, AZURE_CLIENT_ID: 'my-identity' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...minimal, AZURE_CLIENT_ID: 'my-identity' })).toThrow(
      /AZURE_CLIENT_ID/,
    );
  });
});
