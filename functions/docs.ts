import * as z from 'zod';
import {
  apiReferenceAsset,
  apiReferenceAssetNames,
  apiReferenceContentSecurityPolicy,
  apiReferencePage,
} from '../shared/http/api-reference';
import { defineHttp } from '../shared/http/define';
import { htmlPage } from '../shared/http/responses';

/** GET /api/docs: the API reference, rendered in the browser from openapi.json. */
export const apiReference = defineHttp({
  name: 'apiReference',
  methods: ['GET'],
  route: 'docs',
  summary: 'The API reference page (Swagger UI), rendered from openapi.json, with "try it" calls',
  tags: ['meta'],
  access: { kind: 'anonymous' },
  responses: { 200: { description: 'The reference page', contentType: 'text/html' } },
  errors: [],
  async handle() {
    const page = htmlPage(200, apiReferencePage);
    return { ...page, headers: { 'Content-Security-Policy': apiReferenceContentSecurityPolicy } };
  },
});

/** The page's scripts and style sheet, served by the app itself (no CDN). */
export const apiReferenceAssetFunction = defineHttp({
  name: 'apiReferenceAsset',
  methods: ['GET'],
  route: 'docs/assets/{file}',
  summary: 'A script or style sheet of the API reference page, served by the app itself',
  tags: ['meta'],
  access: { kind: 'anonymous' },
  params: z.object({ file: z.enum(apiReferenceAssetNames) }),
  responses: {
    200: { description: 'The file', contentType: 'text/javascript' },
  },
  // The name is one of the files it serves: there is no 404 past the validation.
  errors: [],
  async handle({ params }) {
    const asset = apiReferenceAsset(params.file);
    if (!asset) throw new Error(`the API reference has no ${params.file}`);
    return asset;
  },
});
