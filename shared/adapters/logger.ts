import type { InvocationContext } from '@azure/functions';
import type { Logger } from '../app/ports';
import { redactFields, redactSecrets } from '../redact';

/** Logs through the invocation, so lines reach Application Insights with its id; never a secret. */
export function loggerFor(context: InvocationContext): Logger {
  const line = (message: string, properties?: Record<string, unknown>): string =>
    redactSecrets(properties ? `${message} ${JSON.stringify(redactFields(properties))}` : message);
  return {
    info: (message, properties) => context.log(line(message, properties)),
    warn: (message, properties) => context.warn(line(message, properties)),
    error: (message, properties) => context.error(line(message, properties)),
  };
}
