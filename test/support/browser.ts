import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** The network chatter this closed machine refuses, turned off. */
const quiet = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/**
 * Flags of @sparticuz/chromium's defaults (made for AWS Lambda) we leave out: the pages under
 * test must meet the same-origin policy and mixed-content rules a user's browser applies, and
 * in one process the browser dies when the first of several pages closes.
 */
const leftOut = new Set([
  '--disable-web-security',
  '--allow-running-insecure-content',
  '--single-process',
]);

const systemNames = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** A Chromium installed on the machine: CHROMIUM_PATH, else the first one on PATH. */
export function systemChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CHROMIUM_PATH) return env.CHROMIUM_PATH;
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean))
    for (const name of systemNames) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
  return undefined;
}

/**
 * The Chromium shipped inside the @sparticuz/chromium npm package, unpacked once into
 * node_modules/.cache (about 3 s), with the NSS, NSPR and expat libraries the package carries
 * for it: a machine with only Node and npm may not have them. Test files run in parallel
 * processes: each unpacks into a directory of its own and renames it into place, so none ever
 * sees a half-written browser.
 */
export async function packagedChromium(): Promise<{
  executable: string;
  libraries: string;
  fonts: string;
}> {
  const { default: packaged, inflate } = await import('@sparticuz/chromium');
  // The real path: a mutation run's sandbox links node_modules, and a fonts.conf naming the
  // sandbox's path broke every browser launched once the sandbox was gone.
  const modules = realpathSync(resolve(__dirname, '../../node_modules'));
  const { version } = JSON.parse(
    readFileSync(join(modules, '@sparticuz/chromium/package.json'), 'utf8'),
  ) as { version: string };
  const cache = join(modules, '.cache');
  const target = join(cache, `sparticuz-chromium-${version}`);
  const found = {
    executable: join(target, 'chromium'),
    libraries: join(target, 'al2023', 'lib'),
    fonts: join(target, 'fonts'),
  };
  if (existsSync(found.executable) && existsSync(found.libraries)) return found;

  mkdirSync(cache, { recursive: true });
  const staging = mkdtempSync(join(cache, 'sparticuz-chromium-unpacking-'));
  // The package unpacks into os.tmpdir(), which reads TMPDIR at each call.
  const tmpdir = process.env.TMPDIR;
  process.env.TMPDIR = staging;
  try {
    await packaged.executablePath();
    await inflate(join(modules, '@sparticuz/chromium/bin/al2023.tar.br'));
    // The package's fonts.conf names /tmp/fonts; ours names where the fonts are.
    writeFileSync(
      join(staging, 'fonts', 'fonts.conf'),
      `<?xml version="1.0"?>\n<fontconfig><dir>${join(target, 'fonts')}</dir>` +
        `<cachedir>${join(target, 'fonts-cache')}</cachedir></fontconfig>\n`,
    );
  } finally {
    if (tmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpdir;
  }
  try {
    renameSync(staging, target);
  } catch (error) {
    // Another test file got there first: use its copy.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(found.executable)) throw error;
  }
  return found;
}

/** The browser the tests drive, headless: the machine's Chromium, else the npm package's. */
export async function launchBrowser(env: NodeJS.ProcessEnv = process.env): Promise<Browser> {
  const system = systemChromium(env);
  if (system)
    return chromium.launch({
      executablePath: system,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', ...quiet],
    });
  const { default: packaged } = await import('@sparticuz/chromium');
  const { executable, libraries, fonts } = await packagedChromium();
  return chromium.launch({
    executablePath: executable,
    env: {
      ...env,
      LD_LIBRARY_PATH: [libraries, env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_PATH: fonts,
    },
    headless: true,
    args: [...packaged.args.filter((flag) => !leftOut.has(flag)), ...quiet],
  });
}
