import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { functionTable } from '../../functions/table';
import { azureSettings, registrationsOf } from '../support/function-registrations';

const root = path.resolve(__dirname, '../..');
const run = promisify(execFile);

/** What the Functions bundle loads on first use only (shared/local/build.mjs). */
const lazyChunks = ['cosmos.js', 'identity.js', 'acs-email.js'];
/** The app, loaded at the first invocation, and @azure/functions, which both files require. */
const appFiles = ['app.js', 'azure-functions.js'];
/** Swagger UI's files for GET /api/docs, with its licence (shared/local/build.mjs). */
const referenceFiles = ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE', 'NOTICE'];

/** The folder azd uploads: azure.yaml's `dist` for the api service. */
function deployFolder(): string {
  const azureYaml = readFileSync(path.join(root, 'azure.yaml'), 'utf8');
  const api = azureYaml.split(/^ {2}api:$/m)[1] ?? '';
  const dist = /^ {4}dist: *(\S+)$/m.exec(api)?.[1];
  if (!dist) throw new Error('azure.yaml: services.api has no dist');
  return path.join(root, dist);
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)))
    .map((file) => file.split(path.sep).join('/'))
    .sort();
}

/**
 * The source modules a cold start evaluates, at most: those bundled into the files the entry
 * requires before the first invocation (docs/performance.md, Cold start). A heavy import at the
 * entry's top level (the Cosmos SDK, jose, the function table) goes past it and fails here.
 */
const modulesAtStartBudget = 110;

const readJson = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

