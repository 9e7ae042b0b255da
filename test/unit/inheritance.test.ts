import { describe, expect, it } from 'vitest';
import { type ChainObjective, effectiveObjectives, isLooser, tightenViolations, violationMessage } from '../../src/modules/agreements/inheritance';

const o = (metricCode: string, target: number, inheritance: 'APPLIES' | 'MINIMUM' = 'APPLIES', direction: ChainObjective['direction'] = 'HIGHER_IS_BETTER'): ChainObjective => ({
  metricId: `m-${metricCode}`,
  metricCode,
  direction,
  target,
  inheritance,
});

describe('tier inheritance', () => {
  const corporate = { agreementId: 'corp', agreementKey: 'CORP', objectives: [o('ESC', 8, 'APPLIES', 'LOWER_IS_BETTER'), o('LATE', 0, 'APPLIES', 'LOWER_IS_BETTER'), o('AVAIL', 99.5, 'MINIMUM')] };
  const customer = { agreementId: 'cust', agreementKey: 'IT-SALES', objectives: [o('ESC', 4, 'APPLIES', 'LOWER_IS_BETTER')] };
  const service = { agreementId: 'svc', agreementKey: 'IT-SALES-CRM', objectives: [o('AVAIL', 99.9), o('MTTR', 4, 'APPLIES', 'LOWER_IS_BETTER')] };

  it('takes own objectives, then APPLIES objectives of ancestors; the lower level wins; MINIMUM is never measured', () => {
    const eff = effectiveObjectives([service, customer, corporate]);
    expect(eff.map((e) => [e.objective.metricCode, e.objective.target, e.inheritedFrom])).toEqual([
      ['AVAIL', 99.9, null],
      ['MTTR', 4, null],
      ['ESC', 4, 'cust'],
      ['LATE', 0, 'corp'],
    ]);
    // Without the service level, AVAIL (a MINIMUM) is not measured at all.
    expect(effectiveObjectives([customer, corporate]).map((e) => e.objective.metricCode)).toEqual(['ESC', 'LATE']);
  });

  it('lets a level hide an ancestor metric even with its own MINIMUM', () => {
    const mid = { agreementId: 'mid', agreementKey: 'MID', objectives: [o('LATE', 0, 'MINIMUM', 'LOWER_IS_BETTER')] };
    expect(effectiveObjectives([mid, corporate]).map((e) => e.objective.metricCode)).toEqual(['ESC']);
  });

  it('says looser per direction', () => {
    expect(isLooser('HIGHER_IS_BETTER', 99.0, 99.5)).toBe(true);
    expect(isLooser('HIGHER_IS_BETTER', 99.5, 99.5)).toBe(false);
    expect(isLooser('LOWER_IS_BETTER', 9, 8)).toBe(true);
    expect(isLooser('LOWER_IS_BETTER', 8, 8)).toBe(false);
  });

  it('finds loosening overrides and objectives under a MINIMUM, naming both agreements and the metric', () => {
    expect(tightenViolations(service, [customer, corporate])).toEqual([]);
    const loose = { ...service, objectives: [o('AVAIL', 99.0), o('ESC', 10, 'APPLIES', 'LOWER_IS_BETTER')] };
    const v = tightenViolations(loose, [customer, corporate]);
    expect(v).toEqual([
      { metricCode: 'AVAIL', childKey: 'IT-SALES-CRM', childTarget: 99, parentKey: 'CORP', parentTarget: 99.5 },
      { metricCode: 'ESC', childKey: 'IT-SALES-CRM', childTarget: 10, parentKey: 'IT-SALES', parentTarget: 4 },
      { metricCode: 'ESC', childKey: 'IT-SALES-CRM', childTarget: 10, parentKey: 'CORP', parentTarget: 8 },
    ]);
    expect(violationMessage(v[0])).toBe('IT-SALES-CRM sets AVAIL to 99, looser than 99.5 in CORP; an objective may only tighten what it inherits');
  });
});
