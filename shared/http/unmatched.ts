import { correlationIdOf, measured } from '../adapters/invocation-log';
import type { HttpFunctionDefinition, HttpHandler } from './define';
import { problem } from './problem';
import { compileRoute, type RouteTemplate } from './routes';

/**
 * The function that answers what no route of the table takes: an unknown path under /api, or a
 * known one with a method it does not have (HEAD and OPTIONS included). Without it the Functions
 * host answers an empty 404 (a failed method constraint is "no match" for ASP.NET Core's
 * RouteCollection, and nothing in the host answers 405); with it the caller gets the API's own
 * problem+json: 404 `not-found`, or 405 `method-not-allowed` with `Allow`.
 *
 * Its route takes every path under the prefix, so it must be tried last. The host tries routes in
 * the order of function names, ordinal and case-insensitive (shared/http/routes.ts byFunctionName):
 * its name sorts after every other (test/unit/routes.test.ts holds that). A CORS preflight never
 * reaches it: the platform answers those first (shared/local/cors.ts).
 */
export interface UnmatchedRouteDefinition {
  kind: 'unmatched';
  name: string;
  methods: readonly UnmatchedMethod[];
  route: string;
  handler: HttpHandler;
}

export type UnmatchedMethod =
  'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS' | 'TRACE';

/** `zz`: after any other name the table may hold (function names start with a letter). */
export const unmatchedRouteName = 'zzUnmatchedRoute';

const everyMethod: readonly UnmatchedMethod[] = [
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
  'TRACE',
];

export function defineUnmatchedRoute(
  routes: () => readonly HttpFunctionDefinition[],
): UnmatchedRouteDefinition {
  let compiled: { template: RouteTemplate; methods: readonly string[] }[] | undefined;
  const allowedFor = (path: string): string[] => {
    compiled ??= routes().map((definition) => ({
      template: compileRoute(definition.route),
      methods: definition.methods,
    }));
    const allowed = compiled
      .filter(({ template }) => template.pattern.test(path))
      .flatMap(({ methods }) => methods);
    return [...new Set(allowed)];
  };
  return {
    kind: 'unmatched',
    name: unmatchedRouteName,
    methods: everyMethod,
    route: '{*path}',
    handler: (request, context, services) =>
      measured(
        context,
        services,
        services.config.cosmos.deadlineMs.http,
        async () => {
          // The catch-all's value: the decoded path after the prefix (absent for /api itself).
          const allowed = allowedFor(`/${request.params.path ?? ''}`);
          if (allowed.length === 0) return problem('not-found', 'There is no such route.');
          const allow = allowed.join(', ');
          return problem('method-not-allowed', `Use ${allow}.`, undefined, { Allow: allow });
        },
        {
          correlationId: correlationIdOf(request.headers),
          statusOf: (response) => response.status ?? 200,
        },
      ),
  };
}
