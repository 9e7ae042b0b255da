/*
 * A burst of domain events and the live feed (issue 15, "Speed"): 10,000 events committed in a few
 * transactions while K graphql-ws subscribers listen and a load generator sends `{ me { id } }`
 * with a token. Measured in one run:
 *
 * 1. Idle: `{ me { id } }` alone for `--seconds` (the same-run baseline), subscribers connected.
 * 2. Burst: the same load; half a second in, the events are committed (`--transactions` of equal
 *    size, one after another); the phase lasts `--seconds` or until every subscriber has every
 *    event, whichever is later.
 *
 * Reported: commit → receipt delay per event and subscriber (median, p90, p99, max: the event's
 * transaction's commit as the main thread saw it, to its arrival at the subscriber's client), and
 * `{ me { id } }` latency during the burst against idle (p50, p99 and their ratio).
 *
 * The events are written with `emitEvents` (src/common/events.ts) in the burst's transactions,
 * as the services write them: no write path of the API produces 10,000 events today (a handoff
 * backfill writes handoff events, and the ledger's month closes are one per agreement-month).
 * They are `escalation.opened` events of the demo's agreements (round robin), so every
 * subscriber's events pass the policy check, and the subscribers are admins (who may read all).
 *
 * The subscribers run in a worker thread (graphql-ws clients over `ws`), so their parsing does not
 * take the server's event loop; the load generator runs in another (bench/lib.ts). Times are
 * `performance.timeOrigin + performance.now()` on both sides (one clock, one process).
 *
 *   npm run bench:events -- [--pg] [--seconds 5] [--events 10000] [--transactions 5] [--subscribers 10] [--concurrency 4] [--no-webhooks]
 *
 * Goals (issue 15), printed per engine with MET / NOT MET, not asserted (a missed goal is not a
 * failure): every event reaches every consumer; median commit → receipt ≤ 1 s for the live
 * subscribers and, webhooks included, for the webhook receiver's first arrival of each event;
 * `{ me { id } }` p99 during the burst ≤ 2× its idle p99.
 *
 * Webhooks (unless `--no-webhooks`): a local HTTP receiver in a worker thread, subscribed for every
 * department of the demo (each event reaches it once per subscription of a party; CORPORATE ones
 * once per department), records the first arrival of each event; its delays are printed in the
 * same table as the subscribers'. The worker runs at the default `WEBHOOK_POLL_MS` (1 s): it is
 * woken when events commit, the poll is only a safety net.
 */
// First: graphql-js in production mode unless GRAPHQL_DEV_CHECKS=true (src/common/graphql-mode.ts).
import '../src/common/graphql-mode';
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { emitEvents, type EventInput } from '../src/common/events';
import { sqlOf } from '../src/common/sql';
import { benchSeconds, closeMainAgent, fmt, hasFlag, latencyStats, type LoadResult, ms, option, printGoal, printTable, runLoad } from './lib';
import { type BenchServer, type Engine, Role, startBenchServer, tokenFor } from './setup';

const GOAL_MEDIAN_MS = 1000;
const GOAL_P99_FACTOR = 2;
const ME = JSON.stringify({ query: '{ me { id } }' });

/** One clock for every thread of the process, in milliseconds. */
const clock = () => performance.timeOrigin + performance.now();

/**
 * CPU time of this process's main thread (the server's event loop) in ms, from
 * /proc/self/task/<pid>/stat (utime + stime, in clock ticks of 10 ms); NaN where /proc is missing.
 * The load generator, the subscribers and the receiver are other threads and are not counted.
 */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * Something that receives the burst: it is started before the burst, and resolves to one array
 * per consumer (a subscriber, a webhook endpoint) of arrival instants indexed by event number
 * (NaN for an event it never received).
 */
