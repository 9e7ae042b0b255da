import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_SLO_TARGET,
  openSloName,
  toOpenSlo,
  toYaml,
  validateOpenSlo,
  type OpenSloAgreementInput,
  type OpenSloDocument,
  type OpenSloObjectiveInput,
  type OpenSloSli,
  type OpenSloSlo,
} from '../../src/modules/exports/openslo';

// YAML parsers are dev-only, transitive packages here (graphql-codegen, vite): the export itself
// writes YAML by hand. The round-trip tests use them when they are installed and skip otherwise.
const load = createRequire(__filename);
function optional<T>(name: string): T | null {
  try {
    return load(name) as T;
  } catch {
    return null;
  }
}
interface YamlLib {
  parseAllDocuments(text: string): Array<{ errors: unknown[]; warnings: unknown[]; toJS(): unknown }>;
}
interface JsYamlLib {
  loadAll(text: string): unknown[];
}
const YAML = optional<YamlLib>('yaml');
const JSYAML = optional<JsYamlLib>('js-yaml');

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const objective = (o: Partial<OpenSloObjectiveInput> & Pick<OpenSloObjectiveInput, 'metricCode'>): OpenSloObjectiveInput => ({
  objectiveId: `obj-${o.metricCode.toLowerCase()}`,
  metricName: o.metricCode,
  unit: 'HOURS',
  direction: 'LOWER_IS_BETTER',
  source: 'MANUAL',
  target: 4,
  warning: null,
  weight: 1,
  creditPercent: 0,
  inheritedFromKey: null,
  inheritance: 'APPLIES',
  ...o,
});

/** IT-SALES-CRM of the demo data, version 2, with the effective objectives of its chain. */
const CRM: OpenSloAgreementInput = {
  key: 'IT-SALES-CRM',
  title: 'CRM platform for Sales',
  tier: 'SERVICE',
  providerCode: 'IT',
  customerCode: 'SALES',
  serviceCode: 'CRM',
  parentKey: 'IT-SALES',
  versionNumber: 2,
  effectiveMonth: '2026-01',
  complianceTarget: 0.9,
  monthlyCharge: 25000,
  creditCapPercent: 15,
  timeZone: 'Europe/Berlin',
  objectives: [
    objective({
      objectiveId: '5b0c7c1e-0001-4000-8000-000000000001',
      metricCode: 'SYSTEM_AVAILABILITY',
      metricName: 'System availability',
      unit: 'PERCENT',
      direction: 'HIGHER_IS_BETTER',
      target: 99.9,
      warning: 99.95,
      weight: 3,
      creditPercent: 10,
    }),
    objective({
      objectiveId: '5b0c7c1e-0001-4000-8000-000000000002',
      metricCode: 'MTTR',
      metricName: 'Mean time to restore',
      target: 4,
      warning: 3,
      creditPercent: 5,
    }),
    objective({
      objectiveId: '5b0c7c1e-0001-4000-8000-000000000003',
      metricCode: 'ESCALATION_RESPONSE_P90',
      metricName: '90th percentile escalation response time',
      source: 'AUTOMATED',
      target: 4,
      warning: 3,
      inheritedFromKey: 'IT-SALES',
    }),
  ],
  approvedExclusions: [
    { month: '2026-08', metricCode: 'SYSTEM_AVAILABILITY', reasonCode: 'PLANNED_MAINTENANCE' },
    { month: '2026-03', metricCode: 'SYSTEM_AVAILABILITY', reasonCode: 'FORCE_MAJEURE' },
    { month: '2026-05', metricCode: 'HANDOFF_VOLUME', reasonCode: 'OTHER' },
  ],
};

const slos = (docs: OpenSloDocument[]): OpenSloSlo[] => docs.filter((d): d is OpenSloSlo => d.kind === 'SLO');
const slis = (docs: OpenSloDocument[]): OpenSloSli[] => docs.filter((d): d is OpenSloSli => d.kind === 'SLI');
const clone = <T>(v: T): T => structuredClone(v);

