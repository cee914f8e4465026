import { describe, expect, it } from 'vitest';
import {
  guardWebhookUrl,
  type LookupAll,
  type ResolvedAddress,
} from '../../shared/adapters/webhooks/address-guard';
import {
  addressRefusal,
  checkWebhookUrl,
  isLoopbackAddress,
  webhookUrlRefused,
} from '../../shared/domain/webhook-url';

const azure = { allowLocal: false };
const localHost = { allowLocal: true };

/** A resolver that answers `addresses` for every name. */
const resolvingTo =
  (...addresses: string[]): LookupAll =>
  async () =>
    addresses.map((address): ResolvedAddress => ({
      address,
      family: address.includes(':') ? 6 : 4,
    }));

describe('webhook addresses', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.0.9', 'a loopback address'],
    ['10.0.0.1', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.254', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['169.254.10.1', 'a link-local address'],
    ['100.64.0.1', 'a shared address (carrier-grade NAT)'],
    ['100.127.255.254', 'a shared address (carrier-grade NAT)'],
    ['0.0.0.0', 'an unspecified address'],
    ['224.0.0.1', 'a multicast address'],
    ['239.255.255.250', 'a multicast address'],
    ['255.255.255.255', 'the broadcast address'],
    ['240.0.0.1', 'a reserved address'],
    ['198.18.0.1', 'a reserved address'],
    ['192.0.0.8', 'a reserved address'],
    ['192.0.2.1', 'a documentation address'],
    ['198.51.100.7', 'a documentation address'],
    ['203.0.113.9', 'a documentation address'],
    ['169.254.169.254', 'a cloud metadata address'],
    ['168.63.129.16', "Azure's platform address (wireserver)"],
    ['::1', 'a loopback address'],
    ['::', 'an unspecified address'],
    ['fe80::1', 'a link-local address'],
    ['fc00::1', 'a unique-local (private) address'],
    ['fd12:3456::1', 'a unique-local (private) address'],
    ['fd00:ec2::254', 'a cloud metadata address'],
    ['ff02::1', 'a multicast address'],
    ['2001:db8::1', 'a documentation address'],
    ['2002:a00:1::1', 'a reserved or tunnel address'],
    ['2001:0:4136:e378::1', 'a reserved or tunnel address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:a00:1', 'a private address'],
    ['::ffff:169.254.169.254', 'a cloud metadata address'],
    ['::ffff:168.63.129.16', "Azure's platform address (wireserver)"],
    ['64:ff9b::10.0.0.1', 'a private address'],
    ['64:ff9b::a9fe:a9fe', 'a cloud metadata address'],
    ['::127.0.0.1', 'a reserved address'],
    ['2606:4700::1111%1', 'a scoped (zoned) address'],
  ])('refuses %s as %s', (address, words) => {
    expect(addressRefusal(address)).toBe(words);
  });

  it.each([
    '8.8.8.8',
    '20.50.2.1',
    '172.32.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ])('allows the public address %s', (address) => {
    expect(addressRefusal(address)).toBeUndefined();
  });

  it('refuses what is not an IP address', () => {
    expect(addressRefusal('example.com')).toBe('not an IP address');
  });
});

