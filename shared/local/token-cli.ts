import { parseArgs } from 'node:util';
import { mintDevToken } from './dev-token';

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
  const token = await mintDevToken({
    tenant,
    roles: values.roles
      .split(',')
      .map((role) => role.trim())
      .filter(Boolean),
    app: values.app,
    oid: values.oid,
    name: values.name,
    email: values.email,
    hours: Number(values.hours),
  });
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
