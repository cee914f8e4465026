import * as z from 'zod';

/**
 * Every setting the app reads, validated once at start. A missing or bad setting stops the app
 * with a message naming it. infra/modules/function-app.bicep sets each required one.
 */
const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();
const optionalUrl = optionalString.pipe(z.url({ protocol: /^https?$/ }).optional());
const intSetting = (defaultValue: number, min: number, max: number, tooBig?: string) =>
  z.coerce
    .number()
    .int()
    .min(min)
    .max(max, tooBig === undefined ? undefined : { message: tooBig })
    .default(defaultValue);

/**
 * host.json's functionTimeout (00:05:00): past it the Functions host stops the invocation and
 * restarts the worker. One Cosmos call of a timer must end well before it
 * (test/unit/host-json.test.ts holds this constant to host.json).
 */
export const functionTimeoutMs = 5 * 60_000;
/** The longest COSMOS_TIMER_DEADLINE_MS: a minute under functionTimeout, for the run to record. */
export const maxTimerDeadlineMs = functionTimeoutMs - 60_000;

/** The delegated scope user tokens must carry (AUTH_SCOPE), and dev tokens carry. */
export const devScope = 'access_as_user';

const settingsShape = z.object({
  AUTH_MODE: z.enum(['entra', 'dev']).default('entra'),
  AUTH_AUDIENCE: optionalString,
  AUTH_JWKS_URI: z.url().default('https://login.microsoftonline.com/common/discovery/v2.0/keys'),
  AUTH_ISSUER_TEMPLATE: z
    .string()
    .includes('{tenantid}')
    .default('https://login.microsoftonline.com/{tenantid}/v2.0'),
  AUTH_APP_ID_URI: optionalString,
  AUTH_SCOPE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default(devScope),
  AUTH_GLOBAL_ADMIN_APP_ROLE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  DEV_KEY_FILE: z.string().default('.local/dev-signing-key.json'),
  IDEMPOTENCY_SECRET: optionalString.pipe(z.string().min(32).optional()),
  // The secret before the last rotation: what was sealed under it still opens (docs/deployment.md).
  IDEMPOTENCY_SECRET_PREVIOUS: optionalString.pipe(z.string().min(32).optional()),
  IDEMPOTENCY_SECRET_FILE: z.string().default('.local/idempotency-secret'),
  OPERATOR_TENANT_ID: z.uuid().default('00000000-0000-0000-0000-0000000000ff'),
  // Set by the Functions platform on Azure hosts (see azureHostMarker), never by the app.
  WEBSITE_INSTANCE_ID: optionalString,
  WEBSITE_SITE_NAME: optionalString,
  WEBSITE_OWNER_NAME: optionalString,
  WEBSITE_HOSTNAME: optionalString,
  AZURE_CLIENT_ID: optionalString.pipe(z.uuid().optional()),

  COSMOS_ENDPOINT: z.url(),
  COSMOS_KEY: optionalString,
  COSMOS_DATABASE: z.string().min(1).default('partner-transition'),
  COSMOS_HTTP_DEADLINE_MS: intSetting(8_000, 100, 120_000),
  COSMOS_TIMER_DEADLINE_MS: intSetting(
    60_000,
    100,
    maxTimerDeadlineMs,
    `must stay under host.json's functionTimeout (${functionTimeoutMs / 60_000} minutes): at most ${maxTimerDeadlineMs}`,
  ),

  ACS_CONNECTION_STRING: optionalString,
  ACS_ENDPOINT: optionalUrl,
  EMAIL_SENDER: z.email().default('DoNotReply@partner-transition.local'),
  EMAIL_OUTBOX_DIR: z.string().default('.local/outbox'),
  EMAIL_MAX_ATTEMPTS: intSetting(6, 1, 20),
  EMAIL_RETRY_BASE_SECONDS: intSetting(30, 1, 3600),
  EMAIL_DELIVERY_CONCURRENCY: intSetting(16, 1, 64),
  // The ACS quota of a custom domain (an Azure-managed one allows 5 and 10): raise both with it.
  EMAIL_SENDS_PER_MINUTE: intSetting(30, 1, 100_000),
  EMAIL_SENDS_PER_HOUR: intSetting(100, 1, 1_000_000),

  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).default('http://localhost:7071'),
  PORTAL_BASE_URL: optionalUrl,
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter((origin) => origin !== ''),
    ),
  REVIEWERS_EMAIL: z.email().default('enrollment-reviewers@partner-transition.local'),
  ESCALATION_BUSINESS_DAYS: intSetting(3, 1, 30),
  AGREEMENT_TEMPLATE_ID: z.string().min(1).default('indirect-reseller-agreement'),
  AGREEMENT_VERSION: z.string().min(1).default('2026-01'),
  AGREEMENT_TITLE: z.string().min(1).default('Microsoft Indirect Reseller Agreement'),
  AGREEMENT_URL: z.url().default('https://www.microsoft.com/licensing/docs/customeragreement'),
  LINK_TTL_DAYS: intSetting(30, 1, 365),
  INCENTIVE_INVITE_DELAY_DAYS: intSetting(0, 0, 29),
  TRANSITION_STUCK_DAYS: intSetting(14, 1, 365),
  INVITATION_RATE_LIMIT_PER_HOUR: intSetting(100, 1, 100_000),
  // docs/rules.md section 13: a busy reseller requesting a transfer every minute (two emails
  // each, one to each partner) and inviting a few customers stays within it; a flood does not.
  EMAIL_SENDS_PER_PARTNER_PER_HOUR: intSetting(200, 1, 1_000_000),
  AUDIT_RETENTION_DAYS: intSetting(730, 1, 3650),
  RATE_LIMIT_TENANT_PER_MINUTE: intSetting(300, 1, 10_000_000),
  RATE_LIMIT_TENANT_BURST: intSetting(100, 1, 10_000_000),
  RATE_LIMIT_LINK_LOOKUPS_PER_MINUTE: intSetting(10, 1, 10_000_000),
  RATE_LIMIT_LINK_LOOKUPS_BURST: intSetting(20, 1, 10_000_000),
  WEBHOOKS_ALLOW_LOCAL: z.enum(['true', 'false']).optional(),
  EVENTS_DELIVERIES_PER_RUN: intSetting(2000, 1, 100_000),
  EVENTS_DELIVERIES_PER_ENDPOINT_PER_RUN: intSetting(200, 1, 10_000),
  EVENTS_PROMPT_DELIVERIES_PER_ENDPOINT_PER_MINUTE: intSetting(60, 0, 10_000),
  EVENTS_PROMPT_DELIVERY: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true'),
});