const LABELS = { tier: 'service', provider: 'it', customer: 'sales', service: 'crm', agreement: 'it-sales-crm' };
const TERMS = {
  'tiered-sla.example/version': '2',
  'tiered-sla.example/effective-month': '2026-01',
  'tiered-sla.example/compliance-target': '0.9',
  'tiered-sla.example/monthly-charge': '25000',
  'tiered-sla.example/credit-cap-percent': '15',
};

describe('toOpenSlo', () => {
  const docs = toOpenSlo(CRM);

  it('writes one Service, then an SLI and an SLO per objective, with valid, unique names', () => {
    expect(docs.map((d) => [d.apiVersion, d.kind, d.metadata.name])).toEqual([
      ['openslo/v1', 'Service', 'it-sales-crm'],
      ['openslo/v1', 'SLI', 'it-sales-crm-system-availability-sli'],
      ['openslo/v1', 'SLO', 'it-sales-crm-system-availability'],
      ['openslo/v1', 'SLI', 'it-sales-crm-mttr-sli'],
      ['openslo/v1', 'SLO', 'it-sales-crm-mttr'],
      ['openslo/v1', 'SLI', 'it-sales-crm-escalation-response-p90-sli'],
      ['openslo/v1', 'SLO', 'it-sales-crm-escalation-response-p90'],
    ]);
    const names = docs.map((d) => d.metadata.name);
    for (const n of names) expect(n).toMatch(DNS_LABEL);
    expect(new Set(names).size).toBe(names.length);
    expect(validateOpenSlo(docs)).toEqual([]);
  });

  it('describes the agreement in the Service: parties as labels, terms and parent as annotations', () => {
    expect(docs[0]).toEqual({
      apiVersion: 'openslo/v1',
      kind: 'Service',
      metadata: {
        name: 'it-sales-crm',
        displayName: 'CRM platform for Sales',
        labels: LABELS,
        annotations: { 'tiered-sla.example/agreement-key': 'IT-SALES-CRM', ...TERMS, 'tiered-sla.example/parent': 'IT-SALES' },
      },
      spec: { description: 'CRM platform for Sales. Service agreement IT-SALES-CRM, version 2 from 2026-01; provider IT, customer SALES, service CRM; under IT-SALES.' },
    });
  });

  it('reads each metric as a threshold metric of source type tiered-sla', () => {
    expect(slis(docs).map((s) => s.spec.thresholdMetric)).toEqual([
      { metricSource: { type: 'tiered-sla', spec: { metric: 'SYSTEM_AVAILABILITY', source: 'MANUAL', unit: 'PERCENT' } } },
      { metricSource: { type: 'tiered-sla', spec: { metric: 'MTTR', source: 'MANUAL', unit: 'HOURS' } } },
      { metricSource: { type: 'tiered-sla', spec: { metric: 'ESCALATION_RESPONSE_P90', source: 'AUTOMATED', unit: 'HOURS' } } },
    ]);
    expect(slis(docs)[0].metadata).toEqual({
      name: 'it-sales-crm-system-availability-sli',
      displayName: 'System availability',
      labels: { ...LABELS, metric: 'system_availability' },
      annotations: { 'tiered-sla.example/direction': 'HIGHER_IS_BETTER' },
    });
    expect(slis(docs)[1].spec.description).toBe('Monthly reported value of Mean time to restore (MTTR), in hours, for agreement IT-SALES-CRM.');
    expect(slis(docs)[2].spec.description).toBe('Monthly measured value of 90th percentile escalation response time (ESCALATION_RESPONSE_P90), in hours, for agreement IT-SALES-CRM.');
  });

  it('maps direction to gte/lte, the target to value, the compliance target to target, over calendar months', () => {
    const [avail, mttr, esc] = slos(docs);
    expect(avail.spec).toEqual({
      description: 'System availability at least 99.9 percent in each calendar month, agreement IT-SALES-CRM.',
      service: 'it-sales-crm',
      indicatorRef: 'it-sales-crm-system-availability-sli',
      timeWindow: [{ duration: '1M', isRolling: false, calendar: { startTime: '2026-01-01 00:00:00', timeZone: 'Europe/Berlin' } }],
      budgetingMethod: 'Timeslices',
      objectives: [{ displayName: 'System availability >= 99.9 percent', op: 'gte', value: 99.9, target: 0.9, timeSliceTarget: 1, timeSliceWindow: '1M' }],
    });
    expect(mttr.spec.objectives).toEqual([{ displayName: 'Mean time to restore <= 4 hours', op: 'lte', value: 4, target: 0.9, timeSliceTarget: 1, timeSliceWindow: '1M' }]);
    expect(esc.spec.objectives.map((o) => [o.op, o.value, o.target])).toEqual([['lte', 4, 0.9]]);
    expect(esc.spec.description).toBe('90th percentile escalation response time at most 4 hours in each calendar month, agreement IT-SALES-CRM, inherited from IT-SALES.');
    for (const s of slos(docs)) {
      expect(s.spec.service).toBe(docs[0].metadata.name);
      expect(slis(docs).map((x) => x.metadata.name)).toContain(s.spec.indicatorRef);
    }
  });

  it('puts credits, weight, warning, inheritance and the metric’s approved exclusions in annotations', () => {
    const [avail, mttr, esc] = slos(docs);
    expect(avail.metadata.labels).toEqual({ ...LABELS, metric: 'system_availability' });
    expect(avail.metadata.annotations).toEqual({
      'tiered-sla.example/objective-id': '5b0c7c1e-0001-4000-8000-000000000001',
      'tiered-sla.example/direction': 'HIGHER_IS_BETTER',
      'tiered-sla.example/weight': '3',
      'tiered-sla.example/warning': '99.95',
      'tiered-sla.example/credit-percent': '10',
      'tiered-sla.example/inheritance': 'APPLIES',
      ...TERMS,
      // Only this metric's exclusions, by month.
      'tiered-sla.example/exclusions': '[{"month":"2026-03","reasonCode":"FORCE_MAJEURE"},{"month":"2026-08","reasonCode":"PLANNED_MAINTENANCE"}]',
    });
    expect(mttr.metadata.annotations?.['tiered-sla.example/exclusions']).toBe('[]');
    expect(mttr.metadata.annotations?.['tiered-sla.example/credit-percent']).toBe('5');
    expect(mttr.metadata.annotations?.['tiered-sla.example/weight']).toBe('1');
    expect(mttr.metadata.annotations).not.toHaveProperty('tiered-sla.example/inherited-from');
    expect(esc.metadata.annotations).toMatchObject({
      'tiered-sla.example/inheritance': 'APPLIES',
      'tiered-sla.example/inherited-from': 'IT-SALES',
      'tiered-sla.example/credit-percent': '0',
      'tiered-sla.example/direction': 'LOWER_IS_BETTER',
    });
    expect(JSON.parse(avail.metadata.annotations?.['tiered-sla.example/exclusions'] ?? '')).toEqual([
      { month: '2026-03', reasonCode: 'FORCE_MAJEURE' },
      { month: '2026-08', reasonCode: 'PLANNED_MAINTENANCE' },
    ]);
  });

  it('leaves out the labels of missing parties and the annotations of missing values', () => {
    const charter: OpenSloAgreementInput = {
      ...CRM,
      key: 'CHARTER',
      title: 'Corporate service charter',
      tier: 'CORPORATE',
      providerCode: null,
      customerCode: null,
      serviceCode: null,
      parentKey: null,
      versionNumber: 1,
      timeZone: 'UTC',
      objectives: [
        objective({ metricCode: 'REPORT_DAYS_LATE', unit: 'DAYS', target: 0 }),
        objective({ metricCode: 'SYSTEM_AVAILABILITY', unit: 'PERCENT', direction: 'HIGHER_IS_BETTER', target: 99.5, inheritance: 'MINIMUM' }),
      ],
      approvedExclusions: [],
    };
    const out = toOpenSlo(charter);
    expect(validateOpenSlo(out)).toEqual([]);
    expect(out[0].metadata.labels).toEqual({ tier: 'corporate', agreement: 'charter' });
    expect(out[0].metadata.annotations).not.toHaveProperty('tiered-sla.example/parent');
    expect(out[0].spec).toEqual({ description: 'Corporate service charter. Corporate agreement CHARTER, version 1 from 2026-01.' });
    const [late, floor] = slos(out);
    expect(late.spec.objectives[0]).toMatchObject({ op: 'lte', value: 0 });
    expect(late.metadata.annotations).not.toHaveProperty('tiered-sla.example/warning');
    expect(floor.metadata.annotations?.['tiered-sla.example/inheritance']).toBe('MINIMUM');
    expect(floor.spec.description).toBe('SYSTEM_AVAILABILITY at least 99.5 percent in each calendar month, agreement CHARTER; a MINIMUM: a floor for the agreements below, not measured on this one.');
  });

  it('keeps the SLO target inside [0, 1) and the exact compliance target in an annotation', () => {
    const all = slos(toOpenSlo({ ...CRM, complianceTarget: 1 }));
    expect(all.map((s) => s.spec.objectives[0].target)).toEqual([MAX_SLO_TARGET, MAX_SLO_TARGET, MAX_SLO_TARGET]);
    expect(all[0].metadata.annotations?.['tiered-sla.example/compliance-target']).toBe('1');
    expect(slos(toOpenSlo({ ...CRM, complianceTarget: 0 }))[0].spec.objectives[0].target).toBe(0);
    expect(validateOpenSlo(toOpenSlo({ ...CRM, complianceTarget: 1 }))).toEqual([]);
  });

  it('fits long keys, titles and codes into the spec’s limits', () => {
    const long: OpenSloAgreementInput = {
      ...CRM,
      key: 'FINANCE-AND-CONTROLLING-SHARED-SERVICES-FOR-EUROPE-MIDDLE-EAST-AND-AFRICA',
      title: 'Finance and controlling shared services for Europe, the Middle East and Africa, second edition',
      providerCode: 'FINANCE_AND_CONTROLLING_SHARED_SERVICES_',
      objectives: [objective({ metricCode: 'ESCALATION_RESPONSE_P90_IN_WORKING_HOURS_AFTER_TICKET_CREATION', metricName: 'x'.repeat(80) })],
      approvedExclusions: [],
    };
    const out = toOpenSlo(long);
    expect(validateOpenSlo(out)).toEqual([]);
    for (const d of out) {
      expect(d.metadata.name.length).toBeLessThanOrEqual(63);
      expect(d.metadata.displayName?.length).toBeLessThanOrEqual(63);
    }
    expect(out[0].metadata.displayName).toBe('Finance and controlling shared services for Europe, the Midd...');
    expect(out[0].metadata.labels?.provider).toBe('finance_and_controlling_shared_services');
    expect(out[0].metadata.labels?.agreement).toMatch(/^finance-and-controlling-shared-services-for-europe-mid-[0-9a-f]{8}$/);
    expect(new Set(out.map((d) => d.metadata.name)).size).toBe(3);
  });

  it('refuses input no agreement can have', () => {
    expect(() => toOpenSlo({ ...CRM, effectiveMonth: '2026-13' })).toThrow(/IT-SALES-CRM: effectiveMonth: expected a month number from 01 to 12/);
    expect(() => toOpenSlo({ ...CRM, complianceTarget: 1.5 })).toThrow('IT-SALES-CRM: complianceTarget: expected a number from 0 to 1, received 1.5');
    expect(() => toOpenSlo({ ...CRM, objectives: [CRM.objectives[1], { ...CRM.objectives[1], objectiveId: 'other' }] })).toThrow(
      'IT-SALES-CRM: objectives[1].metricCode: expected one objective per metric, received MTTR twice',
    );
    expect(() => toOpenSlo({ ...CRM, objectives: [{ ...CRM.objectives[0], target: Number.NaN }] })).toThrow(RangeError);
  });
});

