import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { uniqueMpnId } from '../support/builders';
import { ManualClock } from '../support/clock';
import { newTenantId, operatorTenantId } from '../support/ids';
import { namedResources } from '../support/resources';

/**
 * What a portal team does with openapi.json: `npm run openapi` writes it without starting the
 * app, `openapi-typescript` turns it into types, and a partner's whole journey
 * (test/typed-client/journey.ts) is written against them with `openapi-fetch`, type-checked by
 * tsc, then run against the local app.
 */
const root = path.resolve(__dirname, '../..');
const clientDir = path.join(root, 'test/typed-client');
const generated = path.join(clientDir, 'generated/openapi.d.ts');

let app: TestApp;
let types: string;
let documentFile: string;

beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
  documentFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'openapi-')), 'openapi.json');
  // The build (npm test builds first) writes the document with nothing running.
  await promisify(execFile)(
    process.execPath,
    [path.join(root, 'dist/local/openapi.js'), '--out', documentFile, '--server', app.url],
    { cwd: root },
  );
  types = astToString(await openapiTS(JSON.parse(readFileSync(documentFile, 'utf8'))));
  mkdirSync(path.dirname(generated), { recursive: true });
  writeFileSync(generated, types);
});
afterAll(() => app?.close());

describe('a client generated from openapi.json (openapi-typescript, openapi-fetch)', () => {
  it('is the document the app serves, written by npm run openapi without the app', async () => {
    const served = (await app.api('GET', '/api/openapi.json')).body;
    expect(JSON.parse(readFileSync(documentFile, 'utf8'))).toEqual(served);
  });

  it('names every resource type and leaves no body unknown', () => {
    for (const name of [...namedResources, 'TransferCompletedEvent'])
      expect(types).toMatch(new RegExp(`^ {8}${name}: `, 'm'));
    // `unknown` only as the index signature openapi-typescript gives every response's headers.
    const unknowns = types
      .split('\n')
      .filter((line) => /\bunknown\b/.test(line.replace(/"[^"]*"/g, '')))
      .map((line) => line.trim());
    expect(new Set(unknowns)).toEqual(new Set(['[name: string]: unknown;']));
  });

  it('type-checks the journey with tsc, and refuses what the contract does not allow', () => {
    const program = ts.createProgram(
      [path.join(clientDir, 'journey.ts'), path.join(clientDir, 'refused-at-compile-time.ts')],
      {
        target: ts.ScriptTarget.ES2022,
        lib: ['lib.es2022.d.ts'],
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        strict: true,
        noUncheckedIndexedAccess: true,
        noUnusedLocals: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
        typeRoots: [path.join(root, 'node_modules/@types')],
      },
    );
    const problems = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const where =
        diagnostic.file && diagnostic.start !== undefined
          ? `${path.relative(root, diagnostic.file.fileName)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1}: `
          : '';
      return `${where}${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    });
    expect(problems).toEqual([]);
  });

  it("runs a partner's whole journey against the local app", async () => {
    // Imported by path: the project's own typecheck leaves this file to the test above.
    const { partnerJourney } = (await import(path.join(clientDir, 'journey.ts'))) as {
      partnerJourney: (world: object) => Promise<any>;
    };
    const partnerId = newTenantId();
    const providerId = newTenantId();
    const record = await partnerJourney({
      baseUrl: app.url,
      // Locally the deliverEvents timer runs when the test says: events reach the feed then.
      settle: () => app.runTimer('deliverEvents'),
      operator: { tenantId: operatorTenantId, token: await app.operatorToken() },
      partner: {
        tenantId: partnerId,
        token: await app.token({ tenant: partnerId, roles: ['GlobalAdmin'] }),
        mpnId: uniqueMpnId(),
      },
      provider: {
        tenantId: providerId,
        token: await app.token({ tenant: providerId, roles: ['GlobalAdmin'] }),
        mpnId: uniqueMpnId(),
      },
    });
    expect(record.records.map((partner: any) => partner.partnerType)).toEqual([
      'direct-bill',
      'indirect-provider',
    ]);
    expect(record.profile.preferredLanguage).toBe('en');
    expect(record.enrolled.enrollment.status).toBe('approved');
    expect(record.enrolled.agreement.accepted).toBe(true);
    expect(record.enrolled.partner.partnerType).toBe('both');
    expect(record.partnership.directory.map((provider: any) => provider.partnerId)).toContain(
      providerId,
    );
    expect(record.partnership.providers).toMatchObject([
      { partnerId: providerId, status: 'active' },
    ]);
    expect(record.partnership.resellers).toMatchObject([{ partnerId, status: 'active' }]);
    expect(record.partnership.invitation.status).toBe('accepted');
    expect(record.indirect.customer.relationship).toBe('indirect-provider');
    expect(record.indirect.user.displayName).toBe('Ana Diaz');
    const { requested, location, completed, moved } = record.move;
    expect(location).toBe(`/api/me/transfers/${requested.transferId}`);
    expect(completed.status).toBe('completed');
    expect(moved.map((subscription: any) => subscription.transferredFrom?.transferId)).toContain(
      requested.transferId,
    );
    expect(record.events.webhook.status).toBe('active');
    expect(record.events.completedTransfers).toEqual([requested.transferId]);
    expect(record.status.timers.length).toBeGreaterThan(0);
    expect(record.refusal).toBe('not-found');
    // The transition view after each step: recorded, profile confirmed, enrolled and active,
    // in partnership, with an indirect customer, its own customer moved.
    const [recorded, confirmed, enrolled, partnered, indirect, afterMove] = record.transition;
    expect(recorded).toMatchObject({ profile: 'todo', enrollment: 'not-yet' });
    expect(confirmed).toMatchObject({ profile: 'done', enrollment: 'todo' });
    expect(enrolled).toMatchObject({
      enrollment: 'done',
      approval: 'done',
      agreement: 'done',
      provider: 'todo',
      incentives: 'waiting (platform)',
    });
    expect(partnered).toMatchObject({ provider: 'done', customers: 'todo' });
    expect(indirect).toMatchObject({ customers: 'todo', subscriptions: 'not-yet' });
    expect(afterMove).toMatchObject({ customers: 'done', subscriptions: 'done' });
    expect(record.counts).toEqual({
      providers: 1,
      customers: { directBill: 0, extendedToProvider: 1, indirect: 1 },
      subscriptions: { directBillActive: 0, inTransfer: 0, transferred: 1 },
    });
    expect(record.glance.pipeline.resellers).toMatchObject([
      { resellerId: partnerId, customersExtended: 1, transfersCompleted: 1 },
    ]);
    expect(record.glance.report.funnel).toMatchObject({ firstTransferCompleted: 1 });
    expect(record.glance.stuckCsv.split('\r\n')[0]).toBe('partnerId,companyName,step,since');
  });
});
