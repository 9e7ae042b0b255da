import fs from 'node:fs';
import path from 'node:path';
import type { DemoTokens } from './demo.seeder';

/**
 * Where the demo token secrets of an embedded database are kept: beside the SQLite file
 * (`data/tiered-sla.demo-tokens.json` for the default), readable by the owner only. The database
 * holds only hashes; this file is what lets `npm start` show the demo tokens on every start.
 */
export function demoTokensFile(sqlitePath: string): string {
  const { dir, name } = path.parse(sqlitePath);
  return path.join(dir, `${name}.demo-tokens.json`);
}

/**
 * Writes the token file atomically and durably: a temporary file beside it, flushed to disk, then
 * renamed over it (and the folder flushed, so the rename survives a power cut). A crash leaves the
 * old file or the new one, never a part of one.
 */
export function saveDemoTokens(sqlitePath: string, tokens: DemoTokens): void {
  const file = demoTokensFile(sqlitePath);
  const temp = `${file}.tmp`;
  fs.rmSync(temp, { force: true });
  const fd = fs.openSync(temp, 'wx', 0o600);
  try {
    fs.writeSync(fd, `${JSON.stringify(tokens, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
  syncFolder(path.dirname(file));
}

export function loadDemoTokens(sqlitePath: string): DemoTokens | null {
  try {
    return JSON.parse(fs.readFileSync(demoTokensFile(sqlitePath), 'utf8')) as DemoTokens;
  } catch {
    return null;
  }
}

/** Removes the token file of a database and a temporary one left by a crash while writing it. */
export function removeDemoTokens(sqlitePath: string): void {
  const file = demoTokensFile(sqlitePath);
  for (const f of [file, `${file}.tmp`]) fs.rmSync(f, { force: true });
}

/** Flushes a file's content to disk. */
export function syncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Flushes a folder's entries (a rename or a new file in it) to disk. Best effort: some platforms
 * (Windows) cannot open or flush a folder, and there is nothing more to do there.
 */
export function syncFolder(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fs.fsyncSync(fd);
  } catch {
    // Not supported for folders here.
  } finally {
    fs.closeSync(fd);
  }
}
