import { randomUUID } from 'node:crypto';

/** A fresh tenant id (GUID), as Entra gives each partner and customer. */
export const newTenantId = (): string => randomUUID();

export const operatorTenantId = '00000000-0000-0000-0000-0000000000ff';
