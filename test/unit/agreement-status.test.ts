import { describe, expect, it } from 'vitest';
import { type Agreement, AgreementStatus, type AgreementVersion } from '../../src/modules/agreements/agreement.entity';
import { displayStatus } from '../../src/modules/agreements/agreement.rules';

/** An ACTIVE agreement whose only version ends with November 2026, on a calendar in `timeZone`. */
function endingInNovember(timeZone: string): [Agreement, AgreementVersion[]] {
  const version = {
    number: 1,
    effectiveMonth: '2026-01',
    effectiveFrom: '2026-01',
    effectiveTo: '2026-11',
    calendar: { timeZone, workingDays: [1, 2, 3, 4, 5], dayStart: '09:00', dayEnd: '17:00', holidays: [] },
  };
  return [{ state: AgreementStatus.ACTIVE } as Agreement, [version as unknown as AgreementVersion]];
}

describe("the EXPIRED status follows the agreement's time zone, not UTC", () => {
  it('expires when its last month ends where it is measured', () => {
    const [la, laVersions] = endingInNovember('America/Los_Angeles');
    // 30 November, 23:00 in Los Angeles (PST, UTC-8): December in UTC, still November there.
    expect(displayStatus(la, laVersions, new Date('2026-12-01T07:00:00Z'))).toBe(AgreementStatus.ACTIVE);
    expect(displayStatus(la, laVersions, new Date('2026-12-01T08:00:00Z'))).toBe(AgreementStatus.EXPIRED);
    const [berlin, berlinVersions] = endingInNovember('Europe/Berlin');
    // 1 December, 00:30 in Berlin (CET): still November in UTC, over there.
    expect(displayStatus(berlin, berlinVersions, new Date('2026-11-30T22:59:59Z'))).toBe(AgreementStatus.ACTIVE);
    expect(displayStatus(berlin, berlinVersions, new Date('2026-11-30T23:30:00Z'))).toBe(AgreementStatus.EXPIRED);
  });
});

describe('a decided termination shows from its first month (issue 16)', () => {
  it('is ACTIVE until the month begins (UTC, as scoring counts months), TERMINATED from then; a DRAFT is unaffected', () => {
    const [agreement, versions] = endingInNovember('UTC');
    const scheduled = { ...agreement, terminatesFrom: '2026-05' } as Agreement;
    expect(displayStatus(scheduled, versions, new Date('2026-04-30T23:59:59Z'))).toBe(AgreementStatus.ACTIVE);
    expect(displayStatus(scheduled, versions, new Date('2026-05-01T00:00:00Z'))).toBe(AgreementStatus.TERMINATED);
    // TERMINATED wins over EXPIRED once both apply.
    expect(displayStatus(scheduled, versions, new Date('2026-12-15T00:00:00Z'))).toBe(AgreementStatus.TERMINATED);
    expect(displayStatus({ state: AgreementStatus.DRAFT, terminatesFrom: '2026-05' } as Agreement, versions, new Date('2026-06-01T00:00:00Z'))).toBe(AgreementStatus.DRAFT);
  });
});
