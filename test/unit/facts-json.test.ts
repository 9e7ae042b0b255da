/** The facts plan's leaf writer (src/http/facts-execution.ts) writes what JSON.stringify writes. */
import { describe, expect, it } from 'vitest';
import { leafJson } from '../../src/http/facts-execution';

describe('leafJson', () => {
  it('writes every serialised leaf as JSON.stringify does, escapes included', () => {
    const values = [
      '',
      'MKT-SALES',
      'a "quoted" b',
      'back\\slash',
      'line\nbreak',
      '\u0000\u001f',
      '\u007f\u2028é',
      '😀',
      '\ud800 lone',
      'x\udfff',
      0,
      -0,
      1.5,
      1e21,
      -3e-7,
      99.5,
      Number.NaN,
      Infinity,
      true,
      false,
      null,
      { a: [1, 'b'] },
    ];
    for (const v of values) expect(leafJson(v)).toBe(JSON.stringify(v));
  });
});
