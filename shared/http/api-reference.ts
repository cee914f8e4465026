import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { securityHeaders, type HttpResult } from './responses';

/**
 * The API reference page (GET /api/docs): Swagger UI from the swagger-ui-dist package, served
 * by the app itself under a Content-Security-Policy that lets the page run only the app's own
 * scripts and styles and talk only to the app. No CDN, no inline script: the page's start-up
 * code is one more file of the app.
 */
export const apiReferenceContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Served from swagger-ui-dist, as the package ships them. */
const packaged: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
};

/**
 * Starts Swagger UI on the app's own openapi.json, calling this same origin: the document's
 * `servers` names PUBLIC_BASE_URL, which is where email links point, not always where the page
 * was opened (a test host, a staging slot).
 */
const startScript = `"use strict";
fetch("openapi.json")
  .then(function (response) { return response.json(); })
  .then(function (spec) {
    spec.servers = [{ url: window.location.origin, description: "this app" }];
    window.ui = SwaggerUIBundle({
      spec: spec,
      dom_id: "#reference",
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      deepLinking: false,
      validatorUrl: null,
      tryItOutEnabled: false,
      persistAuthorization: false,
      displayOperationId: true,
      docExpansion: "list",
      tagsSorter: "alpha"
    });
  });
`;

export const apiReferenceAssetNames = [
  'start.js',
  'swagger-ui-bundle.js',
  'swagger-ui.css',
] as const;

/**
 * Where swagger-ui-dist's files are: beside the bundle in the deployment package and under
 * `npm start` (shared/local/build.mjs copies them to `docs-assets/`), in node_modules when the
 * sources run (tests).
 */
function assetFolder(): string {
  const besideBundle = path.join(__dirname, 'docs-assets');
  if (existsSync(besideBundle)) return besideBundle;
  return path.resolve(__dirname, '../../node_modules/swagger-ui-dist');
}

const cache = new Map<string, string>();

/** One asset of the page, or null for a name that is not one. */
export function apiReferenceAsset(name: string): HttpResult | null {
  let body = cache.get(name);
  let contentType = packaged[name];
  if (name === 'start.js') {
    body = startScript;
    contentType = 'text/javascript; charset=utf-8';
  }
  if (contentType === undefined) return null;
  if (body === undefined) {
    body = readFileSync(path.join(assetFolder(), name), 'utf8');
    cache.set(name, body);
  }
  return {
    status: 200,
    text: body,
    headers: {
      ...securityHeaders,
      'Content-Type': contentType,
      'Cache-Control': 'public, max-age=3600',
    },
  };
}

export const apiReferencePage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Partner transition API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
<main id="reference" aria-label="API reference"></main>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/assets/start.js"></script>
</body>
</html>
`;
