import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../shared/app/request-limits';
import { decodedPath, queryOf, withClientAddress } from '../../shared/local/intake';
import {
  checkPastDue,
  ncrontab,
  never,
  statusAfterRun,
  type ScheduleStatus,
} from '../../shared/local/timer-listener';

describe('the client address behind the Azure front end (X-Forwarded-For)', () => {
  it('is the same client whatever port its connection has', () => {
    expect(clientAddress('203.0.113.7:51234')).toBe('203.0.113.7');
    expect(clientAddress('203.0.113.7:51299')).toBe('203.0.113.7');
    expect(clientAddress('203.0.113.7')).toBe('203.0.113.7');
  });

  it('takes the last entry, the one the front end appended, not what the client wrote before it', () => {
    expect(clientAddress('198.51.100.1, 10.0.0.5:443, 203.0.113.7:51234')).toBe('203.0.113.7');
  });

  it('reads IPv6 with and without brackets and port, and counts it by its /64', () => {
    const one = clientAddress('[2001:db8:aa:bb:1:2:3:4]:51234');
    expect(one).toBe('2001:db8:aa:bb::/64');
    expect(clientAddress('2001:db8:aa:bb::9')).toBe(one);
    expect(clientAddress('[2001:DB8:AA:BB:ffff::1]')).toBe(one);
    expect(clientAddress('2001:db8:aa:bc::1')).not.toBe(one);
    expect(clientAddress('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddress('[::1]:8080')).toBe('0:0:0:0::/64');
  });

  it('reads "::" as the zero groups the address leaves out, an embedded IPv4 address as two groups', () => {
    // The same addresses written out in full: the /64 is their first four groups.
    expect(clientAddress('2001:db8::3:4:5:6:7')).toBe('2001:db8:0:3::/64');
    expect(clientAddress('2001:db8:0:3:4:5:6:7')).toBe('2001:db8:0:3::/64');
    expect(clientAddress('2001::3:4:5:198.51.100.7')).toBe('2001:0:0:3::/64');
    expect(clientAddress('2001:0:0:3:4:5:c633:6407')).toBe('2001:0:0:3::/64');
  });

  it('takes an IPv6 address for an IPv4 client only when it is ::ffff:a.b.c.d, not one that ends so', () => {
    expect(clientAddress('[::ffff:198.51.100.7]:51234')).toBe('198.51.100.7');
    expect(clientAddress('2001:db8::ffff:198.51.100.7')).toBe('2001:db8:0:0::/64');
  });

  it('reads no address out of an entry with more around it than the front end writes', () => {
    for (const value of [
      'x203.0.113.7:51234',
      '203.0.113.7:51234x',
      '203.0.113.7:123456',
      'x[2001:db8::7]:51234',
      '[2001:db8::7]:51234x',
      '[2001:db8::7]:123456',
    ])
      expect(clientAddress(value), value).toBe('unknown');
    // The same with a port of five digits at most, as the front end writes it.
    expect(clientAddress('203.0.113.7:12345')).toBe('203.0.113.7');
    expect(clientAddress('[2001:db8::7]:12345')).toBe('2001:db8:0:0::/64');
  });

  it('counts an IPv6 address with a zone by its /64 without the zone: a made-up zone is no bucket of its own, and no zone throws', () => {
    // Node's isIP accepts a zone (letters, digits, '-', '.', ':'), which names an interface of the
    // machine that wrote the address; the front end never writes one.
    expect(clientAddress('fe80::1%eth0')).toBe(clientAddress('fe80::1'));
    expect(clientAddress('[2001:db8:aa:bb::9%1]:51234')).toBe('2001:db8:aa:bb::/64');
    expect(clientAddress('::%a:1:0:0:0:0:0')).toBe('0:0:0:0::/64');
    expect(clientAddress('::%a:2:0:0:0:0:0')).toBe('0:0:0:0::/64');
    expect(clientAddress('::%a:b:c:d:e:f:g:h:i')).toBe('0:0:0:0::/64');
    expect(clientAddress('::ffff:198.51.100.7%x.1.2.3')).toBe('198.51.100.7');
    expect(clientAddress('2001:db8::ffff:198.51.100.7%x')).toBe('2001:db8:0:0::/64');
  });

  it('reads an entry of 64 characters at most, and none longer, whatever a zone makes of its length', () => {
    const zoned = (length: number): string => `fe80::1%${'z'.repeat(length - 'fe80::1%'.length)}`;
    expect(zoned(64)).toHaveLength(64);
    expect(clientAddress(zoned(63))).toBe('fe80:0:0:0::/64');
    expect(clientAddress(zoned(64))).toBe('fe80:0:0:0::/64');
    expect(clientAddress(zoned(65))).toBe('unknown');
    expect(clientAddress(` ${zoned(64)} `)).toBe('fe80:0:0:0::/64');
  });

  it('puts whatever is not an address into one shared bucket', () => {
    for (const value of [
      null,
      '',
      ' ',
      '203.0.113.7, ',
      'unknown',
      'evil.example',
      'a'.repeat(65),
      '999.1.1.1:80',
    ])
      expect(clientAddress(value)).toBe('unknown');
  });

  it('is what the local host writes for a peer, as the front end does (ip:port)', () => {
    expect(withClientAddress({}, '127.0.0.1', 51234)).toEqual({
      'x-forwarded-for': '127.0.0.1:51234',
    });
    expect(withClientAddress({ 'x-forwarded-for': '198.51.100.1' }, '::1', 80)).toEqual({
      'x-forwarded-for': '198.51.100.1, [::1]:80',
    });
  });
});

describe('the query as ASP.NET Core parses it and the worker receives it', () => {
  it('joins repeated keys with ",", merging keys case-insensitively and keeping the first spelling', () => {
    expect(queryOf('?status=a&Status=b&pageSize=10')).toEqual({ status: 'a,b', pageSize: '10' });
  });

  it('decodes escapes and + as a space, keeps a malformed escape, and gives a bare key an empty value', () => {
    expect(queryOf('?q=a+b%20c&bad=%E0%A4%A&flag&=x&&')).toEqual({
      q: 'a b c',
      bad: '%E0%A4%A',
      flag: '',
      '': 'x',
    });
  });
});

describe('the path as Kestrel decodes it', () => {
  it('decodes every escape but %2F, and refuses a NUL', () => {
    expect(decodedPath('/api/me/customers/%41b%2Fc%2fd')).toBe('/api/me/customers/Ab%2Fc%2fd');
    expect(decodedPath('/api/%ZZ/%E0%A4%A')).toBe('/api/%ZZ/%E0%A4%A');
    expect(decodedPath('/api/health%00')).toBeNull();
  });
});

describe('timer schedules as the Functions host keeps them (schedule monitoring)', () => {
  const hourly = ncrontab('0 0 * * * *');
  const at = (iso: string): Date => new Date(iso);
  const status = (last: string, next: string): ScheduleStatus => ({
    last: at(last),
    next: at(next),
    lastUpdated: at(last),
  });

  it('monitors a schedule of a minute or more, not one that fires more often', () => {
    expect(hourly.monitored).toBe(true);
    expect(ncrontab('0 */1 * * * *').monitored).toBe(true);
    expect(ncrontab('*/10 * * * * *').monitored).toBe(false);
  });

  it('runs once, past due, when the recorded next occurrence passed while the host was down', () => {
    const stored = status('2026-03-02T08:00:00Z', '2026-03-02T09:00:00Z');
    const checked = checkPastDue(hourly, stored, at('2026-03-02T11:30:00Z'));
    expect(checked).toMatchObject({ pastDue: true, changed: false });
    expect(checked.status.next).toEqual(at('2026-03-02T09:00:00Z'));
  });

  it('is not past due before the next occurrence, nor on a first start', () => {
    const stored = status('2026-03-02T08:00:00Z', '2026-03-02T09:00:00Z');
    expect(checkPastDue(hourly, stored, at('2026-03-02T08:59:59Z')).pastDue).toBe(false);
    const first = checkPastDue(hourly, null, at('2026-03-02T08:30:00Z'));
    expect(first).toMatchObject({ pastDue: false, changed: true });
    expect(first.status).toEqual({
      last: never,
      next: at('2026-03-02T09:00:00Z'),
      lastUpdated: at('2026-03-02T08:30:00Z'),
    });
  });

  it('is not past due when the schedule changed: the next occurrence is computed again from now', () => {
    const everyMinute = ncrontab('0 */1 * * * *');
    const stored = status('2026-03-02T08:00:00Z', '2026-03-02T09:00:00Z');
    const checked = checkPastDue(everyMinute, stored, at('2026-03-02T11:30:30Z'));
    expect(checked).toMatchObject({ pastDue: false, changed: true });
    expect(checked.status.next).toEqual(at('2026-03-02T11:31:00Z'));
  });

  it('computes the next occurrence from the start of a run, so a run that outlasts its period is followed at once', () => {
    const everyMinute = ncrontab('0 */1 * * * *');
    const before = status('2026-03-02T09:00:00Z', '2026-03-02T09:01:00Z');
    const after = statusAfterRun(everyMinute, before, at('2026-03-02T09:01:00.020Z'), true);
    expect(after.next).toEqual(at('2026-03-02T09:02:00Z'));
    // The run ended at 09:02:30: the next occurrence has passed, so the timer fires at once.
    expect(after.next < at('2026-03-02T09:02:30Z')).toBe(true);
  });

  it('counts a run that fired a little early as the occurrence it was for', () => {
    const before = status('2026-03-02T08:00:00Z', '2026-03-02T09:00:00Z');
    const after = statusAfterRun(hourly, before, at('2026-03-02T08:59:59.900Z'), true);
    expect(after.last).toEqual(at('2026-03-02T09:00:00Z'));
    expect(after.next).toEqual(at('2026-03-02T10:00:00Z'));
  });
});
