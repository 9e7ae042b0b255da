/*
 * Shared pieces of the benchmarks: a closed-loop HTTP load generator (run in a worker thread, so
 * the server under test keeps the main thread's event loop to itself), latency statistics, a
 * memory sampler, argument parsing and a table printer. Node built-ins only.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

// ---------------------------------------------------------------------------------------------
// Arguments

/** `--seconds N` or BENCH_SECONDS, else `fallback`: the length of each measured phase. */
export function benchSeconds(fallback: number): number {
  const i = process.argv.indexOf('--seconds');
  const raw = i >= 0 ? process.argv[i + 1] : process.env.BENCH_SECONDS;
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--seconds / BENCH_SECONDS: expected a positive number, received ${JSON.stringify(raw)}`);
  return n;
}

/** Whether a bare flag such as `--pg` was given. */
export function hasFlag(flag: string): boolean {
  return process.argv.includes(flag);
}

/** The value of `--name value`, if given. */
export function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Statistics and printing

export interface LatencyStats {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of latencies in milliseconds. */
export function latencyStats(samples: ArrayLike<number>): LatencyStats {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  if (!n) return { mean: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN };
  const at = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
  let sum = 0;
  for (const v of sorted) sum += v;
  return { mean: sum / n, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[n - 1] };
}

/** A number with thousands separators and `digits` decimals. */
export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const ms = (n: number): string => `${fmt(n, n < 10 ? 2 : 1)} ms`;
export const mib = (bytes: number): string => `${fmt(bytes / 1048576, 1)} MiB`;

/** Prints a left-aligned first column and right-aligned other columns. */
export function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

/** Prints a goal and whether it is met; returns whether it is. A missed goal is not an error. */
export function printGoal(description: string, met: boolean, measured: string): boolean {
  console.log(`goal: ${description} — measured ${measured} — ${met ? 'MET' : 'NOT MET'}`);
  return met;
}

// ---------------------------------------------------------------------------------------------
// Memory

export interface MemoryReport {
  before: number;
  peak: number;
  mean: number;
  samples: number;
}

/** Samples `process.memoryUsage().rss` every `intervalMs` until `stop()` (the whole process: server and worker). */
export function sampleMemory(intervalMs = 100): { stop(): MemoryReport } {
  const before = process.memoryUsage().rss;
  let peak = before;
  let sum = 0;
  let samples = 0;
  const timer = setInterval(() => {
    const rss = process.memoryUsage().rss;
    peak = Math.max(peak, rss);
    sum += rss;
    samples++;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const rss = process.memoryUsage().rss;
      peak = Math.max(peak, rss);
      return { before, peak, mean: samples ? sum / samples : rss, samples };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One HTTP request from the main thread (for few, large requests such as ingest batches)

export interface Reply {
  status: number;
  text: string;
  ms: number;
}

const mainAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** POSTs a JSON body; `ms` is from the first byte written to the last byte read. */
export function postJson(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(url, { method: 'POST', agent: mainAgent, headers: { 'content-type': 'application/json', 'content-length': String(payload.length), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Lets the main thread's keep-alive sockets go, so the process can exit. */
export function closeMainAgent(): void {
  mainAgent.destroy();
}

// ---------------------------------------------------------------------------------------------
// Closed-loop load generator

export interface LoadOptions {
  /** Full URL to POST to. */
  url: string;
  headers?: Record<string, string>;
  /**
   * Request bodies (JSON). One body: sent again and again. Several: each sent once, in order
   * (warm-up first), and the run ends when they are used up (`exhausted` in the result).
   */
  bodies: string[];
  /** Connections, each with one request in flight at a time (closed loop). */
  concurrency: number;
  /** Warm-up before measuring (not counted), by time and/or by number of requests. */
  warmupMs?: number;
  warmupCount?: number;
  /** The measured phase ends after this long ... */
  durationMs?: number;
  /** ... or after this many requests (whichever comes first). */
  count?: number;
  /** A reply counts as a success only with status 200 and a body containing this. */
  expect?: string;
  /** ... and not containing this. */
  reject?: string;
}

export interface LoadResult {
  /** Measured requests (successes and errors). */
  count: number;
  errors: number;
  /** Up to five failing replies, for the report. */
  errorSamples: string[];
  elapsedMs: number;
  /** Completed requests per second of the measured phase. */
  rps: number;
  latency: LatencyStats;
  /** The body list ran out before the duration or count was reached. */
  exhausted: boolean;
  warmupCount: number;
}

/** Runs a closed-loop load in a worker thread against `options.url`. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (!options.bodies.length) throw new Error('runLoad: no bodies');
  if (options.durationMs === undefined && options.count === undefined) throw new Error('runLoad: give durationMs or count');
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: { benchLoadWorker: true, options } });
    let settled = false;
    worker.once('message', (m: { result?: Omit<LoadResult, 'latency'> & { latencies: Float64Array }; error?: string }) => {
      settled = true;
      if (m.error || !m.result) return reject(new Error(`load worker: ${m.error}`));
      const { latencies, ...rest } = m.result;
      resolve({ ...rest, latency: latencyStats(latencies) });
    });
    worker.once('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`load worker exited with code ${code} before reporting`));
    });
  });
}

async function workerMain(options: LoadOptions): Promise<Omit<LoadResult, 'latency'> & { latencies: Float64Array }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const target = new URL(options.url);
  const buffers = options.bodies.map((b) => Buffer.from(b));
  const cycle = buffers.length === 1;
  let next = 0;
  const headersFor = (len: number) => ({ 'content-type': 'application/json', 'content-length': String(len), ...options.headers });
  const take = (): Buffer | null => {
    if (cycle) return buffers[0];
    return next < buffers.length ? buffers[next++] : null;
  };

  const send = (payload: Buffer): Promise<{ ok: boolean; sample?: string }> =>
    new Promise((resolve) => {
      const req = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: 'POST', agent, headers: headersFor(payload.length) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const ok = res.statusCode === 200 && (!options.expect || text.includes(options.expect)) && (!options.reject || !text.includes(options.reject));
          resolve(ok ? { ok } : { ok, sample: `${res.statusCode} ${text.slice(0, 500)}` });
        });
        res.on('error', (e) => resolve({ ok: false, sample: `response error: ${e.message}` }));
      });
      req.on('error', (e) => resolve({ ok: false, sample: `request error: ${e.message}` }));
      req.end(payload);
    });

  /** Runs `concurrency` closed loops until `done()`; returns latencies and error counts. */
  const phase = async (done: (started: number) => boolean, record: boolean) => {
    const latencies: number[] = [];
    const samples: string[] = [];
    let errors = 0;
    let started = 0;
    let exhausted = false;
    const loop = async () => {
      for (;;) {
        if (done(started)) return;
        const payload = take();
        if (!payload) {
          exhausted = true;
          return;
        }
        started++;
        const t0 = performance.now();
        const r = await send(payload);
        const t = performance.now() - t0;
        if (record) latencies.push(t);
        if (!r.ok) {
          errors++;
          if (samples.length < 5 && r.sample) samples.push(r.sample);
        }
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: options.concurrency }, loop));
    return { latencies, samples, errors, started, exhausted, elapsedMs: performance.now() - t0 };
  };

  let warmupCount = 0;
  if (options.warmupMs || options.warmupCount) {
    const until = performance.now() + (options.warmupMs ?? Infinity);
    const w = await phase((n) => performance.now() >= until || (options.warmupCount !== undefined && n >= options.warmupCount), false);
    warmupCount = w.started;
    if (w.errors) {
      // Warm-up failures are failures too: report them rather than measure a broken set-up.
      return { count: 0, errors: w.errors, errorSamples: w.samples, elapsedMs: 0, rps: 0, latencies: new Float64Array(), exhausted: w.exhausted, warmupCount };
    }
  }
  const deadline = options.durationMs !== undefined ? performance.now() + options.durationMs : Infinity;
  const m = await phase((n) => performance.now() >= deadline || (options.count !== undefined && n >= options.count), true);
  agent.destroy();
  return {
    count: m.latencies.length,
    errors: m.errors,
    errorSamples: m.samples,
    elapsedMs: m.elapsedMs,
    rps: m.latencies.length / (m.elapsedMs / 1000),
    latencies: Float64Array.from(m.latencies),
    exhausted: m.exhausted,
    warmupCount,
  };
}

if (!isMainThread && (workerData as { benchLoadWorker?: boolean } | null)?.benchLoadWorker) {
  workerMain((workerData as { options: LoadOptions }).options).then(
    (result) => parentPort?.postMessage({ result }),
    (e: unknown) => parentPort?.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
}
