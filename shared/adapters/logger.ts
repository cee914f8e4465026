import type { InvocationContext } from '@azure/functions';
import type { Logger } from '../app/ports';
import { invocationOf } from './invocation-log';
import { redactFields, redactSecrets } from '../redact';

/**
 * Logs through the invocation, so lines reach Application Insights with its id; never a secret.
 * Each line is its message then one JSON object: the event's own fields and the invocation's
 * ids (function name, invocation id, correlation id, tenant id), the same locally and on Azure.
 */
export function loggerFor(context: InvocationContext): Logger {
  const line = (message: string, properties?: Record<string, unknown>): string => {
    const invocation = invocationOf(context);
    const fields = {
      ...properties,
      functionName: context.functionName,
      invocationId: context.invocationId,
      correlationId: invocation?.labels?.correlationId ?? null,
      tenantId: invocation?.tenantId ?? null,
    };
    return redactSecrets(`${message} ${JSON.stringify(redactFields(fields))}`);
  };
  return {
    info: (message, properties) => context.log(line(message, properties)),
    warn: (message, properties) => context.warn(line(message, properties)),
    error: (message, properties) => context.error(line(message, properties)),
  };
}