interface Receiver {
  name: string;
  /** Resolves when every consumer is ready to receive. */
  ready(): Promise<void>;
  /** Resolves once every consumer has every event, or at `deadline` (clock()) with what arrived. */
  arrivals(deadline: number): Promise<Float64Array[]>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Live subscribers, in a worker thread

interface SubscriberOptions {
  wsUrl: string;
  token: string;
  count: number;
  events: number;
}

/** K graphql-ws subscribers in a worker; each event's number is in its payload's title. */
function liveSubscribers(bench: BenchServer, token: string, count: number, events: number): Receiver {
  const worker = new Worker(__filename, {
    workerData: { benchLiveSubscribers: true, options: { wsUrl: `${bench.url.replace(/^http/, 'ws')}/graphql`, token, count, events } satisfies SubscriberOptions },
  });
  let result: Promise<Float64Array[]> | null = null;
  const messages = new Promise<Float64Array[]>((resolve, reject) => {
    worker.on('message', (m: { arrivals?: Float64Array[]; error?: string }) => {
      if (m.arrivals) resolve(m.arrivals);
      if (m.error) reject(new Error(`subscriber worker: ${m.error}`));
    });
    worker.once('error', reject);
  });
  return {
    name: `live (${count} subscribers)`,
    async ready() {
      // graphql-ws does not acknowledge a subscription: wait until the feed holds them all.
      const until = clock() + 30_000;
      while (bench.app.live.feed.size < count) {
        if (clock() > until) throw new Error(`only ${bench.app.live.feed.size} of ${count} subscribers after 30 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    arrivals(deadline) {
      worker.postMessage({ deadline });
      return (result ??= messages);
    },
    async close() {
      await worker.terminate();
    },
  };
}

async function subscriberWorker(options: SubscriberOptions): Promise<void> {
  const arrivals = Array.from({ length: options.count }, () => new Float64Array(options.events).fill(NaN));
  const received = new Array<number>(options.count).fill(0);
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const clients = Array.from({ length: options.count }, (_, k) => {
    const client = createClient({ url: options.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${options.token}` }, retryAttempts: 0 });
    client.subscribe<{ events: { payload: { title: string } } }>(
      { query: 'subscription { events(types: ["escalation.opened"]) { id payload } }' },
      {
        next: (r) => {
          const at = clock();
          const n = Number(r.data?.events.payload.title.slice('burst '.length));
          if (Number.isInteger(n) && n >= 0 && n < options.events && Number.isNaN(arrivals[k][n])) {
            arrivals[k][n] = at;
            if (++received[k] === options.events && received.every((c) => c === options.events)) finish();
          }
        },
        error: (e) => {
          const close = e as { code?: number; reason?: string };
          const why = e instanceof Error ? e.message : close.code !== undefined ? `closed ${close.code} ${close.reason}` : JSON.stringify(e);
          parentPort?.postMessage({ error: `subscriber ${k}: ${why}` });
        },
        complete: () => undefined,
      },
    );
    return client;
  });
  const { deadline } = await new Promise<{ deadline: number }>((resolve) => parentPort?.once('message', resolve));
  await Promise.race([finished, new Promise((r) => setTimeout(r, Math.max(0, deadline - clock())))]);
  await Promise.all(clients.map((c) => c.dispose()));
  parentPort?.postMessage({ arrivals });
}

if (!isMainThread && (workerData as { benchLiveSubscribers?: boolean } | null)?.benchLiveSubscribers) {
  subscriberWorker((workerData as { options: SubscriberOptions }).options).catch((e: unknown) => parentPort?.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
}

// ---------------------------------------------------------------------------------------------
// A webhook receiver, in a worker thread

/** A local HTTP endpoint subscribed for every department; one consumer: the first arrival of each event. */
async function webhookReceiver(bench: BenchServer, token: string, events: number): Promise<Receiver> {
  const worker = new Worker(__filename, { workerData: { benchWebhookReceiver: true, events } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port: number }) => resolve(m.port));
    worker.once('error', reject);
  });
  const departments = await sqlOf(bench.app.orm.em.fork()).rows<{ code: string }>('select "code" from "department" order by "code"');
  for (const { code } of departments) {
    const res = await fetch(bench.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: 'mutation($i: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $i) { userErrors { field message } } }',
        variables: { i: { department: code, url: `http://127.0.0.1:${port}/hook`, eventTypes: ['escalation.opened'] } },
      }),
    });
    const body = (await res.json()) as { data?: { createWebhookSubscription: { userErrors: unknown[] } }; errors?: unknown[] };
    if (body.errors || body.data?.createWebhookSubscription.userErrors.length) throw new Error(`webhook subscription for ${code}: ${JSON.stringify(body)}`);
  }
  let result: Promise<Float64Array[]> | null = null;
  const messages = new Promise<Float64Array[]>((resolve, reject) => {
    worker.on('message', (m: { arrivals?: Float64Array }) => m.arrivals && resolve([m.arrivals]));
    worker.once('error', reject);
  });
  return {
    name: `webhooks (${departments.length} subscriptions, 1 endpoint)`,
    ready: async () => undefined,
    arrivals(deadline) {
      worker.postMessage({ deadline });
      return (result ??= messages);
    },
    async close() {
      await worker.terminate();
    },
  };
}

