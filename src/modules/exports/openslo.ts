/**
 * OpenSLO v1 export (issue 8, point 3), as pure functions over plain data: no ORM, no GraphQL, no
 * clock. An agreement version becomes one `Service`, then per objective one `SLI` and one `SLO`;
 * tier and parties become labels, and what OpenSLO cannot say (credits, exclusions, inheritance)
 * becomes annotations under `tiered-sla.example/`. The mapping and our reading of the spec are in
 * docs/openslo.md. Whether the documents follow the spec is checked by the tests, against this
 * project's own JSON Schema of OpenSLO v1, written from the spec (test/support/openslo-schema.ts):
 * nothing at run time needs a validator.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { monthProblem } from '../../common/month';

// ---------------------------------------------------------------------------------------------
// Input

/** One objective in force, as `toOpenSlo` needs it. */
export interface OpenSloObjectiveInput {
  objectiveId: string;
  metricCode: string;
  metricName: string;
  unit: string;
  direction: 'HIGHER_IS_BETTER' | 'LOWER_IS_BETTER';
  source: 'MANUAL' | 'AUTOMATED';
  target: number;
  warning: number | null;
  weight: number;
  creditPercent: number;
  /** Key of the ancestor agreement the objective comes from; null for the agreement's own. */
  inheritedFromKey: string | null;
  inheritance: 'APPLIES' | 'MINIMUM';
}

/** An agreement version with its effective objectives and approved exclusions: all `toOpenSlo` reads. */
export interface OpenSloAgreementInput {
  key: string;
  title: string;
  tier: 'CORPORATE' | 'CUSTOMER' | 'SERVICE';
  providerCode: string | null;
  customerCode: string | null;
  serviceCode: string | null;
  parentKey: string | null;
  versionNumber: number;
  /** First month of the version, "YYYY-MM". */
  effectiveMonth: string;
  /** Share of objective-months to meet, 0–1. */
  complianceTarget: number;
  monthlyCharge: number;
  creditCapPercent: number;
  /** IANA time zone of the agreement's business calendar. */
  timeZone: string;
  objectives: OpenSloObjectiveInput[];
  approvedExclusions: Array<{ month: string; metricCode: string; reasonCode: string }>;
}

// ---------------------------------------------------------------------------------------------
// Output: the subset of OpenSLO v1 this module writes

/** `apiVersion` of every document written. */
export const OPENSLO_API_VERSION = 'openslo/v1';
/** Prefix of every annotation this module writes (a DNS subdomain, as the spec wants). */
export const ANNOTATION_PREFIX = 'tiered-sla.example/';
/** `spec.thresholdMetric.metricSource.type` of every SLI this module writes. */
export const METRIC_SOURCE_TYPE = 'tiered-sla';
/**
 * The highest SLO `target` written. The spec wants a target in [0, 1); an agreement may ask for a
 * compliance target of exactly 1 (every objective-month met), which is written as this value. With
 * one time slice per window (see docs/openslo.md) any target above 0 means the same thing: the
 * month's one slice must be good.
 */
export const MAX_SLO_TARGET = 0.999999;

/** An SLO objective's comparison of the indicator with `value`. */
export type OpenSloOperator = 'lt' | 'lte' | 'gt' | 'gte';
/** How an SLO counts its error budget (this module writes `Timeslices` only). */
export type OpenSloBudgetingMethod = 'Occurrences' | 'Timeslices' | 'RatioTimeslices';

/** `metadata` of a document. */
export interface OpenSloMetadata {
  name: string;
  displayName?: string;
  labels?: Record<string, string | string[]>;
  annotations?: Record<string, string>;
}

/** Where an SLI reads its metric. */
export interface OpenSloMetricSource {
  metricSourceRef?: string;
  type?: string;
  spec: Record<string, unknown>;
}

/** `spec` of a Service. */
export interface OpenSloServiceSpec {
  description?: string;
}

/** `spec` of an SLI: always a threshold metric here (a ratio metric is never written). */
export interface OpenSloSliSpec {
  description?: string;
  thresholdMetric: { metricSource: OpenSloMetricSource };
}

/** An SLO's time window. */
export interface OpenSloTimeWindow {
  duration: string;
  isRolling: boolean;
  calendar?: { startTime: string; timeZone: string };
}

