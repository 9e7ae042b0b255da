/**
 * OpenSLO v1 export (issue 8, point 3), as pure functions over plain data: no ORM, no GraphQL, no
 * clock. An agreement version becomes one `Service`, then per objective one `SLI` and one `SLO`;
 * tier and parties become labels, and what OpenSLO cannot say (credits, exclusions, inheritance)
 * becomes annotations under `tiered-sla.example/`. The mapping and our reading of the spec are in
 * docs/openslo.md.
 */
import { createHash } from 'node:crypto';
import { monthProblem } from '../../common/month';

// ---------------------------------------------------------------------------------------------
// Input

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
// Output: the subset of OpenSLO v1 this module writes and checks

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

export type OpenSloOperator = 'lt' | 'lte' | 'gt' | 'gte';
export type OpenSloBudgetingMethod = 'Occurrences' | 'Timeslices' | 'RatioTimeslices';

export interface OpenSloMetadata {
  name: string;
  displayName?: string;
  labels?: Record<string, string | string[]>;
  annotations?: Record<string, string>;
}

export interface OpenSloMetricSource {
  metricSourceRef?: string;
  type?: string;
  spec: Record<string, unknown>;
}

export interface OpenSloServiceSpec {
  description?: string;
}

export interface OpenSloSliSpec {
  description?: string;
  thresholdMetric?: { metricSource: OpenSloMetricSource };
  /** Not written by this module; accepted by {@link validateOpenSlo} only to say it is not checked. */
  ratioMetric?: Record<string, unknown>;
}

export interface OpenSloTimeWindow {
  duration: string;
  isRolling: boolean;
  calendar?: { startTime: string; timeZone: string };
}

export interface OpenSloObjective {
  displayName?: string;
  op?: OpenSloOperator;
  value?: number;
  target?: number;
  targetPercent?: number;
  timeSliceTarget?: number;
  timeSliceWindow?: string | number;
}

export interface OpenSloSloSpec {
  description?: string;
  service: string;
  indicatorRef?: string;
  indicator?: { metadata: OpenSloMetadata; spec: OpenSloSliSpec };
  timeWindow?: OpenSloTimeWindow[];
  budgetingMethod: OpenSloBudgetingMethod;
  objectives: OpenSloObjective[];
}

export interface OpenSloService {
  apiVersion: typeof OPENSLO_API_VERSION;
  kind: 'Service';
  metadata: OpenSloMetadata;
  spec: OpenSloServiceSpec;
}

export interface OpenSloSli {
  apiVersion: typeof OPENSLO_API_VERSION;
  kind: 'SLI';
  metadata: OpenSloMetadata;
  spec: OpenSloSliSpec;
}

export interface OpenSloSlo {
  apiVersion: typeof OPENSLO_API_VERSION;
  kind: 'SLO';
  metadata: OpenSloMetadata;
  spec: OpenSloSloSpec;
}

export type OpenSloDocument = OpenSloService | OpenSloSli | OpenSloSlo;

// ---------------------------------------------------------------------------------------------
// The spec's rules