async function webhookWorker(events: number): Promise<void> {
  const http = await import('node:http');
  const arrivals = new Float64Array(events).fill(NaN);
  let received = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const at = clock();
      res.end();
      const n = Number((JSON.parse(body) as { data: { payload: { title: string } } }).data.payload.title.slice('burst '.length));
      if (Number.isInteger(n) && n >= 0 && n < events && Number.isNaN(arrivals[n])) {
        arrivals[n] = at;
        if (++received === events) finish();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  parentPort?.postMessage({ port: (server.address() as { port: number }).port });
  const { deadline } = await new Promise<{ deadline: number }>((resolve) => parentPort?.once('message', resolve));
  await Promise.race([finished, new Promise((r) => setTimeout(r, Math.max(0, deadline - clock())))]);
  server.close();
  parentPort?.postMessage({ arrivals });
}

if (!isMainThread && (workerData as { benchWebhookReceiver?: boolean } | null)?.benchWebhookReceiver) {
  webhookWorker((workerData as { events: number }).events).catch((e: unknown) => parentPort?.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
}

// ---------------------------------------------------------------------------------------------
// The run

function positiveInt(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, received ${JSON.stringify(raw)}`);
  return n;
}

/** Commits `events` escalation.opened events in `transactions` transactions; returns each event's commit instant. */
async function burst(bench: BenchServer, events: number, transactions: number): Promise<Float64Array> {
  const em = bench.app.orm.em.fork();
  const agreements = await sqlOf(em).rows<{ id: string; key: string; provider_id: string | null; customer_id: string | null }>(
    'select "id", "key", "provider_id", "customer_id" from "agreement" order by "key"',
  );
  if (!agreements.length) throw new Error('the demo has no agreements');
  const committed = new Float64Array(events);
  const size = Math.ceil(events / transactions);
  for (let from = 0; from < events; from += size) {
    const to = Math.min(events, from + size);
    const batch: Array<EventInput<'escalation.opened'>> = [];
    for (let n = from; n < to; n++) {
      const a = agreements[n % agreements.length];
      batch.push({
        type: 'escalation.opened',
        occurredAt: new Date(),
        agreement: { id: a.id, key: a.key, provider: a.provider_id ? { id: a.provider_id } : null, customer: a.customer_id ? { id: a.customer_id } : null },
        payload: { escalationId: '00000000-0000-4000-8000-000000000000', month: '2026-11', severity: 'HIGH', title: `burst ${n}`, status: 'OPEN' },
      });
    }
    await bench.app.orm.em.fork().transactional((tx) => emitEvents(tx, batch));
    committed.fill(clock(), from, to);
  }
  return committed;
}

async function run(engine: Engine): Promise<void> {
  const seconds = benchSeconds(5);
  const events = positiveInt('--events', 10_000);
  const transactions = positiveInt('--transactions', 5);
  const subscribers = positiveInt('--subscribers', 10);
  const concurrency = positiveInt('--concurrency', 4);
  console.log(`\n=== events burst on ${engine}: ${fmt(events)} events in ${transactions} transactions, ${subscribers} subscribers, { me { id } } at ${concurrency} connections, ${seconds} s phases`);

  const webhooks = !hasFlag('--no-webhooks');
  const bench = await startBenchServer(engine, 'events', webhooks ? { WEBHOOK_POLL_MS: '1000', WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true' } : { WEBHOOK_POLL_MS: '0' });
  const receivers: Receiver[] = [];
  try {
    const token = await tokenFor(bench.app, Role.ADMIN);
    receivers.push(liveSubscribers(bench, token, subscribers, events));
    if (webhooks) receivers.push(await webhookReceiver(bench, token, events));
    for (const r of receivers) await r.ready();
    const load = (durationMs: number): Promise<LoadResult> =>
      runLoad({ url: bench.graphqlUrl, headers: { authorization: `Bearer ${token}` }, bodies: [ME], concurrency, warmupMs: 500, durationMs, expect: '"me"', reject: '"errors"' });

    const idleCpu = mainThreadCpuMs();
    const idle = await load(seconds * 1000);
    const idleCpuMs = mainThreadCpuMs() - idleCpu;

    const burstLoad = load(seconds * 1000);
    // The load's warm-up is 500 ms: the burst starts half a second into the measured phase.
    await new Promise((r) => setTimeout(r, 1000));
    const started = clock();
    const burstCpu = mainThreadCpuMs();
    const committed = await burst(bench, events, transactions);
    const commitMs = clock() - started;
    // Webhook deliveries are slower than the live feed (an HTTP request each): three minutes.
    const arrivals = await Promise.all(receivers.map((r) => r.arrivals(clock() + 180_000)));
    const consumedMs = clock() - started;
    const consumedCpuMs = mainThreadCpuMs() - burstCpu;
    const busy = await burstLoad;
    const budget = { ...bench.app.webhooks.budget.stats };
    const [{ n: deliveries }] = await sqlOf(bench.app.orm.em.fork()).rows<{ n: number | string }>(`select count(*) as "n" from "webhook_delivery" where "status" = 'DELIVERED'`);

    for (const [name, result] of [
      ['idle', idle],
      ['burst', busy],
    ] as const) {
      if (result.errors) throw new Error(`{ me { id } } failed ${result.errors} times (${name}): ${result.errorSamples.join(' | ')}`);
    }

    const rows: string[][] = [];
    const goals: Array<[string, boolean, string]> = [];
    receivers.forEach((receiver, i) => {
      const delays: number[] = [];
      let missing = 0;
      for (const consumer of arrivals[i]) {
        consumer.forEach((at, n) => (Number.isNaN(at) ? missing++ : delays.push(at - committed[n])));
      }
      const s = latencyStats(delays);
      goals.push([`${receiver.name}: every event received`, missing === 0, `${fmt(missing)} missing`]);
      goals.push([`${receiver.name}: median commit → receipt ≤ ${GOAL_MEDIAN_MS} ms`, s.p50 <= GOAL_MEDIAN_MS, ms(s.p50)]);
      rows.push([receiver.name, fmt(delays.length), fmt(missing), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)]);
    });
    printTable(`commit → receipt (${fmt(events)} events committed in ${ms(commitMs)})`, ['receiver', 'received', 'missing', 'p50', 'p90', 'p99', 'max'], rows);
    printTable(
      '{ me { id } } during the burst vs idle',
      ['phase', 'requests', 'req/s', 'p50', 'p99', 'max'],
      [
        ['idle', fmt(idle.count), fmt(idle.rps), ms(idle.latency.p50), ms(idle.latency.p99), ms(idle.latency.max)],
        ['burst', fmt(busy.count), fmt(busy.rps), ms(busy.latency.p50), ms(busy.latency.p99), ms(busy.latency.max)],
        ['burst/idle', '', fmt(busy.rps / idle.rps, 2), fmt(busy.latency.p50 / idle.latency.p50, 2), fmt(busy.latency.p99 / idle.latency.p99, 2), ''],
      ],
    );
    printTable(
      `main thread (the server's event loop): CPU time from /proc (10 ms ticks)`,
      ['window', 'wall', 'CPU', 'per unit'],
      [
        ['idle { me { id } }', ms(seconds * 1000), ms(idleCpuMs), `${fmt((idleCpuMs * 1000) / Math.max(1, idle.count), 0)} µs per request`],
        [
          `burst: commit → last arrival (${fmt(Number(deliveries))} webhook deliveries)`,
          ms(consumedMs),
          ms(consumedCpuMs),
          Number(deliveries) ? `${fmt((consumedCpuMs * 1000) / Number(deliveries), 0)} µs per delivery (live and requests included)` : '',
        ],
      ],
    );
    if (webhooks) {
      console.log(
        `webhook worker's budget (WEBHOOK_CPU_PERCENT ${Math.round(bench.app.webhooks.budget.share * 100)}): ${fmt(budget.units)} units, ${ms(budget.chargedMs)} charged ` +
          `(${fmt((budget.chargedMs * 1000) / Math.max(1, Number(deliveries)), 0)} µs per delivery), longest unit ${ms(budget.maxUnitMs)}, ${fmt(budget.slices)} slices, ${fmt(budget.rests)} rests of ${ms(budget.restMs)} in all`,
      );
    }
    goals.push([`{ me { id } } p99 during the burst ≤ ${GOAL_P99_FACTOR}× idle`, busy.latency.p99 <= GOAL_P99_FACTOR * idle.latency.p99, `${fmt(busy.latency.p99 / idle.latency.p99, 2)}×`]);
    for (const [description, met, measured] of goals) printGoal(`${engine}${webhooks ? '' : ' (no webhooks)'}: ${description}`, met, measured);
  } finally {
    for (const r of receivers) await r.close().catch(() => undefined);
    await bench.close();
  }
}

async function main(): Promise<void> {
  if (!hasFlag('--pg-only')) await run('sqlite');
  if (hasFlag('--pg') || hasFlag('--pg-only')) await run('postgresql');
  closeMainAgent();
}

if (isMainThread) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
