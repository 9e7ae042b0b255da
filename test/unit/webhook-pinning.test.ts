/**
 * DNS rebinding (docs/webhooks.md, "Private addresses"): an attempt's address check resolves the
 * host, and so does the connection. A name that answers a public address to the check and a
 * loopback one to the connection must not reach the loopback server: the connection's lookup is
 * the checked one (publicOnlyLookup), so the attempt is refused and nothing arrives.
 *
 * The name `rebind.test` is served by replacing `dns.lookup` (callback form, what a connection's
 * lookup uses) and `dns/promises` `lookup` (what the check uses); every other name resolves as usual.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PRIVATE_ADDRESS, publicOnlyLookup } from '../../src/modules/webhooks/webhook.address';
import { sendAttempt } from '../../src/modules/webhooks/webhook.delivery';

// vi.mock factories run before this module's body (they are hoisted), so the name is hoisted too.
const { REBIND } = vi.hoisted(() => ({ REBIND: 'rebind.test' }));

vi.mock('node:dns/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:dns/promises')>();
  const lookup = (host: string, options: object) => (host === REBIND ? Promise.resolve([{ address: '93.184.216.34', family: 4 }]) : real.lookup(host, options as never));
  return { ...real, lookup, default: { ...real, lookup } };
});
vi.mock('node:dns', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:dns')>();
  const lookup = (host: string, options: object, callback: (...args: unknown[]) => void) => {
    if (host !== REBIND) return real.lookup(host, options as never, callback as never);
    const addresses = [{ address: '127.0.0.1', family: 4 }];
    process.nextTick(() => ((options as { all?: boolean }).all ? callback(null, addresses) : callback(null, '127.0.0.1', 4)));
  };
  return { ...real, lookup, default: { ...real, lookup } };
});

describe('a webhook attempt under DNS rebinding', () => {
  let server: http.Server;
  let port: number;
  let received = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      received++;
      req.resume();
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const attempt = (host: string) => ({ url: `http://${host}:${port}/hook`, eventId: 'msg_rebind', body: '{}', secrets: ['whsec_' + Buffer.alloc(32).toString('base64')] });

  it('refuses a name that resolved publicly for the check and to loopback for the connection; nothing arrives', async () => {
    const outcome = await sendAttempt(attempt(REBIND), { timeoutMs: 2_000, allowHttp: true, allowPrivate: false });
    expect(outcome).toEqual({
      kind: 'failed',
      code: null,
      error: `refused: host ${REBIND} resolves to 127.0.0.1, a private, loopback or link-local address; refused unless WEBHOOK_ALLOW_PRIVATE=true`,
    });
    expect(received).toBe(0);
  });

  it('the pinned lookup refuses a loopback name in both of its forms, and passes a public answer through', async () => {
    const call = (host: string, all: boolean) =>
      new Promise<{ error: NodeJS.ErrnoException | null; result: unknown }>((resolve) =>
        publicOnlyLookup(host, { all } as never, ((error: NodeJS.ErrnoException | null, result: unknown) => resolve({ error, result })) as never),
      );
    for (const all of [true, false]) {
      const { error } = await call('localhost', all);
      expect(error?.code).toBe(PRIVATE_ADDRESS);
      expect(error?.message).toMatch(/^host localhost resolves to (127\.0\.0\.1|::1), a private, loopback or link-local address/);
    }
    const dns = await import('node:dns');
    const spy = vi
      .spyOn(dns.default, 'lookup')
      .mockImplementationOnce(((_h: string, _o: object, cb: (e: null, a: Array<{ address: string; family: number }>) => void) => cb(null, [{ address: '93.184.216.34', family: 4 }])) as never);
    expect(await call('public.test', true)).toEqual({ error: null, result: [{ address: '93.184.216.34', family: 4 }] });
    spy.mockRestore();
  });
});
