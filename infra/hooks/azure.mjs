// What the azd hooks share: the sign-in azd has (`azd auth token`), calls to Azure Resource
// Manager and Key Vault, and waiting for Azure to catch up. azd runs each hook with its
// environment's values (.azure/<name>/.env: AZURE_SUBSCRIPTION_ID, AZURE_ENV_NAME and the
// outputs of infra/main.bicep) as environment variables.
import { spawnSync } from 'node:child_process';

/** The resource manager of the cloud azd uses; a test points it at a stand-in. */
export const resourceManagerUrl = (
  process.env.AZURE_RESOURCE_MANAGER_ENDPOINT ?? 'https://management.azure.com'
).replace(/\/+$/, '');

/** Seconds between two looks while waiting for Azure (AZURE_HOOKS_POLL_SECONDS, default 10). */
export const pollSeconds = Number(process.env.AZURE_HOOKS_POLL_SECONDS ?? 10);

/** The longest a hook waits for Azure (AZURE_HOOKS_WAIT_SECONDS, default 600: ten minutes). */
export const waitSeconds = Number(process.env.AZURE_HOOKS_WAIT_SECONDS ?? 600);

/** The value of an environment variable azd sets, or an error saying what is missing. */
export function required(name) {
  const value = process.env[name]?.trim();
  if (!value) throw new Error(`${name} is not set: run this through azd (azd provision, azd up)`);
  return value;
}

function azd(args) {
  const result = spawnSync('azd', args, {
    encoding: 'utf8',
    shell: process.platform === 'win32',
  });
  if (result.status !== 0)
    throw new Error(`azd ${args.slice(0, 2).join(' ')} failed: ${result.stderr || result.error}`);
  return JSON.parse(result.stdout);
}

/** An access token of the account azd signed in with; for Resource Manager unless `scope`. */
export function azdToken(scope) {
  return azd(['auth', 'token', '--output', 'json', ...(scope ? ['--scope', scope] : [])]).token;
}

/** The values of the current azd environment, for a script run outside a hook. */
export function azdEnvironment() {
  return azd(['env', 'get-values', '--output', 'json']);
}

/** An HTTP JSON client with a bearer token; 404 is an answer (null), other errors throw. */
export function client(baseUrl, token) {
  const headers = { authorization: `Bearer ${token}` };
  async function call(method, path, body) {
    const url = path.startsWith('http') ? path : `${baseUrl}${path}`;
    const response = await fetch(url, {
      method,
      signal: AbortSignal.timeout(60_000),
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status === 404) return null;
    if (!response.ok)
      throw new Error(`${method} ${url.split('?')[0]}: ${response.status} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : {};
  }
  return {
    get: (path) => call('GET', path),
    put: (path, body) => call('PUT', path, body),
    post: (path, body) => call('POST', path, body),
    delete: (path) => call('DELETE', path),
    /** Every item of a paged list (`value`, then each `nextLink`). */
    async list(path) {
      const items = [];
      for (let page = await call('GET', path); page;) {
        items.push(...(page.value ?? []));
        page = page.nextLink ? await call('GET', page.nextLink) : null;
      }
      return items;
    },
  };
}

/** Resource Manager, signed in as azd is. */
export function resourceManager() {
  return client(resourceManagerUrl, azdToken());
}

/**
 * Calls `look` until it returns { done: true, value }, at most `seconds`; between two looks it
 * waits pollSeconds. On timeout, throws with the last `why` the look gave.
 */
export async function waitFor(what, seconds, look) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const result = await look();
    if (result.done) return result.value;
    if (Date.now() + pollSeconds * 1000 > deadline)
      throw new Error(`${what}: not done after ${seconds} s (${result.why})`);
    await new Promise((resolve) => setTimeout(resolve, pollSeconds * 1000));
  }
}

/** The Function App's resource path, from the outputs azd saved. */
export function functionAppPath() {
  return (
    `/subscriptions/${required('AZURE_SUBSCRIPTION_ID')}` +
    `/resourceGroups/${required('AZURE_RESOURCE_GROUP')}` +
    `/providers/Microsoft.Web/sites/${required('AZURE_FUNCTION_APP_NAME')}`
  );
}

/** Runs a hook's main: its error becomes one line on stderr and exit code 1, which stops azd. */
export function runHook(name, main) {
  main().catch((error) => {
    console.error(`${name}: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  });
}
