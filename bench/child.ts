/*
 * Child processes for benchmarks that need a process of their own: the compiled server (so that its
 * resident memory is its own, not the load generator's or the baseline's), the compiled CLIs
 * (`seed:large`, `ledger:rebuild`), and a resident-memory sampler of another process that runs in
 * a worker thread, so a busy main thread (a synchronous baseline query) does not delay its samples.
 * Node built-ins only; Linux (`/proc/<pid>/status`) for the sampler.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

/** The project root: `dist/bench/child.js` is two levels below it. */
export const projectRoot = path.resolve(__dirname, '..', '..');

/** A compiled program of `dist/`, e.g. `src/main.js`. */
export const compiled = (relative: string): string => path.join(projectRoot, 'dist', relative);

/** Children still running: killed if the benchmark ends first (an error, Ctrl-C). */
const live = new Set<ChildProcess>();
let reaper = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.on('exit', () => live.delete(child));
  if (reaper) return;
  reaper = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const c of live) c.kill('SIGKILL');
      process.exit(130);
    });
  }
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Its stderr so far (the log goes to stdout). */
  stderr(): string;
  /** The mode graphql-js runs in, as the server's "serving" log line says (`production`, `development`), or null if it does not say. */
  graphqlJs: string | null;
  /** SIGTERM, then SIGKILL after 10 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts `dist/src/main.js` (as `npm start` does after the build) with only PATH, PORT=0 and `env`
 * in its environment, and resolves once it logs "tiered-sla is serving" (LOG_LEVEL must be info or
 * lower for that line; later log lines are read and dropped).
 */
export function startServerProcess(env: Record<string, string>, nodeArgs: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, compiled('src/main.js')], { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stderr = '';
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    let serving = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (serving) return;
      buffer += chunk.toString();
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const parsed = JSON.parse(line) as { msg?: string; url?: string; graphqlJs?: string };
        if (parsed.msg === 'tiered-sla is serving' && parsed.url) {
          serving = true;
          buffer = '';
          resolve({
            child,
            pid: child.pid as number,
            url: parsed.url.replace(/\/graphql$/, ''),
            stderr: () => stderr,
            graphqlJs: parsed.graphqlJs ?? null,
            async stop() {
              if (exited) return;
              child.kill('SIGTERM');
              const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
              await exit;
              clearTimeout(timer);
            },
          });
        }
      }
    });
    child.on('exit', (code, signal) => {
      if (!serving) reject(new Error(`the server exited (${code ?? signal}) before serving: ${stderr.slice(-2000)}`));
    });
  });
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a compiled CLI (`relative` under dist/) to its end with `env` added to PATH; times it. */
export function runCli(relative: string, args: string[], env: Record<string, string>, options: { inheritStderr?: boolean } = {}): Promise<CliRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [compiled(relative), ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', options.inheritStderr ? 'inherit' : 'pipe'],
  });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr, seconds: (performance.now() - t0) / 1000 }));
  });
}

export interface RssReport {
  /** Bytes. */
  first: number;
  peak: number;
  mean: number;
  samples: number;
}

// The sampler's own code: a worker evaluated from a string, so it needs no file of its own.
const SAMPLER = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const file = '/proc/' + workerData.pid + '/status';
let first = 0, peak = 0, sum = 0, samples = 0;
const read = () => {
  try {
    const m = /VmRSS:\\s+(\\d+) kB/.exec(fs.readFileSync(file, 'utf8'));
    if (!m) return;
    const rss = Number(m[1]) * 1024;
    if (!samples) first = rss;
    peak = Math.max(peak, rss); sum += rss; samples++;
  } catch { /* the process has exited */ }
};
read();
const timer = setInterval(read, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); read(); parentPort.postMessage({ first, peak, mean: samples ? sum / samples : 0, samples }); });
`;

/**
 * Samples the resident set of process `pid` every `intervalMs` (from /proc, in a worker thread)
 * until `stop()`, which resolves to the first, peak and mean RSS.
 */
export function sampleProcessRss(pid: number, intervalMs = 50): { stop(): Promise<RssReport> } {
  if (!fs.existsSync(`/proc/${pid}/status`)) throw new Error(`cannot sample the RSS of process ${pid}: /proc/${pid}/status is missing (Linux only)`);
  const worker = new Worker(SAMPLER, { eval: true, workerData: { pid, intervalMs } });
  return {
    stop: () =>
      new Promise((resolve, reject) => {
        worker.once('message', (r: RssReport) => {
          void worker.terminate();
          resolve(r);
        });
        worker.once('error', reject);
        worker.postMessage('stop');
      }),
  };
}

/**
 * Starts the compiled bare Apollo baseline (`dist/bench/bare-apollo.js`) with only PATH and `env`;
 * resolves once it prints its URL. `stop()` sends SIGTERM and waits for the exit.
 */
export function startBareApolloProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [compiled('bench/bare-apollo.js')], { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stderr = '';
  const exit = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      const { url } = JSON.parse(buffer.slice(0, nl)) as { url: string };
      resolve({
        child,
        pid: child.pid as number,
        url: url.replace(/\/$/, ''),
        stderr: () => stderr,
        graphqlJs: null,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exit;
          clearTimeout(timer);
        },
      });
    });
    child.on('exit', (code, signal) => reject(new Error(`bare Apollo exited (${code ?? signal}) before listening: ${stderr.slice(-2000)}`)));
  });
}

/**
 * CPU seconds (user + system) process `pid` has used so far, from /proc/<pid>/stat (Linux; clock
 * ticks of 1/100 s, the kernel's USER_HZ): the difference over a phase is what the phase cost it,
 * whatever else ran on the machine meanwhile.
 */
export function processCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: the fields after it start at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name and state.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