/** One objective of an SLO (`target`, never `targetPercent`, is written). */
export interface OpenSloObjective {
  displayName?: string;
  op?: OpenSloOperator;
  value?: number;
  target?: number;
  timeSliceTarget?: number;
  timeSliceWindow?: string | number;
}

/** `spec` of an SLO: it names its SLI (`indicatorRef`); an inline `indicator` is never written. */
export interface OpenSloSloSpec {
  description?: string;
  service: string;
  indicatorRef?: string;
  timeWindow?: OpenSloTimeWindow[];
  budgetingMethod: OpenSloBudgetingMethod;
  objectives: OpenSloObjective[];
}

/** A Service document: one per agreement version. */
export interface OpenSloService {
  apiVersion: typeof OPENSLO_API_VERSION;
  kind: 'Service';
  metadata: OpenSloMetadata;
  spec: OpenSloServiceSpec;
}

/** An SLI document: one per objective. */
export interface OpenSloSli {
  apiVersion: typeof OPENSLO_API_VERSION;
  kind: 'SLI';
  metadata: OpenSloMetadata;
  spec: OpenSloSliSpec;
}

/** An SLO document: one per objective. */
export interface OpenSloSlo {
  apiVersion: typeof OPENSLO_API_VERSION;
  kind: 'SLO';
  metadata: OpenSloMetadata;
  spec: OpenSloSloSpec;
}

/** Any document this module writes. */
export type OpenSloDocument = OpenSloService | OpenSloSli | OpenSloSlo;

// ---------------------------------------------------------------------------------------------
// The spec's rules

const NAME_MAX = 63;
const DISPLAY_NAME_MAX = 63;
const DESCRIPTION_MAX = 1050;
const HASH_HEX = 8;

function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, HASH_HEX);
}

/** Cuts `text` to `max` characters, replacing the end by a hash of the whole text when it is longer. */
function fitWithHash(text: string, max: number, trimEnd: RegExp): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max - HASH_HEX - 1).replace(trimEnd, '');
  return `${head}-${shortHash(text)}`;
}

/**
 * An OpenSLO `metadata.name` built from `parts`: joined with `-`, lower-cased, every run of
 * characters other than a–z and 0–9 turned into one `-`, and `-` trimmed from both ends, so the
 * result is an RFC 1123 label (lowercase alphanumerics and `-`, alphanumeric at both ends). A name
 * longer than 63 characters keeps its first 54 and ends in `-` and the first 8 hex digits of the
 * SHA-256 of the whole normalised name: deterministic, and two long names that differ anywhere
 * still differ. Throws a `RangeError` when the parts hold no letter or digit at all.
 */
export function openSloName(...parts: string[]): string {
  const normal = parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (normal === '') throw new RangeError(`openSloName: expected parts with at least one letter or digit, received ${JSON.stringify(parts)}`);
  return fitWithHash(normal, NAME_MAX, /-+$/);
}

/** A label value: lower-cased, characters outside a–z 0–9 `-_.` turned into `-`, ends trimmed, ≤ 63. */
function labelValue(text: string): string {
  const normal = text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return fitWithHash(normal, NAME_MAX, /[^a-z0-9]+$/);
}

function displayName(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length <= DISPLAY_NAME_MAX ? t : `${t.slice(0, DISPLAY_NAME_MAX - 3).trimEnd()}...`;
}

function description(text: string): string {
  return text.length <= DESCRIPTION_MAX ? text : `${text.slice(0, DESCRIPTION_MAX - 3)}...`;
}

// ---------------------------------------------------------------------------------------------
// Export

function finite(where: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`${where}: expected a finite number, received ${String(value)}`);
  return value;
}

function checkInput(a: OpenSloAgreementInput): void {
  const month = monthProblem(a.effectiveMonth);
  if (month) throw new RangeError(`${a.key}: effectiveMonth: ${month}`);
  finite(`${a.key}: complianceTarget`, a.complianceTarget);
  if (a.complianceTarget < 0 || a.complianceTarget > 1) throw new RangeError(`${a.key}: complianceTarget: expected a number from 0 to 1, received ${a.complianceTarget}`);
  finite(`${a.key}: monthlyCharge`, a.monthlyCharge);
  finite(`${a.key}: creditCapPercent`, a.creditCapPercent);
  const seen = new Set<string>();
  a.objectives.forEach((o, i) => {
    const where = `${a.key}: objectives[${i}]`;
    finite(`${where}.target`, o.target);
    finite(`${where}.weight`, o.weight);
    finite(`${where}.creditPercent`, o.creditPercent);
    if (o.warning !== null) finite(`${where}.warning`, o.warning);
    const code = o.metricCode.toUpperCase();
    if (seen.has(code)) throw new RangeError(`${where}.metricCode: expected one objective per metric, received ${o.metricCode} twice`);
    seen.add(code);
  });
}

