import { app } from '@azure/functions';
import type { Services } from '../shared/app/services';
import { loadConfig } from '../shared/config';
import { createServices } from '../shared/composition';
import { functionTable } from './table';

/**
 * The Azure Functions entry point (package.json `main`): registers every row of the function
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

app.setup({ enableHttpStream: false });

for (const definition of functionTable) {
  if (definition.kind === 'http') {
    app.http(definition.name, {
      methods: [...definition.methods],
      route: definition.route,
      authLevel: 'anonymous',
      handler: async (request, context) =>
        definition.handler(request, context, await getServices()),
    });
  } else {
    app.timer(definition.name, {
      schedule: definition.schedule,
      runOnStartup: false,
      handler: async (timer, context) => definition.handler(timer, context, await getServices()),
    });
  }
}
