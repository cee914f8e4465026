import { randomUUID } from 'node:crypto';
import { loadOrCreateDevKey, signDevToken } from '../adapters/identity/dev-keys';
import { devAudience } from '../config';
import { localDefaults } from './settings';

export interface DevTokenRequest {
  tenant: string;
  roles: string[];
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
      roles: request.roles,
      userId: request.oid ?? randomUUID(),
      name: request.name ?? 'Dev User',
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
