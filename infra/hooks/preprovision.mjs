// azd preprovision hook (azure.yaml): before `azd provision` deploys infra/main.bicep,
// 1. registers on the subscription every resource provider the template needs. ARM registers
//    a provider by itself only for the resource types a template declares, and Flex
//    Consumption also runs on Microsoft.App, which the template never names: on a subscription
//    where it was never registered the plan fails;
// 2. recovers this environment's Key Vault if `azd down` left it soft-deleted (without
//    --purge): the template would otherwise collide with it for 7 days. Recovered, it keeps
//    IDEMPOTENCY_SECRET.
import { required, resourceManager, runHook, waitFor, waitSeconds } from './azure.mjs';

/** Every namespace of infra/ (test/unit/infra-hooks.test.ts holds this to the compiled template). */
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

async function registerProviders(arm, subscription) {
  const url = (namespace, action = '') =>
    `/subscriptions/${subscription}/providers/${namespace}${action}?api-version=2021-04-01`;
  const state = async (namespace) => (await arm.get(url(namespace)))?.registrationState;
  for (const namespace of resourceProviders) {
    if ((await state(namespace)) !== 'Registered') {
      await arm.post(url(namespace, '/register'));
      console.log(`${namespace}: registering...`);
      await waitFor(`registering ${namespace}`, waitSeconds, async () => {
        const now = await state(namespace);
        return { done: now === 'Registered', why: `it is ${now}` };
      });
    }
    console.log(`${namespace}: registered`);
  }
}

const sameText = (a, b) => String(a).toLowerCase() === String(b).toLowerCase();

async function recoverDeletedVault(arm, subscription) {
  const environment = process.env.AZURE_ENV_NAME?.trim();
  const location = process.env.AZURE_LOCATION?.trim();
  if (!environment || !location) return;
  // main.bicep's resource group: AZURE_RESOURCE_GROUP, or rg-<environment name>.
  const group = process.env.AZURE_RESOURCE_GROUP?.trim() || `rg-${environment}`;
  const deleted = await arm.list(
    `/subscriptions/${subscription}/providers/Microsoft.KeyVault/deletedVaults?api-version=2023-07-01`,
  );
  const ours = deleted.filter(
    ({ properties }) =>
      properties?.tags?.['azd-env-name'] === environment &&
      sameText(properties.location, location) &&
      sameText(properties.vaultId?.split('/')[4], group),
  );
  for (const vault of ours) {
    const groupPath = `/subscriptions/${subscription}/resourcegroups/${group}?api-version=2021-04-01`;
    if (!(await arm.get(groupPath)))
      await arm.put(groupPath, { location, tags: { 'azd-env-name': environment } });
    const { tenantId } = await arm.get(`/subscriptions/${subscription}?api-version=2022-12-01`);
    const vaultPath =
      `/subscriptions/${subscription}/resourceGroups/${group}` +
      `/providers/Microsoft.KeyVault/vaults/${vault.name}?api-version=2023-07-01`;
    await arm.put(vaultPath, {
      location,
      tags: vault.properties.tags,
      properties: { tenantId, sku: { family: 'A', name: 'standard' }, createMode: 'recover' },
    });
    await waitFor(`recovering Key Vault ${vault.name}`, waitSeconds, async () => {
      const state = (await arm.get(vaultPath))?.properties?.provisioningState;
      return { done: state === 'Succeeded', why: `it is ${state ?? 'not there yet'}` };
    });
    console.log(
      `Key Vault ${vault.name}: recovered from the soft delete \`azd down\` left it in, with its secrets`,
    );
  }
}

runHook('preprovision', async () => {
  const subscription = required('AZURE_SUBSCRIPTION_ID');
  const arm = resourceManager();
  await registerProviders(arm, subscription);
  await recoverDeletedVault(arm, subscription);
});