/**
 * What the Functions platform sets on an Azure host: any one of them means the app runs in Azure.
 * Flex Consumption leaves WEBSITE_INSTANCE_ID unset but sets the others; Core Tools (`func start`)
 * sets WEBSITE_HOSTNAME too, to localhost:<port>, which does not count. CONTAINER_NAME, which
 * Linux hosts in Azure also set, is not one: container runtimes and sandboxes set it anywhere.
 */
export const azureHostMarkers = [
  'WEBSITE_INSTANCE_ID',
  'WEBSITE_SITE_NAME',
  'WEBSITE_OWNER_NAME',
  'WEBSITE_HOSTNAME',
] as const;

const localHostName = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i;

/** The first Azure host marker set in `env`, or undefined off Azure. */
export function azureHostMarker(env: Record<string, string | undefined>): string | undefined {
  return azureHostMarkers.find((name) => {
    const value = env[name]?.trim();
    if (!value) return false;
    return name !== 'WEBSITE_HOSTNAME' || !localHostName.test(value);
  });
}

/** True when the process runs on an Azure App Service or Functions host (azureHostMarker). */
export function runsOnAzureHost(env: Record<string, string | undefined>): boolean {
  return azureHostMarker(env) !== undefined;
}

/**
 * App Service passes a Key Vault reference it could not resolve (the app's identity has no role
 * on the vault yet, the secret or the vault is missing, the network refuses) to the app as its
 * literal text, `@Microsoft.KeyVault(SecretUri=...)`; an App Configuration reference likewise.
 * Such a value is never the setting: the app refuses to start and names it.
 */
