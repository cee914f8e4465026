import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCosmosClient } from '../../shared/adapters/cosmos/client';
import { loadConfig } from '../../shared/config';
import { announceReady } from './child-process';

/**
 * The floor under `get-me`: a bare node:http server in a process of its own that answers
 * `GET /floor/{partnerId}` with the raw baseline's SDK point read and the document as JSON. No
 * host, no app: what any HTTP server in one Node.js process pays around the same read on this
 * machine (one request read and one answer written more than the raw loop). Its ratio to the
 * raw read is the most `get-me` could reach here; docs/performance.md reads the two together.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const client = await createCosmosClient(config.cosmos);
  const partners = client.database(config.cosmos.database).container('partners');
  const server = http.createServer((request, response) => {
    const partnerId = decodeURIComponent((request.url ?? '').slice('/floor/'.length));
    partners
      .item(partnerId, partnerId)
      .read()
      .then(({ statusCode, resource }) => {
        const body = JSON.stringify(resource ?? null);
        response.writeHead(statusCode, [
          'content-type',
          'application/json; charset=utf-8',
          'content-length',
          String(Buffer.byteLength(body)),
        ]);
        response.end(body);
      })
      .catch(() => {
        response.writeHead(500, ['content-length', '0']);
        response.end();
      });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
  announceReady({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

void main();
