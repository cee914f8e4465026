import { defineHttp, type HttpFunctionDefinition } from '../shared/http/define';
import { buildOpenApi } from '../shared/http/openapi';
import { ok } from '../shared/http/responses';

/** GET /api/openapi.json, built once per process from the function table it is part of. */
export function openApiFunction(table: () => HttpFunctionDefinition[]): HttpFunctionDefinition {
  let document: unknown;
  return defineHttp({
    name: 'openApi',
    methods: ['GET'],
    route: 'openapi.json',
    summary: 'This document: OpenAPI 3.1 of every route, from the schemas that validate them',
    tags: ['meta'],
    access: { kind: 'anonymous' },
    responses: { 200: { description: 'OpenAPI 3.1' } },
    errors: [],
    async handle({ services }) {
      document ??= buildOpenApi(table(), services.config.links.publicBaseUrl);
      return ok(document);
    },
  });
}