describe('validateOpenSlo', () => {
  const good = toOpenSlo(CRM);
  /** The problems after `edit` changes a copy of the good documents. */
  const problems = (edit: (docs: OpenSloDocument[]) => void): string[] => {
    const docs = clone(good);
    edit(docs);
    return validateOpenSlo(docs);
  };
  const slo = (docs: OpenSloDocument[], i = 0): OpenSloSlo => slos(docs)[i];

  it('names a bad name', () => {
    expect(problems((d) => (d[1].metadata.name = 'IT_Sales-'))).toEqual([
      `SLI "IT_Sales-" (document 1): metadata.name: expected an RFC 1123 name (at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit), received "IT_Sales-"`,
      // The SLO referring to the old name now dangles.
      'SLO "it-sales-crm-system-availability" (document 2): spec.indicatorRef: expected the name of an SLI among the documents, received "it-sales-crm-system-availability-sli", which names none',
    ]);
    expect(problems((d) => (d[0].metadata.name = 'a'.repeat(64)))[0]).toContain(`metadata.name: expected an RFC 1123 name`);
  });

  it('names a bad operator', () => {
    expect(problems((d) => ((slo(d).spec.objectives[0] as { op: string }).op = 'ge'))).toEqual([
      'SLO "it-sales-crm-system-availability" (document 2): spec.objectives[0].op: expected one of lt, lte, gt, gte, received "ge"',
    ]);
    expect(problems((d) => delete slo(d).spec.objectives[0].op)).toEqual([
      'SLO "it-sales-crm-system-availability" (document 2): spec.objectives[0].op: expected one of lt, lte, gt, gte, received nothing',
    ]);
  });

  it('names a target outside [0, 1)', () => {
    expect(problems((d) => (slo(d, 1).spec.objectives[0].target = 1.5))).toEqual([
      'SLO "it-sales-crm-mttr" (document 4): spec.objectives[0].target: expected a number in [0, 1), received 1.5',
    ]);
    expect(problems((d) => (slo(d, 1).spec.objectives[0].target = 1))).toHaveLength(1);
    expect(problems((d) => (slo(d, 1).spec.objectives[0].target = -0.1))).toHaveLength(1);
    expect(
      problems((d) => {
        delete slo(d).spec.objectives[0].target;
        slo(d).spec.objectives[0].targetPercent = 90;
      }),
    ).toEqual([]);
    expect(problems((d) => (slo(d).spec.objectives[0].targetPercent = 90))).toEqual([
      'SLO "it-sales-crm-system-availability" (document 2): spec.objectives[0]: expected exactly one of target or targetPercent, received both',
    ]);
  });

  it('names a dangling indicatorRef or service', () => {
    expect(problems((d) => (slo(d, 2).spec.indicatorRef = 'it-sales-crm-escalation-sli'))).toEqual([
      'SLO "it-sales-crm-escalation-response-p90" (document 6): spec.indicatorRef: expected the name of an SLI among the documents, received "it-sales-crm-escalation-sli", which names none',
    ]);
    // A Service's name is not an SLI's.
    expect(problems((d) => (slo(d).spec.indicatorRef = 'it-sales-crm'))).toHaveLength(1);
    expect(problems((d) => d.splice(0, 1))).toEqual([
      'SLO "it-sales-crm-system-availability" (document 1): spec.service: expected the name of a Service among the documents, received "it-sales-crm", which names none',
      'SLO "it-sales-crm-mttr" (document 3): spec.service: expected the name of a Service among the documents, received "it-sales-crm", which names none',
      'SLO "it-sales-crm-escalation-response-p90" (document 5): spec.service: expected the name of a Service among the documents, received "it-sales-crm", which names none',
    ]);
  });

  it('names a label value that is too long or not label-safe, and a bad label or annotation key', () => {
    expect(problems((d) => ((d[0].metadata.labels as Record<string, string>).customer = 's'.repeat(64)))).toEqual([
      `Service "it-sales-crm" (document 0): metadata.labels.customer: expected a label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit), received "${'s'.repeat(64)}"`,
    ]);
    expect(problems((d) => ((d[0].metadata.labels as Record<string, string>).customer = 'Sales & Marketing'))).toHaveLength(1);
    expect(problems((d) => ((d[0].metadata.labels as Record<string, string[]>).tags = ['crm', 'sales-']))).toEqual([
      `Service "it-sales-crm" (document 0): metadata.labels.tags[1]: expected a label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit), received "sales-"`,
    ]);
    expect(problems((d) => ((d[0].metadata.labels as Record<string, string>)['-tier'] = 'x'))[0]).toContain('metadata.labels: key "-tier"');
    expect(problems((d) => ((d[0].metadata.annotations as Record<string, string>)['Tiered_SLA/x'] = 'y'))[0]).toContain('metadata.annotations: key "Tiered_SLA/x"');
    expect(problems((d) => ((d[0].metadata.annotations as Record<string, unknown>)['tiered-sla.example/version'] = 2))).toEqual([
      'Service "it-sales-crm" (document 0): metadata.annotations.tiered-sla.example/version: expected a string, received 2',
    ]);
  });

  it('names duplicate names within a kind, once', () => {
    expect(problems((d) => d.push(clone(d[4])))).toEqual([
      'SLO "it-sales-crm-mttr" (document 4): metadata.name: expected a name unique among the SLO documents, received "it-sales-crm-mttr" 2 times',
    ]);
    // The same name in two kinds is no conflict: references say which kind they mean.
    expect(
      problems((d) => {
        d[0].metadata.name = 'it-sales-crm-mttr';
        for (const s of slos(d)) s.spec.service = 'it-sales-crm-mttr';
      }),
    ).toEqual([]);
  });

  it('names wrong versions, kinds and windows, and missing time-slice fields', () => {
    expect(problems((d) => ((d[0] as { apiVersion: string }).apiVersion = 'openslo/v1alpha'))).toEqual([
      'Service "it-sales-crm" (document 0): apiVersion: expected "openslo/v1", received "openslo/v1alpha"',
    ]);
    expect(problems((d) => ((d[0] as { kind: string }).kind = 'Agreement'))[0]).toBe(
      'Agreement "it-sales-crm" (document 0): kind: expected one of Service, SLI, SLO, received "Agreement"',
    );
    expect(problems((d) => (slo(d).spec.timeWindow = [...(slo(d).spec.timeWindow ?? []), { duration: '1Q', isRolling: true }]))).toEqual([
      'SLO "it-sales-crm-system-availability" (document 2): spec.timeWindow: expected a list of exactly one time window, received 2',
    ]);
    expect(
      problems((d) => {
        const w = slo(d).spec.timeWindow?.[0];
        if (w?.calendar) w.calendar = { startTime: '2026-02-30T00:00:00', timeZone: 'Europe/Atlantis' };
        if (w) w.duration = '0M';
      }),
    ).toEqual([
      'SLO "it-sales-crm-system-availability" (document 2): spec.timeWindow[0].duration: expected a duration shorthand (a positive whole number and one of m h d w M Q Y, e.g. "1M"), received "0M"',
      'SLO "it-sales-crm-system-availability" (document 2): spec.timeWindow[0].calendar.startTime: expected a date and 24 h time without zone, "YYYY-MM-DD HH:MM:SS", received "2026-02-30T00:00:00"',
      'SLO "it-sales-crm-system-availability" (document 2): spec.timeWindow[0].calendar.timeZone: expected an IANA time zone name, received "Europe/Atlantis"',
    ]);
    expect(problems((d) => delete slo(d).spec.objectives[0].timeSliceTarget)).toEqual([
      'SLO "it-sales-crm-system-availability" (document 2): spec.objectives[0].timeSliceTarget: expected a number in (0, 1] with Timeslices budgeting, received nothing',
    ]);
    expect(problems((d) => ((slo(d).spec as { budgetingMethod: string }).budgetingMethod = 'TimeSlices'))).toContain(
      'SLO "it-sales-crm-system-availability" (document 2): spec.budgetingMethod: expected one of Occurrences, Timeslices, RatioTimeslices, received "TimeSlices"',
    );
    expect(problems((d) => slo(d).spec.objectives.push({ ...slo(d).spec.objectives[0] }))).toEqual([
      'SLO "it-sales-crm-system-availability" (document 2): spec.objectives: expected one objective with a threshold metric, received 2',
    ]);
  });

  it('accepts an inline indicator and checks it like an SLI', () => {
    const inline = (d: OpenSloDocument[]): void => {
      const s = slo(d);
      const sli = slis(d)[0];
      delete s.spec.indicatorRef;
      s.spec.indicator = { metadata: { name: 'inline-availability' }, spec: clone(sli.spec) };
    };
    expect(problems(inline)).toEqual([]);
    expect(
      problems((d) => {
        inline(d);
        delete slo(d).spec.indicator?.spec.thresholdMetric?.metricSource.type;
      }),
    ).toEqual([
      'SLO "it-sales-crm-system-availability" (document 2): spec.indicator.spec.thresholdMetric.metricSource.type: expected a type when there is no metricSourceRef, received nothing',
    ]);
  });

  it('checks what it is given, whatever its shape', () => {
    expect(validateOpenSlo([null, 'x', { apiVersion: 'openslo/v1', kind: 'SLO', metadata: { name: 'x' } }] as unknown as OpenSloDocument[])).toEqual([
      'document 0: expected an object, received null',
      'document 1: expected an object, received "x"',
      'SLO "x" (document 2): spec: expected an object, received nothing',
    ]);
  });
});

