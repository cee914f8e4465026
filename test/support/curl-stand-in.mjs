// The few curl options docs/walkthrough.md uses (-s, -X, -H, -d, a URL with or without its
// scheme), for a machine without curl: CI's has only Node.js and npm. It prints the body as curl
// does, and fails as curl does when nothing answers.
const args = process.argv.slice(2);
let method;
let url;
let body;
const headers = {};
for (let index = 0; index < args.length; index += 1) {
  const arg = args[index];
  if (arg === '-s') continue;
  else if (arg === '-X') method = args[++index];
  else if (arg === '-H') {
    const header = args[++index];
    const colon = header.indexOf(':');
    headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  } else if (arg === '-d') body = args[++index];
  else if (arg.startsWith('-')) {
    process.stderr.write(`curl stand-in: ${arg} is not supported\n`);
    process.exit(2);
  } else url = /^https?:\/\//.test(arg) ? arg : `http://${arg}`;
}
if (body !== undefined && !Object.keys(headers).some((name) => /^content-type$/i.test(name)))
  headers['Content-Type'] = 'application/x-www-form-urlencoded';
try {
  const response = await fetch(url, { method: method ?? (body ? 'POST' : 'GET'), headers, body });
  process.stdout.write(await response.text());
} catch (error) {
  process.stderr.write(`curl stand-in: ${error.message}\n`);
  process.exit(7);
}