describe('webhook URLs at registration', () => {
  it('accepts an https URL to a public name, its path and query kept', () => {
    const check = checkWebhookUrl('https://hooks.example.com:8443/in?team=7', azure);
    expect(check).toMatchObject({ ok: true, hostname: 'hooks.example.com', ipLiteral: false });
  });

  it('requires https in Azure, localhost included', () => {
    for (const url of ['http://hooks.example.com/', 'http://localhost:3000/', 'ftp://example.com/'])
      expect(checkWebhookUrl(url, azure), url).toEqual({
        ok: false,
        reason: 'The webhook URL must use https.',
      });
  });

  it('allows http to localhost, 127.0.0.1 and [::1] under the local host only', () => {
    for (const url of ['http://localhost:3000/x', 'http://127.0.0.1:3000/', 'http://[::1]:3000/'])
      expect(checkWebhookUrl(url, localHost).ok, url).toBe(true);
    expect(checkWebhookUrl('http://hooks.example.com/', localHost).ok).toBe(false);
    expect(checkWebhookUrl('http://10.0.0.1/', localHost).ok).toBe(false);
  });

  it('refuses loopback IP literals in Azure, in any spelling', () => {
    for (const url of [
      'https://127.0.0.1/',
      'https://0x7f.1/',
      'https://2130706433/',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
    ])
      expect(checkWebhookUrl(url, azure).ok, url).toBe(false);
  });

  it('refuses an IP literal that is not public, naming the address and why', () => {
    expect(checkWebhookUrl('https://169.254.169.254/latest/meta-data', azure)).toEqual({
      ok: false,
      reason:
        'The webhook URL points to 169.254.169.254, a cloud metadata address: webhooks go to public addresses only.',
    });
    expect(checkWebhookUrl('https://[fd00:ec2::254]/', localHost).ok).toBe(false);
  });

  it('refuses credentials, a fragment, an over-long URL and what is not a URL', () => {
    expect(checkWebhookUrl('https://user:pass@hooks.example.com/', azure).ok).toBe(false);
    expect(checkWebhookUrl('https://user@hooks.example.com/', azure).ok).toBe(false);
    expect(checkWebhookUrl('https://hooks.example.com/#part', azure).ok).toBe(false);
    expect(checkWebhookUrl('https://hooks.example.com/#', azure).ok).toBe(false);
    const long = `https://hooks.example.com/${'a'.repeat(2048)}`;
    expect(checkWebhookUrl(long, azure)).toEqual({
      ok: false,
      reason: 'The webhook URL is longer than 2048 characters.',
    });
    expect(checkWebhookUrl('hooks.example.com/in', azure).ok).toBe(false);
  });

  it('refuses a single-label name, which resolves inside the host network', () => {
    expect(checkWebhookUrl('https://intranet/hook', azure)).toEqual({
      ok: false,
      reason: "The webhook URL's host intranet is not a public domain name.",
    });
  });

  it('accepts a URL of 2048 characters, refuses one of 2049 (docs/security.md)', () => {
    const prefix = 'https://hooks.example.com/';
    const ofLength = (length: number) => prefix + 'a'.repeat(length - prefix.length);
    expect(checkWebhookUrl(ofLength(2047), azure).ok).toBe(true);
    expect(checkWebhookUrl(ofLength(2048), azure).ok).toBe(true);
    expect(checkWebhookUrl(ofLength(2049), azure)).toEqual({
      ok: false,
      reason: 'The webhook URL is longer than 2048 characters.',
    });
  });

  it('says why it refuses what is not a URL, a fragment and credentials', () => {
    expect(checkWebhookUrl('hooks.example.com/in', azure)).toEqual({
      ok: false,
      reason: 'The webhook URL is not a valid absolute URL.',
    });
    expect(checkWebhookUrl('https://hooks.example.com/#part', azure)).toEqual({
      ok: false,
      reason: 'The webhook URL must not have a fragment (#...).',
    });
    const credentials = {
      ok: false,
      reason: 'The webhook URL must not carry a user name or password.',
    };
    expect(checkWebhookUrl('https://user:pass@hooks.example.com/', azure)).toEqual(credentials);
    expect(checkWebhookUrl('https://user@hooks.example.com/', azure)).toEqual(credentials);
    // A password without a user name is a credential all the same.
    expect(checkWebhookUrl('https://:pass@hooks.example.com/', azure)).toEqual(credentials);
  });

  it('allows only http among the other schemes to localhost under the local host, and says so', () => {
    expect(checkWebhookUrl('ftp://localhost:3000/', localHost)).toEqual({
      ok: false,
      reason:
        'The webhook URL must use https (or http to localhost, 127.0.0.1 or [::1] on the local host).',
    });
  });

  it('checks an IPv6 literal without its brackets, naming the address', () => {
    expect(checkWebhookUrl('https://[fd00:ec2::254]/', azure)).toEqual({
      ok: false,
      reason:
        'The webhook URL points to fd00:ec2::254, a cloud metadata address: webhooks go to public addresses only.',
    });
    expect(checkWebhookUrl('https://[2606:4700::1111]/in', azure)).toMatchObject({
      ok: true,
      hostname: '2606:4700::1111',
      ipLiteral: true,
      local: false,
    });
  });

  it('knows the loopback addresses, and nothing else as one', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])
      expect(isLoopbackAddress(address), address).toBe(true);
    for (const address of ['10.0.0.1', '::2', 'localhost', ''])
      expect(isLoopbackAddress(address), address).toBe(false);
  });

  it('answers a refusal as 400 webhook-url-refused, the reason on body.url', () => {
    const error = webhookUrlRefused('The webhook URL must use https.');
    expect(error).toMatchObject({
      code: 'webhook-url-refused',
      status: 400,
      detail: 'The webhook URL must use https.',
      errors: [{ path: 'body.url', message: 'The webhook URL must use https.' }],
    });
  });
});

