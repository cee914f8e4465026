// azd postprovision hook (azure.yaml): after each `azd provision` (and in `azd up`),
// 1. creates IDEMPOTENCY_SECRET in Key Vault when it is absent, and only then: the template
//    never writes it, so a provision from a new machine or from CI keeps it;
// 2. has the Function App's Key Vault references resolved now, and waits until they are: the
//    app then never starts on an unresolved `@Microsoft.KeyVault(...)` text.
import { functionAppPath, resourceManager, runHook } from './azure.mjs';
import { ensureSecrets, refreshReferences } from './idempotency-secret.mjs';

runHook('postprovision', async () => {
  const arm = resourceManager();
  await ensureSecrets(arm);
  await refreshReferences(arm, functionAppPath());
});
