// Rotates IDEMPOTENCY_SECRET (docs/deployment.md, Rotating IDEMPOTENCY_SECRET):
//   node infra/hooks/rotate-idempotency-secret.mjs [--discard-previous]
// in the project folder, signed in with azd as someone who may assign roles on the vault
// (Owner, or User Access Administrator). It
// 1. grants you Key Vault Secrets Officer on the app's vault, for this run only;
// 2. copies the current secret to idempotency-secret-previous, then writes a new random
//    current one: what was sealed under the old one still opens (IDEMPOTENCY_SECRET_PREVIOUS),
//    everything new is sealed under the new one;
// 3. has the app's Key Vault references resolved now, and waits until they are;
// 4. removes your role again.
// A rotation keeps one previous secret: rotating again discards it, so this refuses unless
// told --discard-previous (webhook secrets still sealed under it would no longer open).
import { randomUUID } from 'node:crypto';
import {
  azdEnvironment,
  azdToken,
  client,
  functionAppPath,
  required,
  resourceManager,
  runHook,
  waitFor,
  waitSeconds,
} from './azure.mjs';
import { newSecretValue, refreshReferences, secretNames } from './idempotency-secret.mjs';

const keyVaultSecretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7';
const dataApi = '7.4';

/** The object id of whoever azd signed in as (the token's `oid`). */
function signedInObjectId(token) {
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
  if (!payload.oid) throw new Error('the azd sign-in token carries no object id (oid)');
  return payload.oid;
}

runHook('rotate-idempotency-secret', async () => {
  // Outside a hook, azd has not set its environment's values: ask it for them.
  for (const [name, value] of Object.entries(azdEnvironment()))
    if (process.env[name] === undefined) process.env[name] = value;
  const subscription = required('AZURE_SUBSCRIPTION_ID');
  const vaultPath =
    `/subscriptions/${subscription}/resourceGroups/${required('AZURE_RESOURCE_GROUP')}` +
    `/providers/Microsoft.KeyVault/vaults/${required('AZURE_KEY_VAULT_NAME')}`;
  const arm = resourceManager();
  const vault = client(
    required('AZURE_KEY_VAULT_ENDPOINT').replace(/\/+$/, ''),
    azdToken('https://vault.azure.net/.default'),
  );
  const secretUrl = (name) => `/secrets/${name}?api-version=${dataApi}`;

  const assignment = `${vaultPath}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`;
  await arm.put(assignment, {
    properties: {
      roleDefinitionId: `/subscriptions/${subscription}/providers/Microsoft.Authorization/roleDefinitions/${keyVaultSecretsOfficer}`,
      principalId: signedInObjectId(azdToken()),
    },
  });
  try {
    // A new role takes a few minutes to reach Key Vault: read until it does.
    const [current, previous] = await waitFor(
      'reading the secrets with Key Vault Secrets Officer',
      waitSeconds,
      async () => {
        try {
          const read = await Promise.all(
            [secretNames.current, secretNames.previous].map((name) => vault.get(secretUrl(name))),
          );
          return { done: true, value: read.map((secret) => secret?.value) };
        } catch (error) {
          return { done: false, why: error instanceof Error ? error.message : String(error) };
        }
      },
    );
    if (!current) throw new Error(`${secretNames.current} is not in the vault: run azd provision`);
    if (previous && previous !== current && !process.argv.includes('--discard-previous'))
      throw new Error(
        'IDEMPOTENCY_SECRET was rotated before, and rotating again discards the secret before it: webhook secrets still sealed under that one would no longer open. Rerun with --discard-previous once every endpoint created before the last rotation has rotated its secret (POST /api/me/webhooks/{id}/rotate-secret), or accept that those endpoints fail and are disabled.',
      );
    await vault.put(secretUrl(secretNames.previous), { value: current, contentType: 'text/plain' });
    await vault.put(secretUrl(secretNames.current), {
      value: newSecretValue(),
      contentType: 'text/plain',
    });
    console.log('IDEMPOTENCY_SECRET: rotated; the one before is IDEMPOTENCY_SECRET_PREVIOUS');
    await refreshReferences(arm, functionAppPath());
  } finally {
    await arm.delete(assignment);
  }
});
