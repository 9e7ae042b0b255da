import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  MAX_SLO_TARGET,
  openSloName,
  toOpenSlo,
  toYaml,
  type OpenSloAgreementInput,
  type OpenSloDocument,
  type OpenSloObjectiveInput,
  type OpenSloSli,
  type OpenSloSlo,
} from '../../src/modules/exports/openslo';
import { openSloSchemaProblems, openSloSetProblems } from '../support/openslo-schema';

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

/** Problems of a set of documents: our OpenSLO v1 schema's, then the cross-document rules'. */
const problems = (docs: readonly unknown[]): string[] => [...openSloSchemaProblems(docs), ...openSloSetProblems(docs)];

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
    expect(problems(docs)).toEqual([]);
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
    // UTC, the default calendar's zone, is an IANA name: no problem.
    expect(problems(out)).toEqual([]);
    expect(problems(toOpenSlo({ ...charter, timeZone: 'Europe/Berlin' }))).toEqual([]);
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
    expect(problems(toOpenSlo({ ...CRM, complianceTarget: 1 }))).toEqual([]);
    expect(problems(toOpenSlo({ ...CRM, complianceTarget: 0 }))).toEqual([]);
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
    expect(problems(out)).toEqual([]);
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

describe('the checks of the tests (our OpenSLO v1 schema, cross-document rules)', () => {
  const good = toOpenSlo(CRM);
  /** The problems after `edit` changes a copy of the good documents. */
  const after = (edit: (docs: OpenSloDocument[]) => void): string[] => {
    const docs = clone(good);
    edit(docs);
    return problems(docs);
  };
  const slo = (docs: OpenSloDocument[], i = 0): OpenSloSlo => slos(docs)[i];
  const sli = (docs: OpenSloDocument[], i = 0): OpenSloSli => slis(docs)[i];
  const service = 'Service "it-sales-crm" (document 0)';
  const availSli = 'SLI "it-sales-crm-system-availability-sli" (document 1)';
  const avail = 'SLO "it-sales-crm-system-availability" (document 2)';
  /** A document or part of one as any parsed YAML could be: the checks must not trust its type. */
  const loose = (v: object): Record<string, unknown> => v as unknown as Record<string, unknown>;
  const window0 = (d: OpenSloDocument[]): Record<string, unknown> => loose((slo(d).spec.timeWindow ?? [])[0]);

  it('pass the export, in any IANA-looking zone, UTC included', () => {
    expect(after(() => undefined)).toEqual([]);
    for (const zone of ['UTC', 'Etc/UTC', 'Etc/GMT+5', 'America/Argentina/Buenos_Aires', 'America/Port-au-Prince', 'EST5EDT']) {
      expect(problems(toOpenSlo({ ...CRM, timeZone: zone }))).toEqual([]);
    }
    for (const zone of ['Europe Berlin', '+01:00', 'Europe/', '/UTC', '']) {
      expect(after((d) => (window0(d).calendar = { startTime: '2026-01-01 00:00:00', timeZone: zone }))).toEqual([
        `${avail}: /spec/timeWindow/0/calendar/timeZone must match pattern "^[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z][A-Za-z0-9_+-]*)*$"`,
      ]);
    }
  });

  it('catch a wrong version, a wrong kind and fields the spec does not list', () => {
    expect(after((d) => (loose(d[0]).apiVersion = 'openslo/v1alpha'))).toEqual([`${service}: /apiVersion must be equal to constant`]);
    expect(after((d) => (loose(d[2]).kind = 'Agreement'))).toEqual(['Agreement "it-sales-crm-system-availability" (document 2): /kind must be equal to one of the allowed values']);
    // A kind of the spec that the export never writes is not one this schema covers.
    expect(after((d) => (loose(d[2]).kind = 'DataSource'))).toEqual(['DataSource "it-sales-crm-system-availability" (document 2): /kind must be equal to one of the allowed values']);
    expect(after((d) => (loose(d[0]).status = {}))).toEqual([`${service}: / must NOT have additional properties`]);
    expect(after((d) => (loose(d[0].metadata).namespace = 'x'))).toEqual([`${service}: /metadata must NOT have additional properties`]);
    expect(after((d) => (loose(d[0].spec).owner = 'x'))).toEqual([`${service}: /spec must NOT have additional properties`]);
    expect(after((d) => (loose(slo(d).spec).indicatorName = 'x'))).toEqual([`${avail}: /spec must NOT have additional properties`]);
    expect(after((d) => (loose(slo(d).spec.objectives[0]).threshold = 1))).toEqual([`${avail}: /spec/objectives/0 must NOT have additional properties`]);
  });

  it('catch a missing required field, per kind', () => {
    expect(after((d) => delete loose(d[0]).spec)).toEqual([`${service}: / must have required property 'spec'`]);
    expect(after((d) => delete loose(d[2].metadata).name)).toEqual(["SLO undefined (document 2): /metadata must have required property 'name'"]);
    expect(after((d) => delete loose(slo(d).spec).budgetingMethod)).toEqual([`${avail}: /spec must have required property 'budgetingMethod'`]);
    expect(after((d) => delete loose(slo(d).spec).objectives)).toEqual([`${avail}: /spec must have required property 'objectives'`]);
    expect(after((d) => (slo(d).spec.objectives = []))).toEqual([`${avail}: /spec/objectives must NOT have fewer than 1 items`]);
    expect(after((d) => delete loose(slo(d).spec.objectives[0]).target)).toEqual([
      `${avail}: /spec/objectives/0 must have required property 'target'`,
      `${avail}: /spec/objectives/0 must have required property 'targetPercent'`,
    ]);
    expect(after((d) => delete loose(slo(d).spec).indicatorRef)).toEqual([`${avail}: /spec must have required property 'indicator'`, `${avail}: /spec must have required property 'indicatorRef'`]);
    expect(after((d) => delete loose(sli(d).spec).thresholdMetric)).toEqual([
      `${availSli}: /spec must have required property 'thresholdMetric'`,
      `${availSli}: /spec must have required property 'ratioMetric'`,
    ]);
    expect(after((d) => delete loose(sli(d).spec.thresholdMetric.metricSource).type)).toEqual([
      `${availSli}: /spec/thresholdMetric/metricSource must have required property 'metricSourceRef'`,
      `${availSli}: /spec/thresholdMetric/metricSource must have required property 'type'`,
    ]);
    // With a DataSource to infer it from, `type` may go.
    expect(
      after((d) => {
        const source = loose(sli(d).spec.thresholdMetric.metricSource);
        delete source.type;
        source.metricSourceRef = 'tiered-sla';
      }),
    ).toEqual([]);
  });

  it('catch names that are not RFC 1123 labels', () => {
    expect(after((d) => (d[1].metadata.name = 'IT_Sales-'))).toEqual([
      `SLI "IT_Sales-" (document 1): /metadata/name must match pattern "^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$"`,
      // The SLO referring to the old name now dangles.
      `${avail}: spec.indicatorRef: expected the name of an SLI among the documents, received "it-sales-crm-system-availability-sli"`,
    ]);
    expect(after((d) => (d[0].metadata.name = 'a'.repeat(64)))).toContain(`Service "${'a'.repeat(64)}" (document 0): /metadata/name must NOT have more than 63 characters`);
    // The longer names the spec "encourages" implementations to accept are not what the export promises.
    expect(after((d) => (d[0].metadata.name = 'it.sales/crm'))).toContain(`Service "it.sales/crm" (document 0): /metadata/name must match pattern "^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$"`);
    expect(after((d) => (loose(d[0].metadata).name = 42))).toContain('Service 42 (document 0): /metadata/name must be string');
  });

  it('catch bad durations, accept the shorthand', () => {
    const pattern = 'must match pattern "^[1-9][0-9]*[mhdwMQY]$"';
    for (const duration of ['0M', '1 M', '1mo', 'P1M', '1y', '-1d', '01d', '']) {
      expect(after((d) => (window0(d).duration = duration))).toEqual([`${avail}: /spec/timeWindow/0/duration ${pattern}`]);
    }
    for (const duration of ['28d', '1M', '1Q', '1Y', '4w', '12h', '5m']) expect(after((d) => (window0(d).duration = duration))).toEqual([]);
    expect(after((d) => (slo(d).spec.objectives[0].timeSliceWindow = '1 month'))).toEqual([
      `${avail}: /spec/objectives/0/timeSliceWindow must be number`,
      `${avail}: /spec/objectives/0/timeSliceWindow ${pattern}`,
    ]);
    expect(after((d) => (slo(d).spec.objectives[0].timeSliceWindow = 5))).toEqual([]);
    expect(after((d) => (slo(d).spec.objectives[0].timeSliceWindow = 0))).toEqual([
      `${avail}: /spec/objectives/0/timeSliceWindow must be > 0`,
      `${avail}: /spec/objectives/0/timeSliceWindow must be string`,
    ]);
  });

  it('catch what the spec states of objectives, time windows and budgeting', () => {
    const o = `${avail}: /spec/objectives/0`;
    expect(after((d) => (loose(slo(d).spec.objectives[0]).op = 'ge'))).toEqual([`${o}/op must be equal to one of the allowed values`]);
    expect(after((d) => (slo(d).spec.objectives[0].target = 1.5))).toEqual([`${o}/target must be < 1`]);
    expect(after((d) => (slo(d).spec.objectives[0].target = 1))).toEqual([`${o}/target must be < 1`]);
    expect(after((d) => (slo(d).spec.objectives[0].target = -0.1))).toEqual([`${o}/target must be >= 0`]);
    expect(after((d) => (loose(slo(d).spec.objectives[0]).targetPercent = 90))).toEqual([`${o} must match exactly one schema in oneOf`]);
    expect(
      after((d) => {
        delete slo(d).spec.objectives[0].target;
        loose(slo(d).spec.objectives[0]).targetPercent = 100;
      }),
    ).toEqual([`${o}/targetPercent must be < 100`]);
    expect(after((d) => (slo(d).spec.objectives[0].timeSliceTarget = 0))).toEqual([`${o}/timeSliceTarget must be > 0`]);
    expect(after((d) => delete slo(d).spec.objectives[0].timeSliceTarget)).toEqual([`${o} must have required property 'timeSliceTarget'`]);
    expect(after((d) => delete slo(d).spec.objectives[0].timeSliceWindow)).toEqual([`${o} must have required property 'timeSliceWindow'`]);
    // Occurrences needs neither.
    expect(
      after((d) => {
        slo(d).spec.budgetingMethod = 'Occurrences';
        delete slo(d).spec.objectives[0].timeSliceTarget;
        delete slo(d).spec.objectives[0].timeSliceWindow;
      }),
    ).toEqual([]);
    expect(after((d) => (loose(slo(d).spec).budgetingMethod = 'TimeSlices'))).toEqual([`${avail}: /spec/budgetingMethod must be equal to one of the allowed values`]);
    expect(after((d) => (window0(d).calendar = { startTime: '2026-02-01T00:00:00', timeZone: 'Europe/Berlin' }))).toEqual([
      `${avail}: /spec/timeWindow/0/calendar/startTime must match pattern "^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01]) (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"`,
    ]);
    expect(after((d) => delete window0(d).calendar)).toEqual([`${avail}: /spec/timeWindow/0 must have required property 'calendar'`]);
    expect(after((d) => (window0(d).isRolling = true))).toEqual([`${avail}: /spec/timeWindow/0/calendar boolean schema is false`]);
    expect(
      after((d) => {
        window0(d).isRolling = true;
        delete window0(d).calendar;
      }),
    ).toEqual([]);
    expect(after((d) => (slo(d).spec.timeWindow = [...(slo(d).spec.timeWindow ?? []), ...(slo(d).spec.timeWindow ?? [])]))).toEqual([`${avail}: /spec/timeWindow must NOT have more than 1 items`]);
  });

  it('catch what the spec states of SLI metrics, and accept its ratio shapes', () => {
    const ratio = (r: object) => (d: OpenSloDocument[]) => {
      delete loose(sli(d).spec).thresholdMetric;
      loose(sli(d).spec).ratioMetric = r;
      // A ratio metric allows any number of objectives, with or without op and value.
      delete slo(d).spec.objectives[0].op;
    };
    const source = { metricSource: { type: 'tiered-sla', spec: { query: 'x' } } };
    expect(after(ratio({ counter: true, good: source, total: source }))).toEqual([]);
    expect(after(ratio({ counter: false, bad: source, total: source }))).toEqual([]);
    expect(after(ratio({ rawType: 'success', raw: source }))).toEqual([]);
    expect(after(ratio({ good: source, bad: source, total: source }))).toEqual([
      `${availSli}: /spec/ratioMetric/bad boolean schema is false`,
      `${availSli}: /spec/ratioMetric/good boolean schema is false`,
    ]);
    expect(after(ratio({ good: source, total: source, raw: source, rawType: 'success' }))).toEqual([
      `${availSli}: /spec/ratioMetric/raw boolean schema is false`,
      `${availSli}: /spec/ratioMetric/rawType boolean schema is false`,
      `${availSli}: /spec/ratioMetric/good boolean schema is false`,
      `${availSli}: /spec/ratioMetric/total boolean schema is false`,
    ]);
    expect(after(ratio({ good: source }))).toEqual([`${availSli}: /spec/ratioMetric must have required property 'total'`]);
    expect(after(ratio({ total: source }))).toEqual([
      `${availSli}: /spec/ratioMetric must have required property 'good'`,
      `${availSli}: /spec/ratioMetric must have required property 'bad'`,
      `${availSli}: /spec/ratioMetric must have required property 'raw'`,
    ]);
    expect(after(ratio({ raw: source }))).toEqual([`${availSli}: /spec/ratioMetric must have required property 'rawType'`]);
    expect(after(ratio({ rawType: 'ratio', raw: source }))).toEqual([`${availSli}: /spec/ratioMetric/rawType must be equal to one of the allowed values`]);
    expect(after((d) => (loose(sli(d).spec).ratioMetric = { good: source, total: source }))).toEqual([`${availSli}: /spec must match exactly one schema in oneOf`]);
    expect(after((d) => (loose(sli(d).spec.thresholdMetric.metricSource).spec = 'metric'))).toEqual([`${availSli}: /spec/thresholdMetric/metricSource/spec must be object`]);
  });

  it('catch what the spec states of metadata: label keys, label values, annotation keys and values', () => {
    const labels = (d: OpenSloDocument[]): Record<string, unknown> => loose(d[0].metadata.labels ?? {});
    const annotations = (d: OpenSloDocument[]): Record<string, unknown> => loose(d[0].metadata.annotations ?? {});
    const labelKey = 'must match pattern "^[a-zA-Z0-9](?:[-_.a-zA-Z0-9]*[a-zA-Z0-9])?$"';
    expect(after((d) => (labels(d)['-team'] = 'x'))).toEqual([`${service}: /metadata/labels property name "-team" ${labelKey}`]);
    expect(after((d) => (labels(d)['k'.repeat(64)] = 'x'))).toEqual([`${service}: /metadata/labels property name "${'k'.repeat(64)}" must NOT have more than 63 characters`]);
    expect(after((d) => (labels(d).tags = ['auth', 'crm']))).toEqual([]);
    expect(after((d) => (labels(d).customer = 's'.repeat(64)))).toEqual([
      `${service}: /metadata/labels/customer must NOT have more than 63 characters`,
      `${service}: /metadata/labels/customer must be array`,
    ]);
    expect(after((d) => (labels(d).customer = 'Sales & Marketing'))).toContain(`${service}: /metadata/labels/customer must match pattern "^(?:[a-zA-Z0-9](?:[-_.a-zA-Z0-9]*[a-zA-Z0-9])?)?$"`);
    expect(after((d) => (labels(d).tags = ['auth', 7]))).toContain(`${service}: /metadata/labels/tags/1 must be string`);
    const annotationKey = (key: string): string =>
      `${service}: /metadata/annotations property name ${JSON.stringify(key)} must match pattern "^(?:(?=[^/]{1,253}/)[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)*/)?(?=[^/]{1,63}$)[a-zA-Z0-9](?:[-_.a-zA-Z0-9]*[a-zA-Z0-9])?$"`;
    for (const key of ['Tiered_SLA/x', 'tiered-sla.example/', 'a/b/c', `tiered-sla.example/${'n'.repeat(64)}`, `${Array(5).fill('p'.repeat(60)).join('.')}/n`, `${'p'.repeat(64)}.x/n`]) {
      expect(after((d) => (annotations(d)[key] = 'y'))).toEqual([annotationKey(key)]);
    }
    for (const key of ['openslo.com/key1', 'x', 'a.b-c/Name_1.x', `${'p'.repeat(60)}.${'p'.repeat(60)}.${'p'.repeat(60)}.${'p'.repeat(60)}/${'n'.repeat(63)}`]) {
      expect(after((d) => (annotations(d)[key] = 'y'))).toEqual([]);
    }
    expect(after((d) => (annotations(d)['tiered-sla.example/version'] = 2))).toEqual([`${service}: /metadata/annotations/tiered-sla.example~1version must be string`]);
  });

  it('catch what the schema cannot: dangling references, a name twice, a threshold SLI with two objectives', () => {
    expect(after((d) => d.splice(0, 1))).toEqual([
      'SLO "it-sales-crm-system-availability" (document 1): spec.service: expected the name of a Service among the documents, received "it-sales-crm"',
      'SLO "it-sales-crm-mttr" (document 3): spec.service: expected the name of a Service among the documents, received "it-sales-crm"',
      'SLO "it-sales-crm-escalation-response-p90" (document 5): spec.service: expected the name of a Service among the documents, received "it-sales-crm"',
    ]);
    expect(after((d) => d.push(clone(d[4])))).toEqual(['SLO "it-sales-crm-mttr" (document 7): metadata.name: expected a name unique among the SLO documents, received "it-sales-crm-mttr" again']);
    // The same name in two kinds is no conflict: references say which kind they mean.
    expect(
      after((d) => {
        d[0].metadata.name = 'it-sales-crm-mttr';
        for (const s of slos(d)) s.spec.service = 'it-sales-crm-mttr';
      }),
    ).toEqual([]);
    expect(
      after((d) => {
        const objectives = slo(d).spec.objectives;
        objectives.push({ ...objectives[0] });
        delete objectives[1].value;
      }),
    ).toEqual([
      `${avail}: spec.objectives: expected one objective for the threshold metric of SLI "it-sales-crm-system-availability-sli", received 2`,
      `${avail}: spec.objectives[1].value: expected for the threshold metric of SLI "it-sales-crm-system-availability-sli", missing`,
    ]);
    // Inline, the schema sees the indicator and says the same itself.
    expect(
      after((d) => {
        const s = slo(d).spec;
        loose(s).indicator = { metadata: sli(d).metadata, spec: sli(d).spec };
        delete s.indicatorRef;
        s.objectives.push({ ...s.objectives[0] });
      }),
    ).toEqual([`${avail}: /spec/objectives must NOT have more than 1 items`]);
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
    expect(openSloName('a'.repeat(53), 'b'.repeat(20))).toBe(
      `${'a'.repeat(53)}-${createHash('sha256')
        .update(`${'a'.repeat(53)}-${'b'.repeat(20)}`)
        .digest('hex')
        .slice(0, 8)}`,
    );
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
  /** The stream read back by the `yaml` package, as YAML 1.2 (its default) or 1.1 (older readers). */
  const read = (yaml: string, version: '1.1' | '1.2'): unknown[] => {
    const parsed = parseAllDocuments(yaml, { version });
    if (!Array.isArray(parsed)) return [];
    expect(parsed.flatMap((d) => [...d.errors, ...d.warnings])).toEqual([]);
    return parsed.map((d) => d.toJS());
  };

  it('writes one document per object, each starting with apiVersion, separated by ---', () => {
    const parts = text.split(/^---\n/m);
    expect(parts).toHaveLength(docs.length);
    for (const p of parts) expect(p.startsWith('apiVersion: openslo/v1\n')).toBe(true);
    expect(text.endsWith('\n')).toBe(true);
    expect(toYaml([])).toBe('');
  });

  it('parses back to the same documents, as YAML 1.2 and as YAML 1.1', () => {
    // Strings that look like numbers, months, timestamps or durations ("2", "2026-01",
    // "2026-01-01 00:00:00", "1M") must come back as strings, whichever reader.
    expect(read(text, '1.2')).toEqual(docs);
    expect(read(text, '1.1')).toEqual(docs);
    const charter = toOpenSlo({ ...CRM, timeZone: 'UTC', complianceTarget: 1, approvedExclusions: [] });
    expect(read(toYaml(charter), '1.2')).toEqual(charter);
    expect(read(toYaml(charter), '1.1')).toEqual(charter);
  });

  it('round-trips any text in names, labels and annotations (property)', () => {
    const reserved = [
      'yes',
      'No',
      'on',
      'y',
      'true',
      'null',
      '~',
      '',
      ' x',
      'x ',
      '- x',
      'a: b',
      '#c',
      '1e3',
      '0x1F',
      '.inf',
      '2026-01-01',
      '2026-01-01 00:00:00',
      '"q"',
      "'q'",
      '\\',
      '\t\n\r',
      '\u0085\u2028\ufeff\u0000\u007f',
      '😀',
      '\ud800',
      'x'.repeat(200),
    ];
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
        expect(read(out, '1.2')).toEqual([doc]);
        expect(read(out, '1.1')).toEqual([doc]);
      }),
    );
  });
});

describe('src/modules/exports/openslo.ts is pure', () => {
  it('imports only node:crypto, yaml and ../../common/month', () => {
    const source = fs.readFileSync(path.resolve(__dirname, '../../src/modules/exports/openslo.ts'), 'utf8');
    const imports = [
      ...source.matchAll(/^\s*(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm),
      ...source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
      ...source.matchAll(/\b(?:require|import)\s*\(\s*['"`]?([^'"`)]*)/g),
    ].map((m) => m[1]);
    expect(imports.sort()).toEqual(['../../common/month', 'node:crypto', 'yaml']);
    expect(source).not.toMatch(/\bDate\.now\s*\(|\bnew\s+Date\b|\bMath\.random\s*\(/);
  });
});