/** Labels shared by every document of the agreement; a party that is null gets no label. */
function agreementLabels(a: OpenSloAgreementInput): Record<string, string> {
  const labels: Record<string, string> = { tier: labelValue(a.tier) };
  if (a.providerCode !== null) labels.provider = labelValue(a.providerCode);
  if (a.customerCode !== null) labels.customer = labelValue(a.customerCode);
  if (a.serviceCode !== null) labels.service = labelValue(a.serviceCode);
  labels.agreement = labelValue(a.key);
  return labels;
}

const ann = (name: string): string => `${ANNOTATION_PREFIX}${name}`;

/** Agreement-level terms OpenSLO has no field for. */
function termAnnotations(a: OpenSloAgreementInput): Record<string, string> {
  return {
    [ann('version')]: String(a.versionNumber),
    [ann('effective-month')]: a.effectiveMonth,
    [ann('compliance-target')]: String(a.complianceTarget),
    [ann('monthly-charge')]: String(a.monthlyCharge),
    [ann('credit-cap-percent')]: String(a.creditCapPercent),
  };
}

const TIER_WORD: Record<OpenSloAgreementInput['tier'], string> = { CORPORATE: 'Corporate', CUSTOMER: 'Customer', SERVICE: 'Service' };

/**
 * The OpenSLO v1 documents of one agreement version: first a `Service` named after the agreement
 * key, then for each objective, in input order, an `SLI` (a threshold metric read from source type
 * `tiered-sla`) and an `SLO` that references both by name. Each SLO has one objective (`gte` the
 * target when higher is better, `lte` when lower is better), a calendar-month window starting at the
 * effective month in the agreement's time zone, and `Timeslices` budgeting with one-month slices;
 * its `target` is the agreement's compliance target (at most {@link MAX_SLO_TARGET}). Tier, parties,
 * agreement and metric are labels; credits, weight, warning, inheritance and the approved exclusions
 * of the metric are annotations. Throws a `RangeError` on input no agreement can have (a bad month,
 * a non-finite number, a compliance target outside 0–1, one metric twice).
 */
