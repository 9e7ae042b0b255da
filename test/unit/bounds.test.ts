import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { assertAsOf, breathe, instantProblem, mapBreathing, textProblem } from '../../src/common/bounds';
import { foldForSearch } from '../../src/common/codes';
import { apiMonthProblem } from '../../src/common/month';
import { inputProblem } from '../../src/http/query-limits';
import { capText, loggableError } from '../../src/common/logging';

/** Busy-waits `ms` milliseconds: synchronous work, as scoring thousands of months is. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('bounded work (issue 12)', () => {
  it('gives the event loop back during long loops, and stops abandoned work', async () => {
    // A ticker that can only run when the loop yields: 200 items of 1 ms of synchronous work.
    let ticks = 0;
    let running = true;
    const tick = () => {
      ticks++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const out = await mapBreathing(
      Array.from({ length: 200 }, (_, i) => i),
      (i) => {
        spin(1);
        return i * 2;
      },
    );
    running = false;
    expect(out).toEqual(Array.from({ length: 200 }, (_, i) => i * 2));
    expect(ticks).toBeGreaterThanOrEqual(5); // ≥ 200 ms of work in slices of 15 ms

    // The same work without breathing starves the ticker: the test above can fail.
    let starved = 0;
    const starve = () => starved++;
    setImmediate(starve);
    Array.from({ length: 50 }, () => spin(1));
    expect(starved).toBe(0);

    const request = { abandoned: true };
    spin(20);
    await expect(breathe(request)).rejects.toThrow(/abandoned/);
  });

  it('bounds instants, months and asOf', () => {
    expect(instantProblem(new Date('2026-11-26T00:00:00Z'))).toBeNull();
    expect(instantProblem(new Date('2000-01-01T00:00:00Z'))).toBeNull();
    expect(instantProblem(new Date('2100-01-01T00:00:00Z'))).toMatch(/to before 2100-01-01/);
    expect(instantProblem(new Date('1999-12-31T23:59:59Z'))).toMatch(/from 2000-01-01/);
    expect(apiMonthProblem('2099-12')).toBeNull();
    expect(apiMonthProblem('2100-01')).toBe('expected a month from 2000-01 to 2099-12, received "2100-01"');
    expect(apiMonthProblem('1999-12')).toMatch(/from 2000-01/);
    const now = new Date('2026-11-26T12:00:00Z');
    expect(() => assertAsOf('asOf', new Date('2027-11-27T12:00:00Z'), now)).not.toThrow();
    expect(() => assertAsOf('asOf', new Date('2027-11-27T12:00:00.001Z'), now)).toThrow(
      'asOf: expected an instant at most 366 days after now (2027-11-27T12:00:00.000Z), received 2027-11-27T12:00:00.001Z',
    );
  });

  it('finds text a database cannot store', () => {
    expect(textProblem('plain, ünïcödé, 😀')).toBeNull();
    expect(textProblem('a\u0000b')).toMatch(/NUL/);
    expect(textProblem('\ud800')).toMatch(/lone UTF-16 surrogate/);
    expect(textProblem('x\udc00')).toMatch(/lone/);
    expect(textProblem('😀'.slice(0, 1))).toMatch(/lone/);
  });

  it('names the argument path of the first bad value, in literals and variables alike', () => {
    const doc = parse(
      'query($i: CreateDepartmentInput!, $n: [String!]) { a: createDepartment(input: $i) { x } b: departments(filter: { search: "ok", codes: ["A", "B\\u0000"] }) { x } c: f(list: $n) }',
    );
    expect(inputProblem(doc, { i: { code: 'OK', name: 'fine' }, n: [] })).toEqual({ field: 'filter.codes[1]', message: 'contains a NUL character (U+0000), which text cannot hold' });
    const vars = parse('query($i: In!) { createDepartment(input: $i) { x } }');
    expect(inputProblem(vars, { i: { events: [{ externalId: 'ok' }, { externalId: 'bad\ud800' }] } })?.field).toBe('input.events[1].externalId');
    expect(inputProblem(vars, { i: { events: new Array(5001).fill(1) } })).toEqual({ field: 'input.events', message: 'expected at most 5000 items, received 5001' });
    expect(inputProblem(vars, { i: { name: 'x'.repeat(20_001) } })).toEqual({ field: 'input.name', message: 'expected at most 20000 characters, received 20001' });
    expect(inputProblem(vars, { i: { name: 'x'.repeat(20_000), events: new Array(5000).fill({ a: 'b' }) } })).toBeNull();
    expect(inputProblem(vars, { i: { ['k\u0000']: 1 } })?.message).toMatch(/a key contains a NUL/);
  });

  it('folds search text the same way whatever the engine', () => {
    expect(foldForSearch('İzmir')).toBe('izmir');
    expect(foldForSearch('IZMIR')).toBe('izmir');
    expect(foldForSearch('Straße')).toBe('strasse');
    expect(foldForSearch('Ärger Café ﬁle')).toBe('arger cafe file');
  });

  it('caps what is logged of an error: a driver error carries the whole statement', () => {
    const sql = `insert into "handoff_event" values ${'(?, ?, ?), '.repeat(200_000)}`;
    const e = Object.assign(new Error(`${sql} - deadlock detected`), { code: '40P01' });
    const logged = loggableError(e);
    expect(JSON.stringify(logged).length).toBeLessThan(8_000);
    expect(logged.message).toMatch(/… \[\d+ more characters\]$/);
    expect(logged.code).toBe('40P01');
    expect(capText('short')).toBe('short');
  });

  it('never loads part of an entity into a request identity map (a partial entity answered INTERNAL)', () => {
    // `fields: [...]` loads entities with most properties missing; merged into the request's
    // identity map they were later returned to resolvers (`lockVersion` of null for a non-null
    // field). Every partial load must stay out of it.
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (file.endsWith('.ts')) {
          fs.readFileSync(file, 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (/\bfields: \[/.test(line) && !/disableIdentityMap: true/.test(line)) offenders.push(`${file}:${i + 1}`);
            });
        }
      }
    };
    walk(path.resolve('src'));
    expect(offenders).toEqual([]);
  });
});
