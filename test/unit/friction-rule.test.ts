import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frictionReportDelivered } from '../../src/scoring/automated';

const due = new Date('2026-04-02T22:00:00.000Z');
const at = (iso: string) => new Date(iso);

describe('FRICTION_REPORT_DELIVERED (issue 16)', () => {
  it('is 1 for a revision with items by the due instant, whenever measured after it', () => {
    const revisions = [{ submittedAt: at('2026-04-02T22:00:00.000Z'), items: 2 }];
    expect(frictionReportDelivered(revisions, due, at('2026-04-02T22:00:00.000Z'))).toBe(1);
    expect(frictionReportDelivered(revisions, due, at('2026-05-01T00:00:00.000Z'))).toBe(1);
  });

  it('has no value until just after the due instant, then 0 without an on-time revision with items', () => {
    expect(frictionReportDelivered([], due, at('2026-04-02T22:00:00.000Z'))).toBeNull();
    expect(frictionReportDelivered([], due, at('2026-04-02T22:00:00.001Z'))).toBe(0);
    // On time without items, then items a millisecond late: 0.
    const late = [
      { submittedAt: at('2026-04-01T10:00:00.000Z'), items: 0 },
      { submittedAt: at('2026-04-02T22:00:00.001Z'), items: 1 },
    ];
    expect(frictionReportDelivered(late, due, at('2026-04-01T11:00:00.000Z'))).toBeNull();
    expect(frictionReportDelivered(late, due, at('2026-04-03T00:00:00.000Z'))).toBe(0);
  });

  it('does not count a revision submitted after the measuring instant, and a later correction never takes a delivery back', () => {
    const revisions = [
      { submittedAt: at('2026-04-02T10:00:00.000Z'), items: 1 },
      { submittedAt: at('2026-04-02T12:00:00.000Z'), items: 0 },
    ];
    expect(frictionReportDelivered(revisions, due, at('2026-04-02T09:00:00.000Z'))).toBeNull();
    expect(frictionReportDelivered(revisions, due, at('2026-04-02T11:00:00.000Z'))).toBe(1);
    expect(frictionReportDelivered(revisions, due, at('2026-06-01T00:00:00.000Z'))).toBe(1);
  });

  it('is monotone in time: once it has a value, it keeps it at every later instant', () => {
    const instant = fc.integer({ min: due.getTime() - 10 * 86_400_000, max: due.getTime() + 10 * 86_400_000 }).map((t) => new Date(t));
    fc.assert(
      fc.property(fc.array(fc.record({ submittedAt: instant, items: fc.integer({ min: 0, max: 3 }) }), { maxLength: 4 }), instant, instant, (revisions, a, b) => {
        const [early, late] = a.getTime() <= b.getTime() ? [a, b] : [b, a];
        // Only revisions submitted by the earlier instant exist then.
        const then = revisions.filter((r) => r.submittedAt.getTime() <= early.getTime());
        const first = frictionReportDelivered(then, due, early);
        const second = frictionReportDelivered(revisions, due, late);
        if (first !== null) expect(second).toBe(first);
        expect([null, 0, 1]).toContain(second);
      }),
    );
  });
});