export function toOpenSlo(a: OpenSloAgreementInput): OpenSloDocument[] {
  checkInput(a);
  const labels = agreementLabels(a);
  const serviceName = openSloName(a.key);
  const parties = [
    a.providerCode !== null ? `provider ${a.providerCode}` : null,
    a.customerCode !== null ? `customer ${a.customerCode}` : null,
    a.serviceCode !== null ? `service ${a.serviceCode}` : null,
  ].filter((p): p is string => p !== null);

  const serviceAnnotations: Record<string, string> = { [ann('agreement-key')]: a.key, ...termAnnotations(a) };
  if (a.parentKey !== null) serviceAnnotations[ann('parent')] = a.parentKey;
  const service: OpenSloService = {
    apiVersion: OPENSLO_API_VERSION,
    kind: 'Service',
    metadata: { name: serviceName, displayName: displayName(a.title), labels: { ...labels }, annotations: serviceAnnotations },
    spec: {
      description: description(
        `${a.title}. ${TIER_WORD[a.tier]} agreement ${a.key}, version ${a.versionNumber} from ${a.effectiveMonth}` +
          (parties.length ? `; ${parties.join(', ')}` : '') +
          (a.parentKey !== null ? `; under ${a.parentKey}` : '') +
          '.',
      ),
    },
  };

  const docs: OpenSloDocument[] = [service];
  for (const o of a.objectives) {
    const higher = o.direction === 'HIGHER_IS_BETTER';
    const op: OpenSloOperator = higher ? 'gte' : 'lte';
    const metricLabels = { ...labels, metric: labelValue(o.metricCode) };
    const sliName = openSloName(a.key, o.metricCode, 'sli');
    const sloName = openSloName(a.key, o.metricCode);
    const unitWord = o.unit.toLowerCase();

    docs.push({
      apiVersion: OPENSLO_API_VERSION,
      kind: 'SLI',
      metadata: { name: sliName, displayName: displayName(o.metricName), labels: metricLabels, annotations: { [ann('direction')]: o.direction } },
      spec: {
        description: description(`Monthly ${o.source === 'MANUAL' ? 'reported' : 'measured'} value of ${o.metricName} (${o.metricCode}), in ${unitWord}, for agreement ${a.key}.`),
        thresholdMetric: { metricSource: { type: METRIC_SOURCE_TYPE, spec: { metric: o.metricCode, source: o.source, unit: o.unit } } },
      },
    });

    const exclusions = a.approvedExclusions
      .filter((e) => e.metricCode.toUpperCase() === o.metricCode.toUpperCase())
      .map((e) => ({ month: e.month, reasonCode: e.reasonCode }))
      .sort((x, y) => (x.month < y.month ? -1 : x.month > y.month ? 1 : x.reasonCode < y.reasonCode ? -1 : x.reasonCode > y.reasonCode ? 1 : 0));
    const annotations: Record<string, string> = {
      [ann('objective-id')]: o.objectiveId,
      [ann('direction')]: o.direction,
      [ann('weight')]: String(o.weight),
    };
    if (o.warning !== null) annotations[ann('warning')] = String(o.warning);
    annotations[ann('credit-percent')] = String(o.creditPercent);
    annotations[ann('inheritance')] = o.inheritance;
    if (o.inheritedFromKey !== null) annotations[ann('inherited-from')] = o.inheritedFromKey;
    Object.assign(annotations, termAnnotations(a));
    annotations[ann('exclusions')] = JSON.stringify(exclusions);

    docs.push({
      apiVersion: OPENSLO_API_VERSION,
      kind: 'SLO',
      metadata: { name: sloName, displayName: displayName(o.metricName), labels: { ...metricLabels }, annotations },
      spec: {
        description: description(
          `${o.metricName} ${higher ? 'at least' : 'at most'} ${o.target} ${unitWord} in each calendar month, agreement ${a.key}` +
            (o.inheritedFromKey !== null ? `, inherited from ${o.inheritedFromKey}` : '') +
            (o.inheritance === 'MINIMUM' ? '; a MINIMUM: a floor for the agreements below, not measured on this one' : '') +
            '.',
        ),
        service: serviceName,
        indicatorRef: sliName,
        timeWindow: [{ duration: '1M', isRolling: false, calendar: { startTime: `${a.effectiveMonth}-01 00:00:00`, timeZone: a.timeZone } }],
        budgetingMethod: 'Timeslices',
        objectives: [
          {
            displayName: displayName(`${o.metricName} ${higher ? '>=' : '<='} ${o.target} ${unitWord}`),
            op,
            value: o.target,
            target: Math.min(a.complianceTarget, MAX_SLO_TARGET),
            timeSliceTarget: 1,
            timeSliceWindow: '1M',
          },
        ],
      },
    });
  }
  return docs;
}

// ---------------------------------------------------------------------------------------------
// YAML

/**
 * How the documents are written. `yaml-1.1` only decides which strings to quote: besides what YAML
 * 1.2 would read as another type ("2", "1e3", "null"), it quotes what a YAML 1.1 reader (Go's
 * yaml.v2, PyYAML, js-yaml's timestamps) would: "yes", "on", "2026-01-01 00:00:00". The output stays
 * plain YAML 1.2 with no directive. `lineWidth: 0` keeps long descriptions and the JSON of
 * `exclusions` on one line instead of folding them.
 */
const YAML_OPTIONS = { schema: 'yaml-1.1', lineWidth: 0 } as const;

/**
 * The documents as one multi-document YAML stream, written by the `yaml` package: each document in
 * block style, keys in the order of the objects, separated by `---` lines, ending in a newline (an
 * empty list gives ""). A string is quoted when a YAML 1.2 or 1.1 reader would take it for something
 * else ("10", "null", "yes", "2026-01-01 00:00:00"), so parsing the stream gives back the documents.
 */
export function toYaml(docs: OpenSloDocument[]): string {
  return docs.map((d) => stringify(d, YAML_OPTIONS)).join('---\n');
}