describe('the deployment package (npm run build, deployed by azd)', () => {
  const folder = deployFolder();
  const manifest = readJson(path.join(folder, 'package.json'));
  /** The bundle the entry (package.json main) loads. */
  const bundle = path.posix.join(path.posix.dirname(String(manifest.main)), 'index.js');
  const copies: string[] = [];
  afterAll(() => copies.forEach((copy) => rmSync(copy, { recursive: true, force: true })));

  it('holds its entry, the bundle, its lazily loaded chunks, their source maps, the API reference page files, host.json and package.json, and nothing else', () => {
    const beside = (file: string): string => path.posix.join(path.posix.dirname(bundle), file);
    const chunks = [...appFiles, ...lazyChunks].map(beside);
    expect(filesUnder(folder)).toEqual(
      [
        String(manifest.main),
        bundle,
        ...chunks,
        ...[bundle, ...chunks].map((file) => `${file}.map`),
      ]
        .concat(referenceFiles.map((file) => beside(`docs-assets/${file}`)))
        .concat('host.json', 'package.json')
        .sort(),
    );
  });

  it('registers with source maps off and the app not loaded, then turns source maps on for the app; no worker arguments (a pre-warmed worker is kept)', async () => {
    const entry = path.join(folder, String(manifest.main));
    const app = path.join(path.dirname(entry), 'app.js');
    const { stdout } = await run(
      process.execPath,
      [
        '--require',
        path.resolve(__dirname, '../support/functions-core-preload.cjs'),
        '-e',
        `const before = process.sourceMapsEnabled; require(${JSON.stringify(entry)}); console.log(before, process.sourceMapsEnabled, ${JSON.stringify(app)} in require.cache)`,
      ],
      { env: { PATH: process.env.PATH ?? '', ...azureSettings } },
    );
    expect(stdout.split('\n')[0]).toBe('false true false');
    const code = readFileSync(entry, 'utf8');
    expect(code.indexOf("require('./index.js')")).toBeLessThan(
      code.indexOf('setSourceMapsEnabled(true)'),
    );
  });

  it("links the source maps of the app's code, not those of the packages' chunks (a stack trace through them stays as it is)", () => {
    const directory = path.join(folder, path.dirname(bundle));
    const linked = (file: string): boolean =>
      readFileSync(path.join(directory, file), 'utf8').includes(`sourceMappingURL=${file}.map`);
    expect(['index.js', 'app.js'].filter(linked)).toEqual(['index.js', 'app.js']);
    expect(['azure-functions.js', ...lazyChunks].filter(linked)).toEqual([]);
  });

  it("ships Swagger UI's files for GET /api/docs as swagger-ui-dist has them", () => {
    for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css']) {
      const shipped = readFileSync(
        path.join(folder, path.dirname(String(manifest.main)), 'docs-assets', file),
      );
      const packaged = readFileSync(path.join(root, 'node_modules/swagger-ui-dist', file));
      expect(shipped.equals(packaged), file).toBe(true);
    }
  });

  it('loads the app from its file, and the managed identity and ACS email from their chunks, on their own', async () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'deploy-package-'));
    copies.push(copy);
    cpSync(folder, copy, { recursive: true });
    const directory = path.join(copy, path.dirname(bundle));
    const entryCode = readFileSync(path.join(copy, bundle), 'utf8');
    const appCode = readFileSync(path.join(directory, 'app.js'), 'utf8');
    for (const code of [entryCode, appCode])
      expect(code).toContain('require("./azure-functions.js")');
    expect(entryCode).toContain('require("./app.js")');
    for (const chunk of lazyChunks) expect(appCode).toContain(`require("./${chunk}")`);
    const { stdout } = await run(
      process.execPath,
      [
        '-e',
        'const c = require("./cosmos.js"); const i = require("./identity.js"); const a = require("./acs-email.js"); console.log(typeof c.CosmosClient, typeof i.ManagedIdentityCredential, typeof i.DefaultAzureCredential, typeof a.EmailClient)',
      ],
      { cwd: directory, env: { PATH: process.env.PATH ?? '' } },
    );
    expect(stdout.trim()).toBe('function function function function');
  });

  it('ships the project host.json unchanged', () => {
    expect(readJson(path.join(folder, 'host.json'))).toEqual(
      readJson(path.join(root, 'host.json')),
    );
  });

  it('has a package.json naming the bundle, with no dependencies to install and no scripts', () => {
    const project = readJson(path.join(root, 'package.json'));
    expect(manifest).toMatchObject({ name: project.name, version: project.version });
    expect(manifest.main).toBe(project.main);
    for (const key of ['dependencies', 'devDependencies', 'optionalDependencies', 'scripts'])
      expect(manifest, key).not.toHaveProperty(key);
  });

  it('registers every function of the table, loaded on its own, away from node_modules', async () => {
    // A copy outside the repository: a module missing from the bundle cannot be found upwards.
    const copy = mkdtempSync(path.join(tmpdir(), 'deploy-package-'));
    copies.push(copy);
    cpSync(folder, copy, { recursive: true });
    const registrations = await registrationsOf(
      path.join(copy, String(manifest.main)),
      azureSettings,
      copy,
    );
    expect(registrations.map((registration) => registration.name).sort()).toEqual(
      functionTable.map((definition) => definition.name).sort(),
    );
  });

  it(`loads at start only the entry, its registrations and @azure/functions: at most ${modulesAtStartBudget} source modules, none of the app's`, async () => {
    const entry = path.join(folder, String(manifest.main));
    const { stdout } = await run(
      process.execPath,
      [
        '--require',
        path.resolve(__dirname, '../support/functions-core-preload.cjs'),
        '-e',
        `require(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.keys(require.cache)))`,
      ],
      { env: { PATH: process.env.PATH ?? '', ...azureSettings } },
    );
    const loaded = (JSON.parse(stdout.split('\n')[0]!) as string[])
      .filter((file) => !file.endsWith('functions-core-preload.cjs'))
      .map((file) => path.relative(path.dirname(entry), file))
      .sort();
    expect(loaded).toEqual(['azure-functions.js', 'index.js', 'main.js']);
    const modules = loaded.flatMap((file) => {
      const map = path.join(path.dirname(entry), `${file}.map`);
      if (!existsSync(map)) return [file];
      return (readJson(map).sources as string[]).map((source) => source.replace(/^(\.\.\/)+/, ''));
    });
    expect(modules.length, modules.join('\n')).toBeLessThanOrEqual(modulesAtStartBudget);
    // The function table, its handlers and the adapters load with the first invocation (app.js).
    const theApp =
      /^functions\/(?!index\.ts|registrations\.ts)|^shared\/(composition|adapters\/|http\/define)/;
    expect(modules.filter((source) => theApp.test(source))).toEqual([]);
  });
});
