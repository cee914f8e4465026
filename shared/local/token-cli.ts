import { parseArgs } from 'node:util';
import { httpFunctions } from '../../functions/table';
import { mintDevToken } from './dev-token';
import { localDefaults } from './settings';
import { automationRoles, tokenRefusal } from './token-roles';

const usage = `usage: npm run --silent token -- --tenant <tid> --roles GlobalAdmin[,AdminAgent] [--oid <id>] [--name <n>] [--email <e>] [--app] [--hours <h>]
  GlobalAdmin becomes the Global Administrator directory role (wids), the other roles app roles;
  --app mints an app-only token (idtyp: app, no user) for automation: --app --roles ${automationRoles.join(',')}.
  Operator and EnrollmentReviewer count only in the operator tenant. A role no route would
  honour for this token is refused.`;

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
  const roles = values.roles
    .split(',')
    .map((role) => role.trim())
    .filter(Boolean);
  const operatorTenantId = (
    localDefaults(process.env).OPERATOR_TENANT_ID ?? '00000000-0000-0000-0000-0000000000ff'
  ).toLowerCase();
  const refusal = tokenRefusal(
    { tenant, roles, app: values.app },
    httpFunctions(),
    operatorTenantId,
  );
  if (refusal) {
    console.error(`refused: ${refusal}`);
    process.exit(2);
  }
  const token = await mintDevToken({
    tenant,
    roles,
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
