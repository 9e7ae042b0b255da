import { describe, expect, it } from 'vitest';
import { activeInMonth, type AgreementFacts, measuredInMonth, versionAt, type VersionFacts } from '../../src/scoring';

const v1: VersionFacts = { number: 1, effectiveMonth: '2026-01', effectiveFrom: '2026-01', effectiveTo: null };
const v2: VersionFacts = { number: 2, effectiveMonth: '2026-06', effectiveFrom: '2026-01', effectiveTo: '2026-09' };
const active = (over: Partial<AgreementFacts> = {}): AgreementFacts => ({ tier: 'CUSTOMER', activatedAt: new Date('2026-01-05T00:00:00Z'), terminatedAt: null, suspensions: [], ...over });

describe('measured agreement-months (DESIGN §3, the one copy of the rule)', () => {
  it('takes the highest-numbered version that has begun', () => {
    expect(versionAt([v1, v2], '2025-12')).toBeNull();
    expect(versionAt([v2, v1], '2026-05')).toBe(v1);
    expect(versionAt([v1, v2], '2026-06')).toBe(v2);
  });

  it('is ACTIVE from the first month to the last of the terms in force, unless terminated or suspended all month', () => {
    expect(activeInMonth(active(), [v1], '2025-12')).toBe(false); // before the terms
    expect(activeInMonth(active(), [v1], '2026-01')).toBe(true);
    expect(activeInMonth(active(), [v1, v2], '2026-09')).toBe(true);
    expect(activeInMonth(active(), [v1, v2], '2026-10')).toBe(false); // after v2's last month
    expect(activeInMonth(active({ activatedAt: null }), [v1], '2026-03')).toBe(false); // a draft
    const terminated = active({ terminatedAt: new Date('2026-04-10T00:00:00Z') });
    expect(activeInMonth(terminated, [v1], '2026-04')).toBe(true); // the month it ended in counts
    expect(activeInMonth(terminated, [v1], '2026-05')).toBe(false);
    const suspended = active({ suspensions: [{ from: '2026-02-01T00:00:00Z', to: '2026-04-15T00:00:00Z' }] });
    expect(activeInMonth(suspended, [v1], '2026-02')).toBe(false); // the whole month
    expect(activeInMonth(suspended, [v1], '2026-03')).toBe(false);
    expect(activeInMonth(suspended, [v1], '2026-04')).toBe(true); // resumed in the month
    expect(activeInMonth(active({ suspensions: [{ from: '2026-02-01T00:00:00Z', to: null }] }), [v1], '2026-08')).toBe(false); // still suspended
  });

  it('keeps the months before a termination month in scope, and none from it (issue 16)', () => {
    // Decided on 10 March to end from May: March and April are still ACTIVE; May on are not.
    const scheduled = active({ terminatesFrom: '2026-05' });
    expect(['2026-03', '2026-04', '2026-05', '2026-06'].map((m) => activeInMonth(scheduled, [v1], m))).toEqual([true, true, false, false]);
    // Once stored, the termination instant no longer decides: terminatesFrom does.
    const stored = active({ terminatedAt: new Date('2026-03-10T00:00:00Z'), terminatesFrom: '2026-03' });
    expect(['2026-02', '2026-03', '2026-04'].map((m) => activeInMonth(stored, [v1], m))).toEqual([true, false, false]);
    const later = active({ terminatedAt: new Date('2026-05-01T00:05:00Z'), terminatesFrom: '2026-05' });
    expect(['2026-04', '2026-05'].map((m) => activeInMonth(later, [v1], m))).toEqual([true, false]);
  });

  it('measures CUSTOMER and SERVICE agreements without an ACTIVE agreement under them that month', () => {
    const child = { agreement: active({ tier: 'SERVICE', activatedAt: new Date('2026-03-02T00:00:00Z') }), versions: [{ ...v1, effectiveMonth: '2026-03', effectiveFrom: '2026-03' }] };
    expect(measuredInMonth(active(), [v1], [child], '2026-02')).toBe(true); // the child had not begun
    expect(measuredInMonth(active(), [v1], [child], '2026-03')).toBe(false); // a container now
    expect(measuredInMonth(child.agreement, child.versions, [], '2026-03')).toBe(true);
    expect(measuredInMonth(active({ tier: 'CORPORATE' }), [v1], [], '2026-03')).toBe(false);
  });
});