describe('the webhook address guard', () => {
  it('refuses a name that resolves to a private address', async () => {
    const guarded = await guardWebhookUrl('https://hooks.example.com/in', {
      ...azure,
      lookup: resolvingTo('10.1.2.3'),
    });
    expect(guarded).toEqual({
      ok: false,
      refusal: 'refused',
      reason:
        // Without the address, nor its kind: a refusal must not map a network's names.
        "The webhook URL's host hooks.example.com does not resolve to a public address: webhooks go to public addresses only.",
    });
  });

  it('refuses a name with one public and one private address', async () => {
    const guarded = await guardWebhookUrl('https://hooks.example.com/in', {
      ...azure,
      lookup: resolvingTo('93.184.215.14', '::ffff:169.254.169.254'),
    });
    expect(guarded).toMatchObject({ ok: false, refusal: 'refused' });
  });

  it('allows a name whose every address is public, and connects to the first', async () => {
    const guarded = await guardWebhookUrl('https://hooks.example.com/in', {
      ...azure,
      lookup: resolvingTo('93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'),
    });
    expect(guarded).toMatchObject({
      ok: true,
      hostname: 'hooks.example.com',
      address: { address: '93.184.215.14', family: 4 },
    });
  });

  it('does not resolve an IP literal', async () => {
    const guarded = await guardWebhookUrl('https://93.184.215.14/in', {
      ...azure,
      lookup: () => Promise.reject(new Error('resolved')),
    });
    expect(guarded).toMatchObject({ ok: true, address: { address: '93.184.215.14', family: 4 } });
  });

  it('allows localhost to resolve to loopback under the local host only', async () => {
    const lookup = resolvingTo('127.0.0.1', '::1');
    expect((await guardWebhookUrl('http://localhost:3000/', { ...localHost, lookup })).ok).toBe(
      true,
    );
    expect((await guardWebhookUrl('https://localhost:3000/', { ...azure, lookup })).ok).toBe(false);
    const rebound = await guardWebhookUrl('http://localhost:3000/', {
      ...localHost,
      lookup: resolvingTo('127.0.0.1', '10.0.0.7'),
    });
    expect(rebound).toMatchObject({ ok: false, refusal: 'refused' });
  });

  it('refuses a name that resolves to loopback even under the local host', async () => {
    const guarded = await guardWebhookUrl('https://hooks.example.com/', {
      ...localHost,
      lookup: resolvingTo('127.0.0.1'),
    });
    expect(guarded).toMatchObject({ ok: false, refusal: 'refused' });
  });

  it('words a name that does not resolve as one that resolves to a private address (no DNS oracle), and retries only the first', async () => {
    const failing: LookupAll = () =>
      Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
    const words = (hostname: string) =>
      `The webhook URL's host ${hostname} does not resolve to a public address: webhooks go to public addresses only.`;
    expect(
      await guardWebhookUrl('https://nowhere.example.com/', { ...azure, lookup: failing }),
    ).toEqual({ ok: false, refusal: 'unresolved', reason: words('nowhere.example.com') });
    expect(
      await guardWebhookUrl('https://nowhere.example.com/', { ...azure, lookup: resolvingTo() }),
    ).toMatchObject({ ok: false, refusal: 'unresolved' });
    for (const address of ['10.1.2.3', '127.0.0.1', '169.254.169.254', 'fd00::1']) {
      expect(
        await guardWebhookUrl('https://inside.example.com/', {
          ...azure,
          lookup: resolvingTo(address),
        }),
      ).toEqual({ ok: false, refusal: 'refused', reason: words('inside.example.com') });
    }
  });

  it('allows only https ports 443 and 8443 (any port to localhost on the local host)', () => {
    expect(checkWebhookUrl('https://hooks.example.com:443/', azure).ok).toBe(true);
    expect(checkWebhookUrl('https://hooks.example.com:8443/', azure).ok).toBe(true);
    for (const port of [22, 25, 80, 6379, 8080, 9200])
      expect(checkWebhookUrl(`https://hooks.example.com:${port}/`, azure)).toEqual({
        ok: false,
        reason: 'The webhook URL must use port 443 (the default) or 8443.',
      });
    expect(checkWebhookUrl('http://localhost:3000/', localHost).ok).toBe(true);
  });
});
