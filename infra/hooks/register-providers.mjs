// azd preprovision hook (azure.yaml): registers on the subscription every resource provider the
// template needs, before `azd provision` deploys it. ARM registers a provider by itself only for
// the resource types a template declares, and Flex Consumption also runs on Microsoft.App, which
// the template never names: on a subscription where it was never registered the plan fails.
// Signs in as azd does (`azd auth token`); AZURE_SUBSCRIPTION_ID comes from the azd environment.
import { spawnSync } from 'node:child_process';

/** Every namespace of infra/ (test/unit/infra.test.ts holds this to the compiled template). */
const resourceProviders = [
  'Microsoft.App',
  'Microsoft.Communication',
  'Microsoft.DocumentDB',
  'Microsoft.Insights',
  'Microsoft.KeyVault',
  'Microsoft.ManagedIdentity',
  'Microsoft.OperationalInsights',
  'Microsoft.Storage',
  'Microsoft.Web',
];

const apiVersion = '2021-04-01';
const waitSeconds = 600;

function token() {
  const result = spawnSync('azd', ['auth', 'token', '--output', 'json'], {
    encoding: 'utf8',
    shell: process.platform === 'win32',
  });
  if (result.status !== 0)
    throw new Error(`azd auth token failed: ${result.stderr || result.error}`);
  return JSON.parse(result.stdout).token;
}

async function main() {
  const subscription = process.env.AZURE_SUBSCRIPTION_ID;
  if (!subscription) throw new Error('AZURE_SUBSCRIPTION_ID is not set (run through azd)');
  const arm = (
    process.env.AZURE_RESOURCE_MANAGER_ENDPOINT ?? 'https://management.azure.com'
  ).replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${token()}` };
  const url = (namespace, action = '') =>
    `${arm}/subscriptions/${subscription}/providers/${namespace}${action}?api-version=${apiVersion}`;
  const state = async (namespace) => {
    const response = await fetch(url(namespace), { headers });
    if (!response.ok)
      throw new Error(`reading ${namespace}: ${response.status} ${await response.text()}`);
    return (await response.json()).registrationState;
  };

  for (const namespace of resourceProviders) {
    if ((await state(namespace)) === 'Registered') {
      console.log(`${namespace}: registered`);
      continue;
    }
    const response = await fetch(url(namespace, '/register'), { method: 'POST', headers });
    if (!response.ok)
      throw new Error(`registering ${namespace}: ${response.status} ${await response.text()}`);
    console.log(`${namespace}: registering...`);
    const deadline = Date.now() + waitSeconds * 1000;
    while ((await state(namespace)) !== 'Registered') {
      if (Date.now() > deadline)
        throw new Error(`${namespace} is still not registered after ${waitSeconds}s`);
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
    console.log(`${namespace}: registered`);
  }
}

main().catch((error) => {
  console.error(`preprovision: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
