import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The scoring module is pure (DESIGN.md §4): plain data in, plain data out, no ORM, no GraphQL,
// no clock. This test fences it: its files may import only each other and '../common/month', and
// may not read the clock or randomness.

const SCORING_DIR = path.resolve(__dirname, '../../src/scoring');
const COMMON_MONTH = path.resolve(__dirname, '../../src/common/month');

/** Every module specifier in a source text: import/export … from, bare import, require(), import(). */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\brequire\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) found.push(m[1]);
  // require() or import() of anything but a string literal cannot be checked: refuse it.
  for (const m of source.matchAll(/\b(?:require|import)\s*\(\s*([^'"`\s)][^)]*)\)/g)) found.push(`<dynamic: ${m[1].trim()}>`);
  return found;
}

/** Why `source` (a file in folder `dir` of src/scoring) breaks the fence; empty when it does not. */
function purityProblems(source: string, dir: string): string[] {
  const problems: string[] = [];
  for (const spec of specifiers(source)) {
    const resolved = path.resolve(dir, spec);
    const inside = spec.startsWith('.') && resolved.startsWith(SCORING_DIR + path.sep);
    const month = spec === '../common/month' && resolved === COMMON_MONTH;
    if (!inside && !month) problems.push(`imports ${JSON.stringify(spec)}`);
  }
  const clocks: Array<[RegExp, string]> = [
    [/\bDate\.now\s*\(/, 'reads the clock with Date.now('],
    [/\bnew\s+Date\s*\(\s*\)/, 'reads the clock with new Date()'],
    [/\bnew\s+Date\b(?!\s*\()/, 'reads the clock with new Date'],
    [/\bperformance\.now\s*\(/, 'reads the clock with performance.now('],
    [/\bprocess\.hrtime\b/, 'reads the clock with process.hrtime'],
    [/\bMath\.random\s*\(/, 'is not deterministic (Math.random)'],
  ];
  for (const [re, message] of clocks) if (re.test(source)) problems.push(message);
  return problems;
}

function scoringFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return scoringFiles(full);
    return /\.[cm]?[jt]s$/.test(e.name) ? [full] : [];
  });
}

describe('src/scoring is pure', () => {
  const files = scoringFiles(SCORING_DIR);

  it('has files to check, index.ts among them', () => {
    expect(files.map((f) => path.relative(SCORING_DIR, f))).toContain('index.ts');
    expect(files.length).toBeGreaterThan(1);
  });

  it('imports only its own files and ../common/month, and reads no clock', () => {
    const problems = files.flatMap((f) => purityProblems(fs.readFileSync(f, 'utf8'), path.dirname(f)).map((p) => `${path.relative(SCORING_DIR, f)} ${p}`));
    expect(problems).toEqual([]);
  });

  describe('the checker itself', () => {
    it.each([
      ["import { x } from './numeric';", []],
      ["import type { Month } from '../common/month';", []],
      ["export * from './types';", []],
      ["export { a, b } from './aggregate';", []],
      ["import { DateTime } from 'luxon';", ['imports "luxon"']],
      ["import { Entity } from '@mikro-orm/core';", ['imports "@mikro-orm/core"']],
      ["import { GraphQLError } from 'graphql';", ['imports "graphql"']],
      ["import { x } from '../common/month.ts';", ['imports "../common/month.ts"']],
      ["import { now } from '../common/clock';", ['imports "../common/clock"']],
      ["import { x } from '../scoring/numeric';", []], // relative, and within src/scoring
      ["import { x } from './sub/deeper';", []],
      ["import { x } from '../scoring-extra/x';", ['imports "../scoring-extra/x"']],
      ["import { x } from '../common/errors';", ['imports "../common/errors"']],
      ["import { x } from 'src/scoring/numeric';", ['imports "src/scoring/numeric"']],
      ["import fs from 'node:fs';", ['imports "node:fs"']],
      ["import 'reflect-metadata';", ['imports "reflect-metadata"']],
      ["const fs = require('fs');", ['imports "fs"']],
      ['const m = require(name);', ['imports "<dynamic: name>"']],
      ["const m = await import('pg');", ['imports "pg"']],
      ['const t = Date.now();', ['reads the clock with Date.now(']],
      ['const t = new Date();', ['reads the clock with new Date()']],
      ['const t = new Date;', ['reads the clock with new Date']],
      ['const t = new Date(input.dueAt);', []],
      ['const r = Math.random();', ['is not deterministic (Math.random)']],
    ])('%s → %j', (source, expected) => {
      expect(purityProblems(source as string, SCORING_DIR)).toEqual(expected);
    });
  });
});
