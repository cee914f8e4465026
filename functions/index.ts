import { app, type HttpHandler as AzureHttpHandler } from '@azure/functions';
import type { Services } from '../shared/app/services';
import { loadConfig } from '../shared/config';
import { createServices } from '../shared/composition';
import type { HttpHandler } from '../shared/http/define';
import { problemFromError } from '../shared/http/problem';
import { functionTable } from './table';

/**
 * The Azure Functions entry point (package.json main): registers every row of the function
 * table with the host. Settings are validated here, at load, so a bad one stops the app with
 * a message naming it; adapters are built on the first invocation, once per process.
 */
const config = loadConfig();
let services: Promise<Services> | undefined;
const getServices = (): Promise<Services> =>
  (services ??= createServices(config).catch((error: unknown) => {
    services = undefined; // let the next invocation try again
    throw error;
  }));

/**
 * An HTTP row's handler with the services. When they cannot be built (a chunk of the bundle
 * missing, a credential failing), a rejection would reach the worker, and the host would answer
 * an empty 500; the caller gets the app's problem+json instead, and the error is logged.
 */
const served =
  (handler: HttpHandler): AzureHttpHandler =>
  async (request, context) => {
    let built: Services;
    try {
      built = await getServices();
    } catch (error) {
      return problemFromError(error, context);
    }
    return handler(request, context, built);
  };

// Bodies arrive whole, through the host's RPC message, not as streams (docs/api.md, Conventions).
app.setup({ enableHttpStream: false });

for (const definition of functionTable) {
  if (definition.kind === 'timer') {
    app.timer(definition.name, {
      schedule: definition.schedule,
      runOnStartup: false,
      handler: async (timer, context) => definition.handler(timer, context, await getServices()),
    });
  } else {
    app.http(definition.name, {
      methods: [...definition.methods],
      route: definition.route,
      authLevel: 'anonymous',
      handler: served(definition.handler),
    });
  }
}
