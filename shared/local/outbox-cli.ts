import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { linksIn, parseEml } from '../adapters/email/mime';
import { localDefaults } from './settings';

/** `npm run outbox`: the local mailbox, newest first: to, subject, links. */
async function main(): Promise<void> {
  const directory = localDefaults(process.env).EMAIL_OUTBOX_DIR ?? '.local/outbox';
  let names: string[];
  try {
    names = (await readdir(directory)).filter((name) => name.endsWith('.eml'));
  } catch {
    console.log(`No emails yet (${directory} does not exist).`);
    return;
  }
  const files = await Promise.all(
    names.map(async (name) => {
      const file = path.join(directory, name);
      return { file, modified: (await stat(file)).mtimeMs };
    }),
  );
  files.sort((a, b) => b.modified - a.modified);
  if (files.length === 0) console.log(`No emails yet in ${directory}.`);
  for (const { file } of files) {
    const email = parseEml(await readFile(file, 'utf8'));
    console.log(`${email.date}  to ${email.to}`);
    console.log(`  subject: ${email.subject}`);
    for (const link of linksIn(email.text)) console.log(`  link: ${link}`);
    console.log(`  file: ${file}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
