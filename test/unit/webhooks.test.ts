/** Signed webhooks' pure parts (docs/webhooks.md): settings, addresses, the signature and the retry schedule. */
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/common/config';
import { isPrivateAddress, urlProblem } from '../../src/modules/webhooks/webhook.address';
import { nextAttemptAfter, RETRY_DELAYS_MS } from '../../src/modules/webhooks/webhook.delivery';
import { newSecret, signature, signatureHeader } from '../../src/modules/webhooks/webhook.signing';
import { committedIn } from '../../src/modules/webhooks/webhook.fanout';

describe('webhook settings', () => {
  it('allow http and private addresses on the local SQLite demo only, unless told', () => {
    expect(loadConfig({}).webhooks).toEqual({ pollMs: 1000, allowHttp: true, allowPrivate: true, timeoutMs: 10000, cpuShare: 0.25 });
    expect(loadConfig({ NODE_ENV: 'production' }).webhooks).toMatchObject({ allowHttp: false, allowPrivate: false });
    expect(loadConfig({ DATABASE_URL: 'postgres://app@db:5432/sla' }).webhooks).toMatchObject({ allowHttp: false, allowPrivate: false });
    expect(loadConfig({ DATABASE_URL: 'postgres://app@db:5432/sla', WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true' }).webhooks).toMatchObject({ allowHttp: true, allowPrivate: true });
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'false', WEBHOOK_POLL_MS: '0' }).webhooks).toMatchObject({ pollMs: 0, allowHttp: true, allowPrivate: false });
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'yes' })).toThrow('WEBHOOK_ALLOW_PRIVATE: expected true or false, received "yes"');
  });

  it('take a share of the main thread in whole percent, 1 to 100', () => {
    expect(loadConfig({ WEBHOOK_CPU_PERCENT: '100' }).webhooks.cpuShare).toBe(1);
    expect(loadConfig({ WEBHOOK_CPU_PERCENT: '5' }).webhooks.cpuShare).toBe(0.05);
    expect(() => loadConfig({ WEBHOOK_CPU_PERCENT: '0' })).toThrow('WEBHOOK_CPU_PERCENT: expected a whole number of percent from 1 to 100, received "0"');
    expect(() => loadConfig({ WEBHOOK_CPU_PERCENT: '12.5' })).toThrow('WEBHOOK_CPU_PERCENT: expected a whole number of percent from 1 to 100, received "12.5"');
  });
});

describe('webhook addresses', () => {
  it('tells private, loopback, link-local and unique-local addresses from public ones', () => {
    const priv = [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '172.31.255.255',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fc00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
      'not-an-ip',
    ];
    const pub = ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'];
    expect(priv.filter((a) => !isPrivateAddress(a))).toEqual([]);
    expect(pub.filter((a) => isPrivateAddress(a))).toEqual([]);
  });

  it('wants an absolute https URL without credentials (http when allowed)', () => {
    expect(urlProblem('https://hooks.example.com/sla', false)).toHaveProperty('url');
    expect(urlProblem('http://hooks.example.com/sla', true)).toHaveProperty('url');
    expect(urlProblem('http://hooks.example.com/sla', false)).toEqual({ problem: 'expected an https URL, received http: (http needs WEBHOOK_ALLOW_HTTP=true)' });
    expect(urlProblem('/relative', true)).toEqual({ problem: 'expected an absolute URL such as https://hooks.example.com/sla, received "/relative"' });
    expect(urlProblem('https://a:b@hooks.example.com/', false)).toEqual({ problem: 'expected a URL without user name or password; authenticate deliveries by their signature' });
  });
});

describe('webhook signatures', () => {
  it('signs as the Standard Webhooks reference implementation does', () => {
    const secret = newSecret();
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    const at = new Date('2026-03-04T09:00:00Z');
    const body = '{"type":"report.disputed"}';
    expect(signature(secret, 'msg_1', at.getTime() / 1000, body)).toBe(new Webhook(secret).sign('msg_1', at, body));
    const other = newSecret();
    expect(signatureHeader([secret, other], 'msg_1', 1, body).split(' ')).toEqual([signature(secret, 'msg_1', 1, body), signature(other, 'msg_1', 1, body)]);
  });
});

describe('webhook retries', () => {
  it('last about three days over ten attempts, with up to 10 % of jitter', () => {
    const total = RETRY_DELAYS_MS.reduce((a, b) => a + b, 0);
    expect(total).toBe(((71 * 60 + 35) * 60 + 5) * 1000);
    const now = new Date('2026-03-01T00:00:00Z');
    expect(nextAttemptAfter(1, now, () => 0)).toEqual(new Date('2026-03-01T00:00:05Z'));
    expect(nextAttemptAfter(2, now, () => 1)).toEqual(new Date('2026-03-01T00:05:30Z'));
    expect(nextAttemptAfter(9, now, () => 0)).toEqual(new Date('2026-03-01T20:00:00Z'));
    expect(nextAttemptAfter(10, now, () => 0)).toBeNull();
  });
});

describe('a subscription’s creation snapshot (PostgreSQL)', () => {
  it('counts a transaction as committed below xmin, or below xmax and not in progress', () => {
    const snapshot = '100:110:103,107';
    expect([99n, 100n, 103n, 105n, 107n, 109n, 110n, 120n].map((tx) => committedIn(snapshot, tx))).toEqual([true, true, false, true, false, true, false, false]);
    expect(committedIn('100:100:', 99n)).toBe(true);
    expect(committedIn('100:100:', 100n)).toBe(false);
  });
});
