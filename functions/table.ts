import type { HttpFunctionDefinition } from '../shared/http/define';
import type { FunctionDefinition } from '../shared/functions';
import { health } from './health';
import { getMe, putProfile } from './me';
import { openApiFunction } from './openapi';
import { getPartner, putPartner } from './partners';

/**
 * The function table: every function of the app, declared once. functions/index.ts registers
 * it with the Azure Functions host; the local host (shared/local) serves the same rows.
 */
export const functionTable: readonly FunctionDefinition[] = [
  health,
  openApiFunction(httpFunctions),
  putPartner,
  getPartner,
  getMe,
  putProfile,
];

export function httpFunctions(): HttpFunctionDefinition[] {
  return functionTable.filter(
    (definition): definition is HttpFunctionDefinition => definition.kind === 'http',
  );
}
