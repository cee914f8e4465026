import hostJson from '../../host.json';

/**
 * What the local host reads from the project's host.json, the very file deployed beside the
 * bundle, so that both hosts follow one configuration.
 */
export interface HostJsonSettings {
  /** extensions.http.routePrefix: routes live under `/<prefix>/`. */
  routePrefix: string;
  /**
   * extensions.http.customHeaders: added by the host to every answer that does not already carry
   * them (azure-functions-host src/WebJobs.Script.WebHost/Middleware/
   * CustomHttpHeadersMiddleware.cs:23-38, `TryAdd` when the response starts).
   */
  customHeaders: Readonly<Record<string, string>>;
}

interface HostJson {
  extensions?: { http?: { routePrefix?: string; customHeaders?: Record<string, string> } };
}

export function hostJsonSettings(json: HostJson = hostJson as HostJson): HostJsonSettings {
  const http = json.extensions?.http ?? {};
  return {
    // The host's default when host.json names none (HttpOptions.RoutePrefix).
    routePrefix: (http.routePrefix ?? 'api').replace(/^\/+|\/+$/g, ''),
    customHeaders: http.customHeaders ?? {},
  };
}
