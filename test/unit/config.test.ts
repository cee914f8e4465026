import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  functionTimeoutMs,
  loadConfig,
  maxTimerDeadlineMs,
  requiredSettingNames,
} from '../../shared/config';

const minimal = {
  COSMOS_ENDPOINT: 'https://account.documents.azure.com:443/',
  AUTH_AUDIENCE: '5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6b',
  IDEMPOTENCY_SECRET: 'x'.repeat(43),
};

describe('configuration', () => {
  it('reads a minimal Azure configuration with defaults for the rest', () => {
    const config = loadConfig(minimal);
    expect(config.auth.mode).toBe('entra');
    expect(config.enrollment.escalationBusinessDays).toBe(3);
    expect(config.links.ttlDays).toBe(30);
    expect(config.incentives.inviteDelayDays).toBe(0);
    expect(config.audit.retentionDays).toBe(730);
  });

  it('names every missing setting', () => {
    const error = (() => {
      try {
        loadConfig({});
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('COSMOS_ENDPOINT');
    expect(error.message).toContain('AUTH_AUDIENCE');
  });

  it('wants the client id as AUTH_AUDIENCE in Entra mode, since v2 tokens carry it as aud', () => {
    expect(() => loadConfig({ ...minimal, AUTH_AUDIENCE: 'api://partner-transition' })).toThrow(
      /AUTH_AUDIENCE: must be the client id.*AUTH_APP_ID_URI/,
    );
    const both = loadConfig({ ...minimal, AUTH_APP_ID_URI: 'api://partner-transition' });
    expect(both.auth).toMatchObject({
      audience: minimal.AUTH_AUDIENCE,
      appIdUri: 'api://partner-transition',
      scope: 'access_as_user',
      globalAdminAppRole: false,
    });
    expect(
      loadConfig({ ...minimal, AUTH_GLOBAL_ADMIN_APP_ROLE: 'true' }).auth.globalAdminAppRole,
    ).toBe(true);
  });

  it('names a bad value', () => {
    expect(() => loadConfig({ ...minimal, ESCALATION_BUSINESS_DAYS: 'three' })).toThrow(
      /ESCALATION_BUSINESS_DAYS/,
    );
    expect(() => loadConfig({ ...minimal, INCENTIVE_INVITE_DELAY_DAYS: '30' })).toThrow(
      /INCENTIVE_INVITE_DELAY_DAYS/,
    );
    expect(() => loadConfig({ ...minimal, PUBLIC_BASE_URL: 'ftp://x' })).toThrow(/PUBLIC_BASE_URL/);
    expect(() => loadConfig({ ...minimal, AUDIT_RETENTION_DAYS: '0' })).toThrow(
      /AUDIT_RETENTION_DAYS/,
    );
  });

  it.each([
    ['WEBSITE_INSTANCE_ID', '0123456789abcdef', 'App Service plans and Consumption'],
    ['WEBSITE_SITE_NAME', 'func-abc123', 'every Azure host, Flex Consumption included'],
    [
      'WEBSITE_OWNER_NAME',
      'sub+flex-99ddf98-webspace',
      'every Azure host, Flex Consumption included',
    ],
    [
      'WEBSITE_HOSTNAME',
      'func-abc123.azurewebsites.net',
      'every Azure host, Flex Consumption included',
    ],
  ])('refuses dev authentication in Azure when %s is set (%s; %s)', (name, value) => {
    expect(() => loadConfig({ ...minimal, AUTH_MODE: 'dev', [name]: value })).toThrow(
      new RegExp(`AUTH_MODE: dev mode is refused when the app runs in Azure \\(${name} is set\\)`),
    );
  });

  it('allows local webhook endpoints off Azure only, and refuses them when asked for in Azure', () => {
    expect(loadConfig({ ...minimal, AUTH_MODE: 'dev' }).webhooks.allowLocal).toBe(true);
    const azure = { ...minimal, WEBSITE_SITE_NAME: 'func-partner-transition' };
    expect(loadConfig(azure).webhooks.allowLocal).toBe(false);
    expect(() => loadConfig({ ...azure, WEBHOOKS_ALLOW_LOCAL: 'true' })).toThrow(
      /WEBHOOKS_ALLOW_LOCAL: local webhook endpoints are refused when the app runs in Azure/,
    );
  });

  it('keeps local webhook endpoints off in entra mode whatever the host (AKS, a VM), and refuses them when asked for', () => {
    // A host without the WEBSITE_* markers: only the sign-in mode decides.
    expect(loadConfig({ ...minimal, AUTH_MODE: 'entra' }).webhooks.allowLocal).toBe(false);
    expect(
      loadConfig({ ...minimal, AUTH_MODE: 'entra', CONTAINER_NAME: 'pod-1' }).webhooks.allowLocal,
    ).toBe(false);
    expect(() =>
      loadConfig({ ...minimal, AUTH_MODE: 'entra', WEBHOOKS_ALLOW_LOCAL: 'true' }),
    ).toThrow(/WEBHOOKS_ALLOW_LOCAL: local webhook endpoints are allowed only with AUTH_MODE=dev/);
    expect(
      loadConfig({ ...minimal, AUTH_MODE: 'dev', WEBHOOKS_ALLOW_LOCAL: 'false' }).webhooks
        .allowLocal,
    ).toBe(false);
  });

  it('allows dev authentication in a container outside Azure (CONTAINER_NAME alone is no Azure host)', () => {
    expect(
      loadConfig({ ...minimal, AUTH_MODE: 'dev', CONTAINER_NAME: 'dev-sandbox-1' }).auth.mode,
    ).toBe('dev');
  });

  it('allows dev authentication under Core Tools, whose WEBSITE_HOSTNAME is localhost', () => {
    for (const host of ['localhost:7071', '127.0.0.1:7071'])
      expect(loadConfig({ ...minimal, AUTH_MODE: 'dev', WEBSITE_HOSTNAME: host }).auth.mode).toBe(
        'dev',
      );
  });

  it('defaults the send budget to the ACS quota of a custom domain: 30 a minute, 100 an hour', () => {
    const { sendsPerMinute, sendsPerHour } = loadConfig(minimal).email;
    expect([sendsPerMinute, sendsPerHour]).toEqual([30, 100]);
  });

  it('reads the idempotency secret before its rotation, and none when it is the same secret', () => {
    const previous = 'p'.repeat(43);
    expect(
      loadConfig({ ...minimal, IDEMPOTENCY_SECRET_PREVIOUS: previous }).idempotency.previousSecret,
    ).toBe(previous);
    expect(
      loadConfig({ ...minimal, IDEMPOTENCY_SECRET_PREVIOUS: minimal.IDEMPOTENCY_SECRET })
        .idempotency.previousSecret,
    ).toBeUndefined();
    expect(loadConfig(minimal).idempotency.previousSecret).toBeUndefined();
    expect(() => loadConfig({ ...minimal, IDEMPOTENCY_SECRET_PREVIOUS: 'short' })).toThrow(
      /IDEMPOTENCY_SECRET_PREVIOUS: .*32/,
    );
    // The platform's text for a reference it could not resolve is never taken for the secret.
    expect(() =>
      loadConfig({
        ...minimal,
        IDEMPOTENCY_SECRET_PREVIOUS:
          '@Microsoft.KeyVault(SecretUri=https://kv-abcdefghijklm.vault.azure.net/secrets/idempotency-secret-previous)',
      }),
    ).toThrow(
      /IDEMPOTENCY_SECRET_PREVIOUS: is a Key Vault reference the platform could not resolve/,
    );
  });

  it('lists the settings Azure must be given', () => {
    expect(requiredSettingNames().sort()).toEqual([
      'AUTH_AUDIENCE',
      'COSMOS_ENDPOINT',
      'IDEMPOTENCY_SECRET',
    ]);
  });

  it('refuses a Key Vault reference the platform could not resolve, naming the setting and what to do, instead of taking its text as the secret', () => {
    const reference =
      '@Microsoft.KeyVault(SecretUri=https://kv-abc123.vault.azure.net/secrets/idempotency-secret)';
    expect(reference.length).toBeGreaterThanOrEqual(32);
    expect(() => loadConfig({ ...minimal, IDEMPOTENCY_SECRET: reference })).toThrow(
      /IDEMPOTENCY_SECRET: is a Key Vault reference the platform could not resolve, not a value: give the app's identity the Key Vault Secrets User role on the vault.*then restart the app/,
    );
    expect(() =>
      loadConfig({
        ...minimal,
        IDEMPOTENCY_SECRET: ` @microsoft.keyvault(VaultName=kv;SecretName=s)`,
      }),
    ).toThrow(/IDEMPOTENCY_SECRET: is a Key Vault reference/);
    expect(() =>
      loadConfig({
        ...minimal,
        ACS_CONNECTION_STRING: '@Microsoft.AppConfiguration(Endpoint=https://x.azconfig.io; Key=k)',
      }),
    ).toThrow(/ACS_CONNECTION_STRING: is an? App Configuration reference/);
  });

  it("holds COSMOS_TIMER_DEADLINE_MS under host.json's functionTimeout", () => {
    expect(
      loadConfig({ ...minimal, COSMOS_TIMER_DEADLINE_MS: String(maxTimerDeadlineMs) }).cosmos
        .deadlineMs.timer,
    ).toBe(maxTimerDeadlineMs);
    expect(maxTimerDeadlineMs).toBeLessThan(functionTimeoutMs);
    expect(() =>
      loadConfig({ ...minimal, COSMOS_TIMER_DEADLINE_MS: String(functionTimeoutMs) }),
    ).toThrow(
      /COSMOS_TIMER_DEADLINE_MS: must stay under host.json's functionTimeout \(5 minutes\)/,
    );
  });
});
