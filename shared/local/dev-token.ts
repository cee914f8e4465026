import { randomUUID } from 'node:crypto';
import { devRoleClaims, loadOrCreateDevKey, signDevToken } from '../adapters/identity/dev-keys';
import { devAudience } from '../config';
import { localDefaults } from './settings';

export interface DevTokenRequest {
  tenant: string;
  /** `GlobalAdmin` becomes the directory role in `wids`; the others go to `roles`. */
  roles: string[];
  /** An app-only token (`idtyp: app`, no user), for automation. */
  app?: boolean | undefined;
  oid?: string | undefined;
  name?: string | undefined;
  email?: string | undefined;
  hours?: number | undefined;
}

/**
 * A development access token, signed with the key `npm start` trusts (DEV_KEY_FILE, created on
 * first use), for the audience and issuer it checks: `npm run token` and `npm run demo`.
 */
export async function mintDevToken(request: DevTokenRequest): Promise<string> {
  const env = localDefaults(process.env);
  const key = await loadOrCreateDevKey(env.DEV_KEY_FILE ?? '.local/dev-signing-key.json');
  const tenant = request.tenant.toLowerCase();
  return signDevToken(
    key,
    {
      tenantId: tenant,
      ...devRoleClaims(request.roles),
      app: request.app ?? false,
      userId: request.oid ?? randomUUID(),
      name: request.name ?? (request.app ? 'Dev Automation' : 'Dev User'),
      email: request.email ?? `dev.user@${tenant.slice(0, 8)}.example`,
    },
    {
      audience: env.AUTH_AUDIENCE ?? devAudience,
      issuerTemplate:
        env.AUTH_ISSUER_TEMPLATE ?? 'https://login.microsoftonline.com/{tenantid}/v2.0',
      now: new Date(),
      lifetimeSeconds: Math.round((request.hours ?? 8) * 3600),
    },
  );
}
