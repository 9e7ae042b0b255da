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

export function saveDemoTokens(sqlitePath: string, tokens: DemoTokens): void {
  fs.writeFileSync(demoTokensFile(sqlitePath), `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
}

export function loadDemoTokens(sqlitePath: string): DemoTokens | null {
  try {
    return JSON.parse(fs.readFileSync(demoTokensFile(sqlitePath), 'utf8')) as DemoTokens;
  } catch {
    return null;
  }
}
