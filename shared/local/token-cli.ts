import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { devRoleClaims, loadOrCreateDevKey, signDevToken } from '../adapters/identity/dev-keys';
import { devAudience } from '../config';
import { localDefaults } from './settings';

const usage = `usage: npm run --silent token -- --tenant <tid> --roles GlobalAdmin[,AdminAgent] [--oid <id>] [--name <n>] [--email <e>] [--app] [--hours <h>]
  GlobalAdmin becomes the Global Administrator directory role (wids), the other roles app roles;
  --app mints an app-only token (idtyp: app, no user) for automation.`;

/** `npm run --silent token`: prints one development access token on stdout, alone. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string' },
      roles: { type: 'string', default: '' },
      oid: { type: 'string' },
      name: { type: 'string' },
      email: { type: 'string' },
      hours: { type: 'string', default: '8' },
      app: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.tenant) {
    console.error(usage);
    process.exit(values.help ? 0 : 2);
  }
  const tenant = values.tenant.toLowerCase();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(tenant)) {
    console.error('--tenant must be a GUID');
    process.exit(2);
  }
  const env = localDefaults(process.env);
  const key = await loadOrCreateDevKey(env.DEV_KEY_FILE ?? '.local/dev-signing-key.json');
  const names = values.roles
    .split(',')
    .map((role) => role.trim())
    .filter(Boolean);
  const userId = values.oid ?? randomUUID();
  const token = await signDevToken(
    key,
    {
      tenantId: tenant,
      ...devRoleClaims(names),
      app: values.app,
      userId,
      name: values.name ?? (values.app ? 'Dev Automation' : 'Dev User'),
      email: values.email ?? `dev.user@${tenant.slice(0, 8)}.example`,
    },
    {
      audience: env.AUTH_AUDIENCE ?? devAudience,
      issuerTemplate:
        env.AUTH_ISSUER_TEMPLATE ?? 'https://login.microsoftonline.com/{tenantid}/v2.0',
      now: new Date(),
      lifetimeSeconds: Math.round(Number(values.hours) * 3600),
    },
  );
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
