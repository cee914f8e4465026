// azd postdeploy hook (azure.yaml): after each `azd deploy` (and in `azd up`),
// 1. syncs the Function App's triggers until Azure lists the five timers (on Flex Consumption
//    a deployment can leave them unknown, and then they never fire);
// 2. has its Key Vault references resolved again, now that it has code to start;
// 3. waits for GET /api/health to answer 200, and prints it: the app loaded its settings (it
//    refuses an unresolved Key Vault reference) and reaches Cosmos DB with its identity.
import { functionAppPath, required, resourceManager, runHook } from './azure.mjs';
import { health, syncTriggers, timers } from './function-app.mjs';
import { refreshReferences } from './idempotency-secret.mjs';

runHook('postdeploy', async () => {
  const arm = resourceManager();
  await syncTriggers(arm, functionAppPath());
  console.log(`Triggers synced: the ${timers.length} timers are listed (${timers.join(', ')})`);
  await refreshReferences(arm, functionAppPath());
  const apiUrl = required('API_URL').replace(/\/+$/, '');
  const { status, degraded } = await health(apiUrl);
  const reasons = degraded?.length ? ` (${degraded.join('; ')})` : '';
  console.log(`${apiUrl}/api/health: ${status}${reasons}`);
});
