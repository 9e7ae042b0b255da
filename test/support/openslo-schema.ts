/**
 * Checks OpenSLO v1 documents in the tests: against this project's own JSON Schema of the v1 kinds
 * the export emits (test/fixtures/openslo-v1.schema.json, written from the OpenSLO v1
 * specification; see its `$comment` and docs/decisions.md), then against the rules across
 * documents that a schema of one document cannot state (unique names, references that resolve, a
 * threshold-metric SLI's one objective). The export itself carries no validator: what it writes is
 * the tests' business.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';

/** Where the schema lives, for a test that wants to read it. */
export const OPENSLO_SCHEMA_FILE = path.resolve(__dirname, '../fixtures/openslo-v1.schema.json');

// Strict mode: the schema is ours, so Ajv may refuse anything in it that it would ignore or guess;
// all but strictRequired, which would refuse the `oneOf: [{ required: [a] }, { required: [b] }]`
// that says "exactly one of a and b" (it wants each branch to list a and b under `properties`).
const ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true });
const validate = ajv.compile(JSON.parse(fs.readFileSync(OPENSLO_SCHEMA_FILE, 'utf8')) as object);

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** "SLO "x" (document 2)": how a message names its document. */
function label(doc: unknown, i: number): string {
  if (!isRec(doc)) return `document ${i}`;
  const name = isRec(doc.metadata) ? JSON.stringify(doc.metadata.name) : 'without metadata';
  return `${typeof doc.kind === 'string' ? doc.kind : 'document'} ${name} (document ${i})`;
}

// `if` and `allOf` only say that something below failed, and the error below says what. So do
// `oneOf`, `anyOf` and `propertyNames` when a branch's error is there; alone (both branches of a
// `oneOf` pass, say), they are the message.
const WRAPPER_KEYWORDS = new Set(['if', 'allOf']);
const SUMMARY_KEYWORDS = new Set(['oneOf', 'anyOf', 'propertyNames']);
const show = (e: ErrorObject): string => `${e.instancePath || '/'}${e.propertyName !== undefined ? ` property name ${JSON.stringify(e.propertyName)}` : ''} ${e.message ?? e.keyword}`;

/**
 * Problems of each document against the project's OpenSLO v1 schema, as "<kind> "<name>"
 * (document i): <JSON pointer> <Ajv message>" (a bad map key adds `property name "<key>"` after
 * the pointer); [] when every document passes.
 */
export function openSloSchemaProblems(docs: readonly unknown[]): string[] {
  return docs.flatMap((doc, i) => {
    // Through a boolean: Ajv's validator is a type guard, which would narrow `doc` to never below.
    const valid: boolean = validate(doc);
    if (valid) return [];
    const errors = (validate.errors ?? []).filter((e) => !WRAPPER_KEYWORDS.has(e.keyword));
    const shown = errors.filter((e) => !SUMMARY_KEYWORDS.has(e.keyword));
    return [...new Set((shown.length ? shown : errors).map(show))].map((m) => `${label(doc, i)}: ${m}`);
  });
}

/**
 * What one document's schema cannot check: every `metadata.name` unique within its kind; an SLO's
 * `spec.service` names a Service of the set and its `indicatorRef` an SLI of the set; an SLO whose
 * referenced SLI is a threshold metric has one objective, with `op` and `value` (the schema checks
 * this for an inline indicator). The name's form (an RFC 1123 label) is the schema's.
 */
export function openSloSetProblems(docs: readonly unknown[]): string[] {
  const byKind = new Map<string, Map<string, Rec>>();
  for (const d of docs) {
    if (isRec(d) && typeof d.kind === 'string' && isRec(d.metadata) && typeof d.metadata.name === 'string' && !byKind.get(d.kind)?.has(d.metadata.name)) {
      byKind.set(d.kind, (byKind.get(d.kind) ?? new Map<string, Rec>()).set(d.metadata.name, d));
    }
  }
  const find = (kind: string, name: unknown): Rec | undefined => (typeof name === 'string' ? byKind.get(kind)?.get(name) : undefined);
  const seen = new Set<string>();
  return docs.flatMap((d, i) => {
    if (!isRec(d) || typeof d.kind !== 'string' || !isRec(d.metadata)) return [];
    const out: string[] = [];
    const name = d.metadata.name;
    // Unique per kind: references say which kind they mean, so a Service and an SLO may share one.
    if (typeof name === 'string') {
      if (seen.has(`${d.kind}/${name}`)) out.push(`metadata.name: expected a name unique among the ${d.kind} documents, received ${JSON.stringify(name)} again`);
      else seen.add(`${d.kind}/${name}`);
    }
    if (d.kind === 'SLO' && isRec(d.spec)) {
      if (!find('Service', d.spec.service)) out.push(`spec.service: expected the name of a Service among the documents, received ${JSON.stringify(d.spec.service)}`);
      const ref = d.spec.indicatorRef;
      if (ref !== undefined) {
        const sli = find('SLI', ref);
        if (!sli) out.push(`spec.indicatorRef: expected the name of an SLI among the documents, received ${JSON.stringify(ref)}`);
        else if (isRec(sli.spec) && sli.spec.thresholdMetric !== undefined && Array.isArray(d.spec.objectives)) {
          const objectives: unknown[] = d.spec.objectives;
          if (objectives.length > 1) out.push(`spec.objectives: expected one objective for the threshold metric of SLI ${JSON.stringify(ref)}, received ${objectives.length}`);
          objectives.forEach((o, k) => {
            for (const field of ['op', 'value']) {
              if (isRec(o) && o[field] === undefined) out.push(`spec.objectives[${k}].${field}: expected for the threshold metric of SLI ${JSON.stringify(ref)}, missing`);
            }
          });
        }
      }
    }
    return out.map((m) => `${label(d, i)}: ${m}`);
  });
}
