/**
 * Where a webhook may point (docs/webhooks.md, "Private addresses"): an absolute http(s) URL
 * without credentials, https unless http is allowed, and — unless private addresses are allowed —
 * a host whose every address is public. Checked when a subscription is created and again before
 * every attempt, since a name may resolve elsewhere later (DNS rebinding).
 */
import dns from 'node:dns';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Addresses a webhook may not reach: this host, the private networks, link-local, unique-local, multicast, reserved. */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv6');
}

/** Whether a literal address is private (IPv4-mapped IPv6 addresses are judged as IPv4). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1], 'ipv4');
  const family = isIP(address);
  if (family === 0) return true; // not an address at all: refuse rather than guess
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The URL's problem as a sentence, or the parsed URL; no network. */
export function urlProblem(raw: string, allowHttp: boolean): { problem: string } | { url: URL } {
  if (raw.length > 2000) return { problem: `expected at most 2000 characters, received ${raw.length}` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: `expected an absolute URL such as https://hooks.example.com/sla, received ${JSON.stringify(raw)}` };
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    return { problem: allowHttp ? `expected an https or http URL, received ${url.protocol}` : `expected an https URL, received ${url.protocol} (http needs WEBHOOK_ALLOW_HTTP=true)` };
  }
  if (url.username || url.password) return { problem: 'expected a URL without user name or password; authenticate deliveries by their signature' };
  if (!url.hostname) return { problem: 'expected a URL with a host' };
  return { url };
}

/** The host of a URL as an address literal (without IPv6 brackets), or null for a name. */
function literalHost(url: URL): string | null {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) ? host : null;
}

/**
 * Why the URL's host may not receive deliveries (a private address, a name that does not
 * resolve), or null. Resolves names with `dns.lookup` (every address: one private address refuses).
 */
export async function addressProblem(url: URL): Promise<string | null> {
  const literal = literalHost(url);
  if (literal) return isPrivateAddress(literal) ? `${literal} is a private, loopback or link-local address; refused unless WEBHOOK_ALLOW_PRIVATE=true` : null;
  let addresses: Array<{ address: string }>;
  try {
    addresses = await lookup(url.hostname, { all: true, verbatim: true });
  } catch (e) {
    return `host ${url.hostname} does not resolve (${(e as NodeJS.ErrnoException).code ?? 'lookup failed'})`;
  }
  const bad = addresses.find((a) => isPrivateAddress(a.address));
  return bad ? `host ${url.hostname} resolves to ${bad.address}, a private, loopback or link-local address; refused unless WEBHOOK_ALLOW_PRIVATE=true` : null;
}

/** The code of the error a connection gets from {@link publicOnlyLookup} for a host with a private address. */
export const PRIVATE_ADDRESS = 'EPRIVATEADDRESS';

/**
 * A `lookup` for node:net connections (an http(s) request's `lookup` option) that resolves as
 * `dns.lookup` does but fails with {@link PRIVATE_ADDRESS} when any address of the host is
 * private, so the connection is made to an address that was checked in the same lookup: a name
 * cannot resolve publicly for {@link addressProblem} and privately a moment later for the
 * connection (DNS rebinding). Address literals are not looked up by node:net; `addressProblem`
 * judges them.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad || !addresses.length) {
      const refused: NodeJS.ErrnoException = new Error(
        bad ? `host ${hostname} resolves to ${bad.address}, a private, loopback or link-local address; refused unless WEBHOOK_ALLOW_PRIVATE=true` : `host ${hostname} does not resolve`,
      );
      refused.code = PRIVATE_ADDRESS;
      return callback(refused, '', 0);
    }
    if (options.all) (callback as unknown as (e: null, all: dns.LookupAddress[]) => void)(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  });
};
