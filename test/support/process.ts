import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/common/paths';

// The compiled programs, exactly as `npm start` and `npm run seed` run them (`npm test` builds first).
export const root = projectRoot();
export const mainScript = path.join(root, 'dist', 'src', 'main.js');

/** Builds `dist/` when a test file is run on its own before any build. */
export function ensureBuilt(): void {
  if (!fs.existsSync(mainScript)) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
}

/** A compiled program started by a test, with its stdout lines as they come. */
export interface Launched {
  child: ChildProcess;
  lines: string[];
  /** Resolves to the base URL once the server serves; rejects if it exits first. */
  serving: Promise<string>;
  /** Whether "tiered-sla is serving" was printed. */
  served: () => boolean;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `script` with only PATH, PORT=0 and `env` in its environment. */
export function launch(script: string, env: Record<string, string>): Launched {
  const child = spawn(process.execPath, [script], { cwd: root, env: { PATH: process.env.PATH ?? '', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let served = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const serving = new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        if (!line.startsWith('{')) continue;
        const parsed = JSON.parse(line) as { msg?: string; url?: string };
        if (parsed.msg === 'tiered-sla is serving' && parsed.url) {
          served = true;
          resolve(parsed.url.replace(/\/graphql$/, ''));
        }
      }
    });
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code, signal) => reject(new Error(`exited (${code ?? signal}) before serving: ${stderr}`)));
  });
  serving.catch(() => undefined);
  return { child, lines, serving, served: () => served, exit };
}
