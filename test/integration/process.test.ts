import { type ChildProcess, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoTokensFile } from '../../seeds/demo-tokens';
import { ensureBuilt, launch, mainScript, root } from '../support/process';

// These tests run the compiled server exactly as `npm start` does (`npm test` builds first).
const main = mainScript;

beforeAll(ensureBuilt, 120_000);

interface Running {
  child: ChildProcess;
  url: string;
  stdout: string[];
  exit: Promise<number | null>;
}

async function startProcess(env: Record<string, string>): Promise<Running> {
  const p = launch(main, env);
  return { child: p.child, url: await p.serving, stdout: p.lines, exit: p.exit.then((e) => e.code) };
}

/** The "tiered-sla is serving" line of a started process. */
function serving(p: Running): { graphqlJs?: string; heapGrowingPercent?: number } {
  return p.stdout.map((l) => JSON.parse(l) as { msg?: string; graphqlJs?: string; heapGrowingPercent?: number }).find((l) => l.msg === 'tiered-sla is serving') ?? {};
}

function demoTokens(sqliteFile: string): Record<string, string> {
  return JSON.parse(fs.readFileSync(demoTokensFile(sqliteFile), 'utf8')) as Record<string, string>;
}

describe('the compiled server process', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsla-proc-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exits non-zero on bad configuration, with one line per bad variable', () => {
    let status: number | null = null;
    let stderr = '';
    try {
      execFileSync(process.execPath, [main], { cwd: root, env: { PATH: process.env.PATH ?? '', PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://db/x' }, stdio: 'pipe' });
    } catch (e) {
      status = (e as { status: number }).status;
      stderr = String((e as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([
      'invalid configuration:',
      'PORT: expected an integer from 0 to 65535, received "abc"',
      'DATABASE_URL: expected sqlite:<path>, file:<path> or postgres://user@host:port/database, received "mysql://db/x"',
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, received "loud"',
    ]);
  });

  it('creates, migrates and seeds a new embedded database, then serves the demo departments', async () => {
    const file = path.join(dir, 'fresh', 'demo.sqlite');
    const p = await startProcess({ DATABASE_URL: `sqlite:${file}` });
    try {
      expect(fs.existsSync(file)).toBe(true);
      expect(p.stdout.some((l) => l.includes('seeded the demo company'))).toBe(true);
      const tokens = demoTokens(file);
      expect(Object.keys(tokens).sort()).toEqual(['ADMIN', 'ANALYST', 'HEAD_CS', 'HEAD_EXEC', 'HEAD_FIN', 'HEAD_HR', 'HEAD_IT', 'HEAD_MKT', 'HEAD_SALES', 'INTEGRATION_CRM']);
      // npm start prints them (embedded demo database only).
      const printed = p.stdout.map((l) => JSON.parse(l) as { tokens?: Record<string, string> }).find((l) => l.tokens);
      expect(printed?.tokens).toEqual(tokens);
      // graphql-js runs in production mode, while NODE_ENV (unset: development) keeps its own
      // meaning: the demo tokens above are never made in production (src/common/graphql-mode.ts).
      expect(serving(p).graphqlJs).toBe('production');
      // The heap's growth between full collections is bounded by default (HEAP_GROWING_PERCENT, issue 19 goal 4).
      expect(serving(p).heapGrowingPercent).toBe(50);
      const r = await fetch(`${p.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.ANALYST}` },
        body: JSON.stringify({ query: '{ departments(first: 10) { edges { node { code name } } } }' }),
      });
      const body = (await r.json()) as { data: { departments: { edges: Array<{ node: { code: string } }> } } };
      expect(body.data.departments.edges.map((e) => e.node.code)).toEqual(['CS', 'EXEC', 'FIN', 'HR', 'IT', 'MKT', 'SALES']);
    } finally {
      p.child.kill('SIGTERM');
      expect(await p.exit).toBe(0);
    }
    // A second start finds the data and does not seed again; a developer asked for graphql-js's checks.
    const again = await startProcess({ DATABASE_URL: `sqlite:${file}`, GRAPHQL_DEV_CHECKS: 'true', HEAP_GROWING_PERCENT: '0' });
    expect(serving(again).graphqlJs).toBe('development');
    expect(serving(again).heapGrowingPercent).toBe(0);
    expect(again.stdout.some((l) => l.includes('seeded the demo company'))).toBe(false);
    expect(again.stdout.some((l) => l.includes('demo tokens'))).toBe(true);
    again.child.kill('SIGINT');
    expect(await again.exit).toBe(0);
  });

  it('with NODE_ENV=production seeds the catalogs but creates and prints no demo token', async () => {
    const file = path.join(dir, 'prod.sqlite');
    const p = await startProcess({ DATABASE_URL: `sqlite:${file}`, NODE_ENV: 'production' });
    try {
      expect(p.stdout.some((l) => l.includes('seeded the demo company'))).toBe(true);
      expect(p.stdout.some((l) => l.includes('tsla_'))).toBe(false);
      expect(fs.existsSync(demoTokensFile(file))).toBe(false);
      const r = await fetch(`${p.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ departments(first: 1) { totalCount } }"}' });
      expect(r.status).toBe(401);
    } finally {
      p.child.kill('SIGTERM');
      expect(await p.exit).toBe(0);
    }
  });

  it('on SIGTERM answers every in-flight request, refuses new connections, then exits 0', async () => {
    const file = path.join(dir, 'term.sqlite');
    const p = await startProcess({ DATABASE_URL: `sqlite:${file}` });
    const token = demoTokens(file).ADMIN;
    const body = JSON.stringify({ query: '{ departments(first: 3) { totalCount edges { node { code } } } }' });
    // Five requests whose bodies are only half sent when the signal arrives: in flight.
    const inFlight = Array.from({ length: 5 }, () => {
      let send!: () => void;
      const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` };
        const req = http.request(`${p.url}/graphql`, { method: 'POST', headers }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.write(body.slice(0, 20));
        send = () => req.end(body.slice(20));
      });
      return { response, send: () => send() };
    });
    await new Promise((r) => setTimeout(r, 200));
    p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    // The listener is closed: a new connection is refused while the old ones finish.
    await expect(fetch(`${p.url}/healthz`)).rejects.toThrow();
    for (const f of inFlight) f.send();
    const answers = await Promise.all(inFlight.map((f) => f.response));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(JSON.parse(a.text).data.departments.totalCount).toBe(7);
    }
    expect(await p.exit).toBe(0);
    expect(p.stdout.some((l) => l.includes('shutting down'))).toBe(true);
    expect(p.stdout.some((l) => JSON.parse(l).msg === 'stopped')).toBe(true);
  });
});
