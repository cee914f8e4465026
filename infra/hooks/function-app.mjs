// The deployed Function App, for the hooks: its triggers synced until Azure lists its timers,
// and its health.
import { waitFor, waitSeconds } from './azure.mjs';

/** The app's timers (functions/timers.ts; test/unit/infra-hooks.test.ts holds them equal). */
export const timers = [
  'deliverEmails',
  'deliverEvents',
  'escalatePendingEnrollments',
  'sendIncentiveInvitations',
  'expireTransfers',
];

const webApi = '2024-04-01';

/** The timer triggers Azure lists for the app. */
async function listedTimers(arm, sitePath) {
  const functions = await arm.list(`${sitePath}/functions?api-version=${webApi}`);
  return functions
    .filter((item) =>
      (item.properties?.config?.bindings ?? []).some((binding) => binding.type === 'timerTrigger'),
    )
    .map((item) => item.properties?.name ?? item.name.split('/').pop());
}

/**
 * Syncs the triggers (as the portal's Refresh does) until Azure lists every timer: on Flex
 * Consumption a deployment can leave them unknown to the platform, and they then never fire
 * (azure-functions-host#10169, #11828), while azd only uploads the package.
 */
export async function syncTriggers(arm, sitePath) {
  await waitFor('listing the timers after syncing the triggers', waitSeconds, async () => {
    await arm.post(`${sitePath}/host/default/sync?api-version=${webApi}`);
    const listed = await listedTimers(arm, sitePath);
    const missing = timers.filter((name) => !listed.includes(name));
    return { done: missing.length === 0, why: `not listed: ${missing.join(', ')}` };
  });
}

/** GET /api/health once it answers 200: the app loaded its settings and reaches Cosmos DB. */
export async function health(apiUrl) {
  const text = await waitFor(`GET ${apiUrl}/api/health`, waitSeconds, async () => {
    try {
      // A cold start takes seconds; a minute without an answer is a look that failed.
      const response = await fetch(`${apiUrl}/api/health`, { signal: AbortSignal.timeout(60_000) });
      const body = await response.text();
      return { done: response.status === 200, value: body, why: `${response.status} ${body}` };
    } catch (error) {
      return { done: false, why: error instanceof Error ? error.message : String(error) };
    }
  });
  return JSON.parse(text);
}
