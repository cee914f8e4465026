import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { httpFunctions } from '../../functions/table';
import { buildOpenApi } from '../http/openapi';

const usage = `usage: npm run openapi [-- --out <file>] [--server <url>]
  Writes the OpenAPI 3.1 document of every route (as GET /api/openapi.json serves it) without
  starting the app: for generating clients. Default: openapi.json, server PUBLIC_BASE_URL or
  http://localhost:7071.`;

/** `npm run openapi`: the document from the function table, with nothing running. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'openapi.json' },
      server: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const server = (values.server ?? process.env.PUBLIC_BASE_URL ?? 'http://localhost:7071').replace(
    /\/+$/,
    '',
  );
  const document = buildOpenApi(httpFunctions(), server);
  await writeFile(values.out, `${JSON.stringify(document, null, 2)}\n`);
  console.error(`wrote ${values.out}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
