/**
 * Functions route templates (`me/customers/{customerId}`) matched as the Functions host matches
 * them. The host maps each HTTP function to an ASP.NET Core route `<routePrefix>/<route>`
 * (azure-webjobs-sdk-extensions src/WebJobs.Extensions.Http/Routing/WebJobsRouteBuilder.cs:62,86-91)
 * with the function's methods as a constraint (azure-functions-host
 * src/WebJobs.Script.WebHost/WebScriptHostHttpRoutesManager.cs:53-68): literal segments match
 * case-insensitively, a parameter is one non-empty segment of the path Kestrel decoded, `{*x}`
 * takes the rest, and one trailing slash is ignored.
 */
export interface RouteTemplate {
  pattern: RegExp;
  names: string[];
}

const parameter = /^\{(\*)?([A-Za-z][A-Za-z0-9_]*)(?::[^}?]+)?(\?)?\}$/;

/**
 * A route template as a regular expression over a decoded path (`/api/me/customers/abc`).
 * A constraint (`{id:guid}`) is accepted and not enforced: no route of the table uses one.
 */
export function compileRoute(template: string): RouteTemplate {
  const names: string[] = [];
  const source = template
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => {
      const match = parameter.exec(segment);
      if (!match) return `/${segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
      names.push(match[2]!);
      if (match[1]) return '(?:/(.*?))?';
      return match[3] ? '(?:/([^/]+))?' : '/([^/]+)';
    })
    .join('');
  return { pattern: new RegExp(`^${source}/?$`, 'i'), names };
}

/** The route values of a path a template matched (only those present, as the host sends them). */
export function routeValues(template: RouteTemplate, path: string): Record<string, string> | null {
  const match = template.pattern.exec(path);
  if (!match) return null;
  const values: Record<string, string> = {};
  template.names.forEach((name, index) => {
    const value = match[index + 1];
    // A value that is absent is not sent (GrpcMessageConversionExtensions.cs:232-244).
    if (value !== undefined && value !== '') values[name] = value;
  });
  return values;
}

/**
 * The order in which the host tries routes: function metadata sorted by name, ordinal and
 * case-insensitive (azure-functions-host src/WebJobs.Script/Host/FunctionMetadataManager.cs:192),
 * one route each in that order (WebScriptHostHttpRoutesManager.cs:48-68), first match wins
 * (ASP.NET Core RouteCollection.RouteAsync). No literal-before-parameter precedence.
 */
export function byFunctionName(a: { name: string }, b: { name: string }): number {
  const left = a.name.toUpperCase();
  const right = b.name.toUpperCase();
  return left < right ? -1 : left > right ? 1 : 0;
}
