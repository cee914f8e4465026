import { app, type HttpHandler, type TimerHandler } from '@azure/functions';
import { loadConfig } from '../shared/config';
import { problemFromError } from '../shared/http/problem';
import type { LoadedApp } from './app';
import { functionRegistrations } from './registrations';

/**
 * The Azure Functions entry point (package.json main): registers every row of the function
 * table with the host. Settings are validated here, at load, so a bad one stops the app with
 * a message naming it. The app itself (the table's handlers, the adapters) loads with the first
 * invocation, once per process: a cold start only registers (docs/performance.md, Cold start).
 */
const config = loadConfig();
let loaded: Promise<LoadedApp> | undefined;
const loadedApp = (): Promise<LoadedApp> =>
  (loaded ??= import('./app')
    .then(({ loadApp }) => loadApp(config))
    .catch((error: unknown) => {
      loaded = undefined; // let the next invocation try again
      throw error;
    }));

/**
 * An HTTP function's handler, from the app once loaded. When it cannot be (its file missing from
 * the package), a rejection would reach the worker, and the host would answer an empty 500; the
 * caller gets the app's problem+json instead, and the error is logged.
 */
function served(name: string): HttpHandler {
  let handler: HttpHandler | undefined;
  return async (request, context) => {
    if (!handler) {
      try {
        handler = (await loadedApp()).http(name);
      } catch (error) {
        return problemFromError(error, context);
      }
    }
    return handler(request, context);
  };
}

function timed(name: string): TimerHandler {
  let handler: TimerHandler | undefined;
  return async (timer, context) => {
    handler ??= (await loadedApp()).timer(name);
    return handler(timer, context);
  };
}

// Bodies arrive whole, through the host's RPC message, not as streams (docs/api.md, Conventions).
app.setup({ enableHttpStream: false });

for (const registration of functionRegistrations) {
  if (registration.kind === 'timer') {
    app.timer(registration.name, {
      schedule: registration.schedule,
      runOnStartup: false,
      handler: timed(registration.name),
    });
  } else {
    app.http(registration.name, {
      methods: registration.methods,
      route: registration.route,
      authLevel: 'anonymous',
      handler: served(registration.name),
    });
  }
}