describe('openSloName', () => {
  it('normalises to an RFC 1123 name', () => {
    expect(openSloName('IT-SALES-CRM', 'SYSTEM_AVAILABILITY')).toBe('it-sales-crm-system-availability');
    expect(openSloName('--Ärger__im  Büro--', '', 'P90!')).toBe('rger-im-b-ro-p90');
    expect(openSloName('42')).toBe('42');
    expect(() => openSloName('--', '')).toThrow(RangeError);
  });

  it('truncates to 63 characters with a stable hash of the whole name', () => {
    const parts = ['FINANCE-AND-CONTROLLING-SHARED-SERVICES-EMEA', 'ESCALATION_RESPONSE_P90', 'sli'];
    const full = 'finance-and-controlling-shared-services-emea-escalation-response-p90-sli';
    const name = openSloName(...parts);
    expect(name).toBe(`finance-and-controlling-shared-services-emea-escalatio-${createHash('sha256').update(full).digest('hex').slice(0, 8)}`);
    expect(name).toBe('finance-and-controlling-shared-services-emea-escalatio-5b396280');
    expect(name).toHaveLength(63);
    expect(openSloName(...parts)).toBe(name);
    // Names that differ only past the cut still differ.
    expect(openSloName(...parts.slice(0, 2))).not.toBe(name);
    expect(openSloName(...parts.slice(0, 2))).toMatch(/^finance-and-controlling-shared-services-emea-escalatio-[0-9a-f]{8}$/);
    // A cut that lands on '-' does not leave '--'.
    expect(openSloName('a'.repeat(53), 'b'.repeat(20))).toBe(`${'a'.repeat(53)}-${createHash('sha256').update(`${'a'.repeat(53)}-${'b'.repeat(20)}`).digest('hex').slice(0, 8)}`);
    expect(openSloName('a'.repeat(63))).toBe('a'.repeat(63));
  });

  it('always gives a valid name (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 80 }), { minLength: 1, maxLength: 4 }), (parts) => {
        fc.pre(/[a-z0-9]/i.test(parts.join('')));
        const name = openSloName(...parts);
        expect(name).toMatch(DNS_LABEL);
        expect(openSloName(...parts)).toBe(name);
      }),
    );
  });
});