const NAME_MAX = 63;
const DISPLAY_NAME_MAX = 63;
const DESCRIPTION_MAX = 1050;
const HASH_HEX = 8;
/** RFC 1123 label, as the spec requires every implementation to support for `metadata.name`. */
const DNS_LABEL_RE = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
/** Label key (spec, General Schema notes): at most 63, alphanumeric ends, `-_.` between. */
const LABEL_KEY_RE = /^[a-zA-Z0-9](?:[-._a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$/;
/** Label value (Kubernetes rules): empty, or at most 63, alphanumeric ends, `-_.` between. */
const LABEL_VALUE_RE = /^(?:[a-zA-Z0-9](?:[-._a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)?$/;
/** Annotation key: optional DNS-subdomain prefix (≤ 253) and `/`, then a name like a label key. */
const ANNOTATION_PREFIX_RE = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)*$/;
const OPERATORS: readonly OpenSloOperator[] = ['lt', 'lte', 'gt', 'gte'];
const BUDGETING_METHODS: readonly OpenSloBudgetingMethod[] = ['Occurrences', 'Timeslices', 'RatioTimeslices'];
const KINDS = ['Service', 'SLI', 'SLO'] as const;
/** duration-shorthand: a positive integer and one of m h d w M Q Y. */
const DURATION_RE = /^[1-9][0-9]*[mhdwMQY]$/;
/** Calendar start time: date and 24 h time without a zone, "2020-01-21 12:30:00". */
const START_TIME_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
/** Shape of an IANA zone name ("UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+1"). */
const IANA_ZONE_RE = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

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
// Validation

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (v === undefined ? 'nothing' : typeof v === 'string' ? JSON.stringify(v) : typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v));

function isTimeZone(tz: string): boolean {
  if (!IANA_ZONE_RE.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function startTimeProblem(v: unknown): string | null {
  const expected = 'expected a date and 24 h time without zone, "YYYY-MM-DD HH:MM:SS"';
  if (typeof v !== 'string') return `${expected}, received ${show(v)}`;
  const m = START_TIME_RE.exec(v);
  if (!m) return `${expected}, received ${show(v)}`;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  if (mo < 1 || mo > 12 || d < 1 || d > days || h > 23 || mi > 59 || s > 59) return `expected a real date and time, received ${show(v)}`;
  return null;
}

function nameProblem(v: unknown): string | null {
  if (typeof v !== 'string' || !DNS_LABEL_RE.test(v)) {
    return `expected an RFC 1123 name (at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit), received ${show(v)}`;
  }
  return null;
}

function metadataProblems(meta: unknown, path: string): string[] {
  if (!isRec(meta)) return [`${path}: expected an object, received ${show(meta)}`];
  const out: string[] = [];
  const name = nameProblem(meta.name);
  if (name) out.push(`${path}.name: ${name}`);
  if (meta.displayName !== undefined && (typeof meta.displayName !== 'string' || meta.displayName.length > DISPLAY_NAME_MAX)) {
    out.push(`${path}.displayName: expected a string of at most ${DISPLAY_NAME_MAX} characters, received ${show(meta.displayName)}`);
  }
  if (meta.labels !== undefined) {
    if (!isRec(meta.labels)) out.push(`${path}.labels: expected a map, received ${show(meta.labels)}`);
    else {
      for (const [key, value] of Object.entries(meta.labels)) {
        if (!LABEL_KEY_RE.test(key)) out.push(`${path}.labels: key ${show(key)}: expected at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`);
        const values = Array.isArray(value) ? value : [value];
        values.forEach((v, i) => {
          const at = Array.isArray(value) ? `${path}.labels.${key}[${i}]` : `${path}.labels.${key}`;
          if (typeof v !== 'string' || v.length > NAME_MAX || !LABEL_VALUE_RE.test(v)) {
            out.push(`${at}: expected a label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit), received ${show(v)}`);
          }
        });
      }
    }
  }
  if (meta.annotations !== undefined) {
    if (!isRec(meta.annotations)) out.push(`${path}.annotations: expected a map of strings, received ${show(meta.annotations)}`);
    else {
      for (const [key, value] of Object.entries(meta.annotations)) {
        const slash = key.lastIndexOf('/');
        const prefix = slash >= 0 ? key.slice(0, slash) : null;
        const rest = slash >= 0 ? key.slice(slash + 1) : key;
        const prefixOk = prefix === null || (prefix.length <= 253 && ANNOTATION_PREFIX_RE.test(prefix));
        if (!prefixOk || !LABEL_KEY_RE.test(rest)) {
          out.push(`${path}.annotations: key ${show(key)}: expected an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`);
        }
        if (typeof value !== 'string') out.push(`${path}.annotations.${key}: expected a string, received ${show(value)}`);
      }
    }
  }
  return out;
}

function descriptionProblem(spec: Rec, path: string): string[] {
  const d = spec.description;
  if (d === undefined) return [];
  if (typeof d !== 'string' || d.length > DESCRIPTION_MAX) return [`${path}.description: expected a string of at most ${DESCRIPTION_MAX} characters, received ${typeof d === 'string' ? `${d.length} characters` : show(d)}`];
  return [];
}

function durationProblem(v: unknown, allowMinutes: boolean): string | null {
  if (typeof v === 'string' && DURATION_RE.test(v)) return null;
  if (allowMinutes && typeof v === 'number' && Number.isFinite(v) && v > 0) return null;
  return `expected a duration shorthand (a positive whole number and one of m h d w M Q Y, e.g. "1M")${allowMinutes ? ' or a positive number of minutes' : ''}, received ${show(v)}`;
}

/** Problems of an SLI spec (a document's or an SLO's inline one); tells whether it is a threshold metric. */
function sliSpecProblems(spec: unknown, path: string): { problems: string[]; threshold: boolean } {
  if (!isRec(spec)) return { problems: [`${path}: expected an object, received ${show(spec)}`], threshold: false };
  const out = descriptionProblem(spec, path);
  const hasThreshold = spec.thresholdMetric !== undefined;
  const hasRatio = spec.ratioMetric !== undefined;
  if (hasThreshold === hasRatio) {
    out.push(`${path}: expected exactly one of thresholdMetric or ratioMetric, received ${hasThreshold ? 'both' : 'neither'}`);
    return { problems: out, threshold: false };
  }
  if (hasRatio) {
    out.push(`${path}.ratioMetric: not checked here: this exporter writes and checks threshold metrics only`);
    return { problems: out, threshold: false };
  }
  const tm = spec.thresholdMetric;
  const source = isRec(tm) ? tm.metricSource : undefined;
  if (!isRec(source)) {
    out.push(`${path}.thresholdMetric.metricSource: expected an object, received ${show(source)}`);
  } else {
    const ref = source.metricSourceRef;
    if (ref !== undefined && nameProblem(ref)) out.push(`${path}.thresholdMetric.metricSource.metricSourceRef: ${nameProblem(ref)}`);
    if (ref === undefined && (typeof source.type !== 'string' || source.type === '')) {
      out.push(`${path}.thresholdMetric.metricSource.type: expected a type when there is no metricSourceRef, received ${show(source.type)}`);
    }
    if (!isRec(source.spec) || Object.keys(source.spec).length === 0) {
      out.push(`${path}.thresholdMetric.metricSource.spec: expected a map with at least one field, received ${show(source.spec)}`);
    }
  }
  return { problems: out, threshold: true };
}

function objectiveProblems(o: unknown, path: string, budgeting: unknown, threshold: boolean | null): string[] {
  if (!isRec(o)) return [`${path}: expected an object, received ${show(o)}`];
  const out: string[] = [];
  if (o.displayName !== undefined && typeof o.displayName !== 'string') out.push(`${path}.displayName: expected a string, received ${show(o.displayName)}`);
  // op and value are needed with a threshold metric; unknown (null) when the indicator is missing.
  if (o.op !== undefined || threshold === true) {
    if (!OPERATORS.includes(o.op as OpenSloOperator)) out.push(`${path}.op: expected one of ${OPERATORS.join(', ')}, received ${show(o.op)}`);
  }
  if (o.value !== undefined || threshold === true) {
    if (typeof o.value !== 'number' || !Number.isFinite(o.value)) out.push(`${path}.value: expected a finite number, received ${show(o.value)}`);
  }
  const hasTarget = o.target !== undefined;
  const hasPercent = o.targetPercent !== undefined;
  if (hasTarget === hasPercent) out.push(`${path}: expected exactly one of target or targetPercent, received ${hasTarget ? 'both' : 'neither'}`);
  if (hasTarget && (typeof o.target !== 'number' || !(o.target >= 0 && o.target < 1))) {
    out.push(`${path}.target: expected a number in [0, 1), received ${show(o.target)}`);
  }
  if (hasPercent && (typeof o.targetPercent !== 'number' || !(o.targetPercent >= 0 && o.targetPercent < 100))) {
    out.push(`${path}.targetPercent: expected a number in [0, 100), received ${show(o.targetPercent)}`);
  }
  if (budgeting === 'Timeslices') {
    const t = o.timeSliceTarget;
    if (typeof t !== 'number' || !(t > 0 && t <= 1)) out.push(`${path}.timeSliceTarget: expected a number in (0, 1] with Timeslices budgeting, received ${show(t)}`);
  }
  if (budgeting === 'Timeslices' || budgeting === 'RatioTimeslices') {
    const p = durationProblem(o.timeSliceWindow, true);
    if (p) out.push(`${path}.timeSliceWindow: ${p}`);
  }
  return out;
}

function timeWindowProblems(tw: unknown, path: string): string[] {
  if (tw === undefined) return [];
  if (!Array.isArray(tw) || tw.length !== 1) return [`${path}: expected a list of exactly one time window, received ${Array.isArray(tw) ? `${tw.length}` : show(tw)}`];
  const w: unknown = tw[0];
  const at = `${path}[0]`;
  if (!isRec(w)) return [`${at}: expected an object, received ${show(w)}`];
  const out: string[] = [];
  const d = durationProblem(w.duration, false);
  if (d) out.push(`${at}.duration: ${d}`);
  if (w.isRolling !== undefined && typeof w.isRolling !== 'boolean') out.push(`${at}.isRolling: expected true or false, received ${show(w.isRolling)}`);
  // Spec: isRolling, if omitted, is false when a calendar is present.
  const rolling = w.isRolling === true;
  if (rolling && w.calendar !== undefined) out.push(`${at}.calendar: expected none on a rolling window`);
  if (!rolling) {
    if (!isRec(w.calendar)) out.push(`${at}.calendar: expected { startTime, timeZone } on a calendar-aligned window, received ${show(w.calendar)}`);
    else {
      const st = startTimeProblem(w.calendar.startTime);
      if (st) out.push(`${at}.calendar.startTime: ${st}`);
      const tz = w.calendar.timeZone;
      if (typeof tz !== 'string' || !isTimeZone(tz)) out.push(`${at}.calendar.timeZone: expected an IANA time zone name, received ${show(tz)}`);
    }
  }
  return out;
}

/**
 * Problems of a set of OpenSLO v1 documents against the spec's rules, as readable messages that
 * name the document (kind, name, position) and the field; an empty list when there is none. It
 * checks apiVersion, kind (Service, SLI or SLO: the kinds this exporter writes), RFC 1123 names,
 * display names (≤ 63), label keys and values (Kubernetes rules), annotation keys, descriptions
 * (≤ 1050), the SLI metric source, and for an SLO: the service and the indicator (exactly one of
 * `indicator` and `indicatorRef`), one time window with a valid duration shorthand and calendar,
 * the budgeting method, and per objective the operator, value, target in [0, 1) (or targetPercent
 * in [0, 100)) and the time-slice fields. References must resolve inside the set (`spec.service`
 * to a Service, `indicatorRef` to an SLI), and no two documents of one kind may share a name.
 * Input parsed from YAML is welcome: every field is checked for its type, not trusted.
 */
export function validateOpenSlo(docs: OpenSloDocument[]): string[] {
  if (!Array.isArray(docs)) return [`expected a list of documents, received ${show(docs)}`];
  const out: string[] = [];
  const names = new Map<string, Map<string, number>>();
  const list: unknown[] = docs;
  for (const doc of list) {
    const name = isRec(doc) && isRec(doc.metadata) ? doc.metadata.name : undefined;
    if (isRec(doc) && typeof doc.kind === 'string' && typeof name === 'string') {
      const byName = names.get(doc.kind) ?? new Map<string, number>();
      names.set(doc.kind, byName);
      byName.set(name, (byName.get(name) ?? 0) + 1);
    }
  }
  const has = (kind: string, name: unknown): boolean => typeof name === 'string' && (names.get(kind)?.has(name) ?? false);
  const sliByName = new Map<string, Rec>();
  for (const doc of list) if (isRec(doc) && doc.kind === 'SLI' && isRec(doc.metadata) && typeof doc.metadata.name === 'string') sliByName.set(doc.metadata.name, doc);

  const reported = new Set<string>();
  list.forEach((doc, i) => {
    const label = isRec(doc) ? `${typeof doc.kind === 'string' ? doc.kind : 'document'} ${isRec(doc.metadata) ? show(doc.metadata.name) : 'without metadata'} (document ${i})` : `document ${i}`;
    const p = (msg: string): void => void out.push(`${label}: ${msg}`);
    if (!isRec(doc)) return p(`expected an object, received ${show(doc)}`);
    if (doc.apiVersion !== OPENSLO_API_VERSION) p(`apiVersion: expected ${show(OPENSLO_API_VERSION)}, received ${show(doc.apiVersion)}`);
    if (!KINDS.includes(doc.kind as (typeof KINDS)[number])) return p(`kind: expected one of ${KINDS.join(', ')}, received ${show(doc.kind)}`);
    metadataProblems(doc.metadata, 'metadata').forEach(p);
    const name = isRec(doc.metadata) ? doc.metadata.name : undefined;
    const dupKey = `${String(doc.kind)}/${String(name)}`;
    if (typeof name === 'string' && (names.get(doc.kind as string)?.get(name) ?? 0) > 1 && !reported.has(dupKey)) {
      reported.add(dupKey);
      p(`metadata.name: expected a name unique among the ${String(doc.kind)} documents, received ${show(name)} ${names.get(doc.kind as string)?.get(name)} times`);
    }
    const spec = doc.spec;
    if (!isRec(spec)) return p(`spec: expected an object, received ${show(spec)}`);

    if (doc.kind === 'Service') {
      descriptionProblem(spec, 'spec').forEach(p);
      return;
    }
    if (doc.kind === 'SLI') {
      sliSpecProblems(spec, 'spec').problems.forEach(p);
      return;
    }

    // SLO
    descriptionProblem(spec, 'spec').forEach(p);
    if (typeof spec.service !== 'string' || spec.service === '') p(`spec.service: expected the name of a Service, received ${show(spec.service)}`);
    else if (!has('Service', spec.service)) p(`spec.service: expected the name of a Service among the documents, received ${show(spec.service)}, which names none`);

    let threshold: boolean | null = null;
    const hasInline = spec.indicator !== undefined;
    const hasRef = spec.indicatorRef !== undefined;
    if (hasInline === hasRef) {
      p(`spec: expected exactly one of indicator or indicatorRef, received ${hasInline ? 'both' : 'neither'} (composite SLOs are not checked here)`);
    } else if (hasRef) {
      const ref = spec.indicatorRef;
      const np = nameProblem(ref);
      if (np) p(`spec.indicatorRef: ${np}`);
      else if (!has('SLI', ref)) p(`spec.indicatorRef: expected the name of an SLI among the documents, received ${show(ref)}, which names none`);
      else {
        const sli = sliByName.get(ref as string);
        threshold = isRec(sli?.spec) ? sli.spec.thresholdMetric !== undefined : null;
      }
    } else {
      const ind = spec.indicator;
      if (!isRec(ind)) p(`spec.indicator: expected { metadata, spec }, received ${show(ind)}`);
      else {
        metadataProblems(ind.metadata, 'spec.indicator.metadata').forEach(p);
        const r = sliSpecProblems(ind.spec, 'spec.indicator.spec');
        r.problems.forEach(p);
        threshold = r.threshold;
      }
    }

    timeWindowProblems(spec.timeWindow, 'spec.timeWindow').forEach(p);
    if (!BUDGETING_METHODS.includes(spec.budgetingMethod as OpenSloBudgetingMethod)) {
      p(`spec.budgetingMethod: expected one of ${BUDGETING_METHODS.join(', ')}, received ${show(spec.budgetingMethod)}`);
    }
    const objectives = spec.objectives;
    if (!Array.isArray(objectives) || objectives.length === 0) {
      p(`spec.objectives: expected a list of at least one objective, received ${Array.isArray(objectives) ? 'an empty list' : show(objectives)}`);
    } else {
      if (threshold === true && objectives.length > 1) p(`spec.objectives: expected one objective with a threshold metric, received ${objectives.length}`);
      objectives.forEach((o: unknown, j) => objectiveProblems(o, `spec.objectives[${j}]`, spec.budgetingMethod, threshold).forEach(p));
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// YAML

const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null|~)$/i;
/** Strings written unquoted: start with a letter or `_`, then word characters, `.`, `/`, `-`, single spaces. */
const PLAIN = /^[A-Za-z_][\w./-]*(?: [\w./-]+)*$/;

/** YAML 1.2 c-printable, minus the characters a double-quoted scalar must escape anyway. */
function needsEscape(cp: number): boolean {
  if (cp === 0x22 || cp === 0x5c) return true;
  if (cp < 0x20 || cp === 0x7f) return true;
  if (cp >= 0x80 && cp <= 0x9f) return true;
  if (cp >= 0xd800 && cp <= 0xdfff) return true; // lone surrogate (paired ones arrive as one code point)
  if (cp === 0xfeff || cp === 0xfffe || cp === 0xffff) return true;
  return false;
}

const SHORT_ESCAPES: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x0a: '\\n', 0x09: '\\t', 0x0d: '\\r', 0x00: '\\0', 0x08: '\\b', 0x0c: '\\f' };

function quote(s: string): string {
  let body = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (!needsEscape(cp)) body += ch;
    else if (SHORT_ESCAPES[cp] !== undefined) body += SHORT_ESCAPES[cp];
    else body += cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  }
  return `"${body}"`;
}

function scalar(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`toYaml: expected finite numbers, received ${v}`);
    return String(v);
  }
  if (typeof v === 'string') return PLAIN.test(v) && !RESERVED.test(v) ? v : quote(v);
  throw new TypeError(`toYaml: cannot write a value of type ${typeof v}`);
}

const isBlock = (v: unknown): boolean => (Array.isArray(v) && v.length > 0) || (isRec(v) && Object.values(v).some((x) => x !== undefined));

function emit(v: unknown, indent: string): string[] {
  if (Array.isArray(v)) {
    return v.flatMap((item: unknown) => {
      if (isBlock(item) && isRec(item)) {
        // "- " then the mapping's first line; the rest indented under it.
        const lines = emit(item, `${indent}  `);
        return [`${indent}- ${lines[0].slice(indent.length + 2)}`, ...lines.slice(1)];
      }
      if (isBlock(item)) return [`${indent}-`, ...emit(item, `${indent}  `)];
      return [`${indent}- ${inline(item)}`];
    });
  }
  if (isRec(v)) {
    return Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .flatMap(([k, x]) => (isBlock(x) ? [`${indent}${scalar(k)}:`, ...emit(x, `${indent}  `)] : [`${indent}${scalar(k)}: ${inline(x)}`]));
  }
  return [`${indent}${scalar(v)}`];
}

function inline(v: unknown): string {
  if (Array.isArray(v)) return '[]';
  if (isRec(v)) return '{}';
  return scalar(v);
}

/**
 * The documents as one multi-document YAML stream: each document in block style, keys in the order
 * of the objects, separated by `---` lines, ending in a newline (an empty list gives ""). Written by
 * hand, so the export needs no YAML library at run time: strings are plain only when they start with
 * a letter or `_`, hold nothing but word characters, `.`, `/`, `-` and single spaces, and are not
 * words YAML would read as booleans or null; every other string is double-quoted with escapes, so
 * "10", "1M", "2026-01" and JSON annotations stay strings. Numbers must be finite.
 */
export function toYaml(docs: OpenSloDocument[]): string {
  return docs.map((d) => `${emit(d, '').join('\n')}\n`).join('---\n');
}
