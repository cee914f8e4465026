// IDEMPOTENCY_SECRET in Key Vault, for the hooks: created once when absent, and the Function
// App's Key Vault references resolved on demand. The names are infra/modules/key-vault.bicep's
// (test/unit/infra-hooks.test.ts holds them equal).
import { randomBytes } from 'node:crypto';
import { required, waitFor, waitSeconds } from './azure.mjs';

export const secretNames = {
  current: 'idempotency-secret',
  previous: 'idempotency-secret-previous',
};
/** The app settings that reference them. */
export const referencingSettings = ['IDEMPOTENCY_SECRET', 'IDEMPOTENCY_SECRET_PREVIOUS'];

const keyVaultApi = '2023-07-01';
const webApi = '2022-03-01';

/** 48 random bytes, base64url: 64 characters, over the 32 shared/config.ts asks for. */
export function newSecretValue() {
  return randomBytes(48).toString('base64url');
}

const secretPath = (name) =>
  `/subscriptions/${required('AZURE_SUBSCRIPTION_ID')}` +
  `/resourceGroups/${required('AZURE_RESOURCE_GROUP')}` +
  `/providers/Microsoft.KeyVault/vaults/${required('AZURE_KEY_VAULT_NAME')}` +
  `/secrets/${name}?api-version=${keyVaultApi}`;

/**
 * Creates the secrets that are absent, through Resource Manager (which never returns a value,
 * and needs no data-plane role): on a new vault both get the same random value (no rotation
 * yet); a secret that exists is left as it is, whatever machine provisions.
 */
export async function ensureSecrets(arm) {
  const [current, previous] = await Promise.all(
    [secretNames.current, secretNames.previous].map((name) => arm.get(secretPath(name))),
  );
  const write = (name, value) =>
    arm.put(secretPath(name), { properties: { value, contentType: 'text/plain' } });
  if (!current && !previous) {
    const value = newSecretValue();
    await write(secretNames.current, value);
    await write(secretNames.previous, value);
    console.log('IDEMPOTENCY_SECRET: created in Key Vault, once (no rotation yet)');
    return;
  }
  if (!current) {
    // Its loss cannot be undone: say so rather than pass over it.
    await write(secretNames.current, newSecretValue());
    console.warn(
      'IDEMPOTENCY_SECRET: was missing from Key Vault and has been created anew; webhook secrets sealed under the lost one no longer open (docs/deployment.md)',
    );
  } else console.log('IDEMPOTENCY_SECRET: kept as it is in Key Vault');
  if (!previous) {
    // A deployment made before the previous secret existed: one that opens nothing.
    await write(secretNames.previous, newSecretValue());
    console.log('IDEMPOTENCY_SECRET_PREVIOUS: created (no rotation yet)');
  }
}

/** Statuses that are not a failure: resolved, or not tried yet (an app that never started). */
const settled = ['Resolved', 'Initialized'];

/**
 * Has App Service resolve the Function App's Key Vault references now (it would otherwise wait
 * for a settings change, or 24 hours), and waits until neither idempotency setting is in a
 * failed state (AccessToKeyVaultDenied while a role propagates, SecretNotFound...): each is
 * Resolved, or Initialized when the app has not started yet (it then resolves them at its first
 * start, and the postdeploy hook sees it answer).
 */
export async function refreshReferences(arm, sitePath) {
  const refresh = `${sitePath}/config/configreferences/appsettings/refresh?api-version=${webApi}`;
  const statuses = `${sitePath}/config/configreferences/appsettings?api-version=${webApi}`;
  const found = await waitFor(
    'resolving the Key Vault references of the app settings',
    waitSeconds,
    async () => {
      await arm.post(refresh);
      const references = new Map(
        (await arm.list(statuses)).map((item) => [item.name.split('/').pop(), item.properties]),
      );
      const failing = referencingSettings.filter(
        (name) => !settled.includes(references.get(name)?.status),
      );
      const why = failing
        .map((name) => {
          const reference = references.get(name);
          if (!reference) return `${name}: not listed`;
          return `${name}: ${reference.status}${reference.details ? `, ${reference.details}` : ''}`;
        })
        .join('; ');
      return { done: failing.length === 0, value: references, why };
    },
  );
  const pending = referencingSettings.filter((name) => found.get(name).status !== 'Resolved');
  console.log(
    pending.length === 0
      ? `Key Vault references resolved: ${referencingSettings.join(', ')}`
      : `Key Vault references resolved: ${referencingSettings.filter((name) => !pending.includes(name)).join(', ') || 'none yet'}; ${pending.join(', ')} at the app's first start`,
  );
}