describe('toYaml', () => {
  const docs = toOpenSlo(CRM);
  const text = toYaml(docs);

  it('writes one document per object, each starting with apiVersion, separated by ---', () => {
    const parts = text.split(/^---\n/m);
    expect(parts).toHaveLength(docs.length);
    for (const p of parts) expect(p.startsWith('apiVersion: openslo/v1\n')).toBe(true);
    expect(text.endsWith('\n')).toBe(true);
    expect(toYaml([])).toBe('');
    // Strings that look like numbers, months or durations stay strings.
    expect(text).toContain('tiered-sla.example/version: "2"\n');
    expect(text).toContain('tiered-sla.example/effective-month: "2026-01"\n');
    expect(text).toContain('    - duration: "1M"\n      isRolling: false\n');
    expect(text).toContain('      op: gte\n      value: 99.9\n      target: 0.9\n');
  });

  it.skipIf(!YAML)('parses back to the same documents with the yaml package', () => {
    const parsed = YAML!.parseAllDocuments(text);
    expect(parsed.flatMap((d) => [...d.errors, ...d.warnings])).toEqual([]);
    expect(parsed.map((d) => d.toJS())).toEqual(docs);
  });

  it.skipIf(!JSYAML)('parses back to the same documents with js-yaml', () => {
    expect(JSYAML!.loadAll(text)).toEqual(docs);
  });

  it.skipIf(!YAML || !JSYAML)('round-trips any text in names, labels and annotations (property)', () => {
    const reserved = ['yes', 'No', 'true', 'null', '~', '', ' x', 'x ', '- x', 'a: b', '#c', '1e3', '0x1F', '.inf', '2026-01-01', '"q"', "'q'", '\\', '\t\n\r', '\u0085\u2028\ufeff\u0000\u007f', '😀', '\ud800'];
    const text = fc.oneof(fc.constantFrom(...reserved), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 40 }));
    fc.assert(
      fc.property(text, text, text, (a, b, c) => {
        const doc = clone(docs[0]);
        doc.metadata.displayName = a;
        doc.metadata.annotations = { [a.length ? 'k' : 'e']: b, 'tiered-sla.example/x': c };
        doc.spec.description = `${a}${b}${c}`;
        // A lone surrogate is not text YAML can carry; the parsers replace it.
        fc.pre(!/[\ud800-\udfff]/u.test(`${a}${b}${c}`.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')));
        const out = toYaml([doc]);
        expect(YAML!.parseAllDocuments(out).map((d) => d.toJS())).toEqual([doc]);
        expect(JSYAML!.loadAll(out)).toEqual([doc]);
      }),
    );
  });
});

describe('src/modules/exports/openslo.ts is pure', () => {
  it('imports only node:crypto and ../../common/month', () => {
    const source = fs.readFileSync(path.resolve(__dirname, '../../src/modules/exports/openslo.ts'), 'utf8');
    const imports = [
      ...source.matchAll(/^\s*(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm),
      ...source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
      ...source.matchAll(/\b(?:require|import)\s*\(\s*['"`]?([^'"`)]*)/g),
    ].map((m) => m[1]);
    expect(imports.sort()).toEqual(['../../common/month', 'node:crypto']);
    expect(source).not.toMatch(/\bDate\.now\s*\(|\bnew\s+Date\b|\bMath\.random\s*\(/);
  });
});
