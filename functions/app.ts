import type { HttpHandler as AzureHttpHandler, TimerHandler } from '@azure/functions';
import type { Services } from '../shared/app/services';
import { createServices } from '../shared/composition';
import type { Config } from '../shared/config';
import { problemFromError } from '../shared/http/problem';
import { functionTable } from './table';

/** The app as the first invocation loads it: each function's handler, with the services. */
export interface LoadedApp {
  http(name: string): AzureHttpHandler;
  timer(name: string): TimerHandler;
}

/**
 * Loaded by functions/index.ts at the first invocation, once per process: the function table
 * (its routes, schemas and use cases). The adapters are built at the first invocation too, once
 * per process (one CosmosClient, one cached key set).
 */
export function loadApp(config: Config): LoadedApp {
  let services: Promise<Services> | undefined;
  const getServices = (): Promise<Services> =>
    (services ??= createServices(config).catch((error: unknown) => {
      services = undefined; // let the next invocation try again
      throw error;
    }));
  const rows = new Map(functionTable.map((definition) => [definition.name, definition]));
  return {
    /**
     * When the services cannot be built (a chunk of the bundle missing, a credential failing), a
     * rejection would reach the worker, and the host would answer an empty 500; the caller gets
     * the app's problem+json instead, and the error is logged.
     */
    http(name) {
      const definition = rows.get(name);
      if (!definition || definition.kind === 'timer') throw new Error(`no HTTP function ${name}`);
      return async (request, context) => {
        let built: Services;
        try {
          built = await getServices();
        } catch (error) {
          return problemFromError(error, context);
        }
        return definition.handler(request, context, built);
      };
    },
    timer(name) {
      const definition = rows.get(name);
      if (definition?.kind !== 'timer') throw new Error(`no timer function ${name}`);
      return async (timer, context) => definition.handler(timer, context, await getServices());
    },
  };
}