const unresolvedReference = /^@Microsoft\.(KeyVault|AppConfiguration)\(/i;

function unresolvedReferences(env: Record<string, string | undefined>): string[] {
  return Object.keys(settingsShape.shape).flatMap((name) => {
    const kind = unresolvedReference.exec(env[name]?.trim() ?? '')?.[1];
    if (kind === undefined) return [];
    const vault = kind.toLowerCase() === 'keyvault';
    const store = vault
      ? "give the app's identity the Key Vault Secrets User role on the vault, check that the secret exists and that the vault lets the app reach it"
      : "give the app's identity the App Configuration Data Reader role on the store and check that the key exists";
    return [
      `${name}: is ${vault ? 'a Key Vault' : 'an App Configuration'} reference the platform could not resolve, not a value: ${store}, then restart the app`,
    ];
  });
}

/** Rules across settings, checked on the raw values so every problem is named at once. */
function crossSettingProblems(env: Record<string, string | undefined>): string[] {
  const mode = env.AUTH_MODE?.trim() || 'entra';
  const problems: string[] = [...unresolvedReferences(env)];
  const marker = azureHostMarker(env);
  if (mode === 'dev' && marker) {
    problems.push(`AUTH_MODE: dev mode is refused when the app runs in Azure (${marker} is set)`);
  }
  if (env.WEBHOOKS_ALLOW_LOCAL?.trim() === 'true' && marker) {
    problems.push(
      `WEBHOOKS_ALLOW_LOCAL: local webhook endpoints are refused when the app runs in Azure (${marker} is set)`,
    );
  } else if (env.WEBHOOKS_ALLOW_LOCAL?.trim() === 'true' && mode !== 'dev') {
    problems.push(
      'WEBHOOKS_ALLOW_LOCAL: local webhook endpoints are allowed only with AUTH_MODE=dev (the local stack), never with entra sign-in',
    );
  }
  const audience = env.AUTH_AUDIENCE?.trim();
  if (mode === 'entra' && !audience) {
    problems.push(
      'AUTH_AUDIENCE: is required when AUTH_MODE is entra (the client id of the API app registration)',
    );
  } else if (mode === 'entra' && !z.uuid().safeParse(audience).success) {
    problems.push(
      'AUTH_AUDIENCE: must be the client id (a GUID) of the API app registration, the aud of v2 access tokens; put an application id URI in AUTH_APP_ID_URI to accept v1 tokens',
    );
  }
  if (mode === 'entra' && !env.IDEMPOTENCY_SECRET?.trim()) {
    problems.push(
      'IDEMPOTENCY_SECRET: is required when AUTH_MODE is entra (a Key Vault reference to a random secret of at least 32 characters)',
    );
  }
  return problems;
}

export type Settings = z.output<typeof settingsShape>;

/** The audience dev tokens carry and dev mode expects when AUTH_AUDIENCE is not set. */
export const devAudience = 'api://partner-transition-dev';

export interface Config {
  auth: {
    mode: 'entra' | 'dev';
    audience: string;
    jwksUri: string;
    issuerTemplate: string;
    /** v1 tokens' aud, when v1 tokens are accepted. */
    appIdUri: string | undefined;
    scope: string;
    globalAdminAppRole: boolean;
    devKeyFile: string;
    operatorTenantId: string;
  };
  idempotency: {
    /** The server secret; unset in dev mode, where `secretFile` holds a generated one. */
    secret: string | undefined;
    /**
     * The server secret before the last rotation, if it differs: webhook secrets and idempotent
     * answers sealed under it still open. Nothing is sealed under it any more.
     */
    previousSecret: string | undefined;
    secretFile: string;
  };
  cosmos: {
    endpoint: string;
    key: string | undefined;
    database: string;
    /** How long one Cosmos call may take, SDK retries included: HTTP routes, then timers. */
    deadlineMs: { http: number; timer: number };
  };
  /**
   * How the app signs in to Azure resources (Cosmos DB, ACS) without a key: on an Azure host
   * with its managed identity (a user-assigned one when clientId is set), elsewhere with a
   * developer's own sign-in.
   */
  identity: AzureIdentity;
  email: {
    acsConnectionString: string | undefined;
    acsEndpoint: string | undefined;
    sender: string;
    outboxDir: string;
    maxAttempts: number;
    retryBaseSeconds: number;
    deliveryConcurrency: number;
    /** The platform-wide send budget (domain/send-budget.ts). */
    sendsPerMinute: number;
    sendsPerHour: number;
  };
  links: {
    publicBaseUrl: string;
    portalBaseUrl: string | undefined;
    ttlDays: number;
  };
  corsOrigins: string[];
  enrollment: {
    reviewersEmail: string;
    escalationBusinessDays: number;
    agreement: {
      templateId: string;
      version: string;
      title: string;
      url: string;
    };
  };
  incentives: { inviteDelayDays: number };
  /** The operators' transition report: a partner at one step longer than this is stuck. */
  transition: { stuckDays: number };
  limits: {
    invitationsPerHour: number;
    /** Emails a partner's actions may cause per hour (docs/rules.md section 13). */
    emailsPerPartnerPerHour: number;
    /** Token buckets: per tenant for signed-in requests, per client for link lookups. */
    requests: {
      tenant: { burst: number; perMinute: number };
      linkLookups: { burst: number; perMinute: number };
    };
  };
  /** Audit events expire this long after they are written (a Cosmos per-item ttl). */
  audit: { retentionDays: number };
  webhooks: {
    /** `http://localhost` endpoints: with dev sign-in only, never in Azure (docs/security.md). */
    allowLocal: boolean;
    /** Publish and deliver a request's events right after it answers, besides the timer. */
    promptDelivery: boolean;
    /** Due deliveries one read of deliverEvents takes, and one endpoint's share of a run. */
    deliveriesPerRun: number;
    deliveriesPerEndpointPerRun: number;
    /**
     * Events a prompt run may send one endpoint in a minute: past it, the endpoint is left to the
     * paced timer, so a tenant's bulk import never turns prompt delivery into a flood.
     */
    promptDeliveriesPerEndpointPerMinute: number;
  };
}

export interface AzureIdentity {
  onAzureHost: boolean;
  /** AZURE_CLIENT_ID: the client id of a user-assigned managed identity. */
  clientId: string | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const trimSlash = (url: string): string => url.replace(/\/+$/, '');

/** Reads and validates the settings; throws ConfigError naming every bad or missing one. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = settingsShape.safeParse(env, { jitless: true });
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((issue) => {
          const name = issue.path.join('.');
          return env[name] === undefined ? `${name}: is required` : `${name}: ${issue.message}`;
        })),
    ...crossSettingProblems(env),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const s = parsed.data;
  return {
    auth: {
      mode: s.AUTH_MODE,
      audience: s.AUTH_AUDIENCE ?? devAudience,
      jwksUri: s.AUTH_JWKS_URI,
      issuerTemplate: s.AUTH_ISSUER_TEMPLATE,
      appIdUri: s.AUTH_APP_ID_URI,
      scope: s.AUTH_SCOPE,
      globalAdminAppRole: s.AUTH_GLOBAL_ADMIN_APP_ROLE,
      devKeyFile: s.DEV_KEY_FILE,
      operatorTenantId: s.OPERATOR_TENANT_ID.toLowerCase(),
    },
    idempotency: {
      secret: s.IDEMPOTENCY_SECRET,
      previousSecret:
        s.IDEMPOTENCY_SECRET_PREVIOUS === s.IDEMPOTENCY_SECRET
          ? undefined
          : s.IDEMPOTENCY_SECRET_PREVIOUS,
      secretFile: s.IDEMPOTENCY_SECRET_FILE,
    },
    cosmos: {
      endpoint: s.COSMOS_ENDPOINT,
      key: s.COSMOS_KEY,
      database: s.COSMOS_DATABASE,
      deadlineMs: { http: s.COSMOS_HTTP_DEADLINE_MS, timer: s.COSMOS_TIMER_DEADLINE_MS },
    },
    identity: { onAzureHost: runsOnAzureHost(env), clientId: s.AZURE_CLIENT_ID },
    email: {
      acsConnectionString: s.ACS_CONNECTION_STRING,
      acsEndpoint: s.ACS_ENDPOINT,
      sender: s.EMAIL_SENDER,
      outboxDir: s.EMAIL_OUTBOX_DIR,
      maxAttempts: s.EMAIL_MAX_ATTEMPTS,
      retryBaseSeconds: s.EMAIL_RETRY_BASE_SECONDS,
      deliveryConcurrency: s.EMAIL_DELIVERY_CONCURRENCY,
      sendsPerMinute: s.EMAIL_SENDS_PER_MINUTE,
      sendsPerHour: s.EMAIL_SENDS_PER_HOUR,
    },
    links: {
      publicBaseUrl: trimSlash(s.PUBLIC_BASE_URL),
      portalBaseUrl: s.PORTAL_BASE_URL === undefined ? undefined : trimSlash(s.PORTAL_BASE_URL),
      ttlDays: s.LINK_TTL_DAYS,
    },
    corsOrigins: s.CORS_ORIGINS,
    enrollment: {
      reviewersEmail: s.REVIEWERS_EMAIL,
      escalationBusinessDays: s.ESCALATION_BUSINESS_DAYS,
      agreement: {
        templateId: s.AGREEMENT_TEMPLATE_ID,
        version: s.AGREEMENT_VERSION,
        title: s.AGREEMENT_TITLE,
        url: s.AGREEMENT_URL,
      },
    },
    incentives: { inviteDelayDays: s.INCENTIVE_INVITE_DELAY_DAYS },
    transition: { stuckDays: s.TRANSITION_STUCK_DAYS },
    limits: {
      invitationsPerHour: s.INVITATION_RATE_LIMIT_PER_HOUR,
      emailsPerPartnerPerHour: s.EMAIL_SENDS_PER_PARTNER_PER_HOUR,
      requests: {
        tenant: { burst: s.RATE_LIMIT_TENANT_BURST, perMinute: s.RATE_LIMIT_TENANT_PER_MINUTE },
        linkLookups: {
          burst: s.RATE_LIMIT_LINK_LOOKUPS_BURST,
          perMinute: s.RATE_LIMIT_LINK_LOOKUPS_PER_MINUTE,
        },
      },
    },
    audit: { retentionDays: s.AUDIT_RETENTION_DAYS },
    webhooks: {
      // Only the local stack (dev sign-in) reaches loopback webhooks: in entra mode, whatever
      // the host (AKS, a VM, Container Apps without the WEBSITE_* markers), never.
      allowLocal: (s.WEBHOOKS_ALLOW_LOCAL ?? (s.AUTH_MODE === 'dev' ? 'true' : 'false')) === 'true',
      promptDelivery: s.EVENTS_PROMPT_DELIVERY,
      deliveriesPerRun: s.EVENTS_DELIVERIES_PER_RUN,
      deliveriesPerEndpointPerRun: s.EVENTS_DELIVERIES_PER_ENDPOINT_PER_RUN,
      promptDeliveriesPerEndpointPerMinute: s.EVENTS_PROMPT_DELIVERIES_PER_ENDPOINT_PER_MINUTE,
    },
  };
}

/** Every setting name the app reads. */
export function settingNames(): string[] {
  return Object.keys(settingsShape.shape);
}

/**
 * Settings without a default: the Function App must be given each (AUTH_AUDIENCE and
 * IDEMPOTENCY_SECRET because Azure always runs in entra mode). infra tests hold Bicep to this list.
 */
export function requiredSettingNames(): string[] {
  const shape = settingsShape.shape as Record<string, z.ZodType>;
  const withoutDefault = Object.keys(shape).filter(
    (name) => !shape[name]!.safeParse(undefined).success,
  );
  return [...withoutDefault, 'AUTH_AUDIENCE', 'IDEMPOTENCY_SECRET'];
}
