import { readFileSync } from 'node:fs';

/**
 * Local settings: the environment wins, then local.settings.json's Values (as `func start`
 * reads them), then these defaults that make `npm start` work with nothing configured.
 */
export function localDefaults(environment: NodeJS.ProcessEnv): Record<string, string | undefined> {
  let values: Record<string, string> = {};
  try {
    values =
      (
        JSON.parse(readFileSync('local.settings.json', 'utf8')) as {
          Values?: Record<string, string>;
        }
      ).Values ?? {};
  } catch {
    // No local.settings.json: the defaults below are enough.
  }
  return {
    AUTH_MODE: 'dev',
    COSMOS_ENDPOINT: 'http://127.0.0.1:8081',
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    EMAIL_OUTBOX_DIR: '.local/outbox',
    ...values,
    ...environment,
  };
}
