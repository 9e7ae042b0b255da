import fc from 'fast-check';
import { getVariableValues, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { inputProblem } from '../../src/http/query-limits';
import { fastHandoffInput } from '../../src/modules/handoffs/handoff.fast-input';
import { buildApiSchema } from '../../src/schema';

/*
 * The one pass of src/modules/handoffs/handoff.fast-input.ts against what it stands in for: the
 * gate's value check and graphql-js's coercion of the variable. Whatever it takes, they take too
 * and coerce to the same value; whatever they refuse, it leaves to them (null).
 */
const schema = buildApiSchema();
const document = parse('mutation($input: RecordHandoffEventsInput!) { recordHandoffEvents(input: $input) { batch { received } } }');
const operation = document.definitions[0] as OperationDefinitionNode;

/**
 * The input as the gate and graphql-js make it, or null when either refuses it; its `Date`s as
 * epoch milliseconds, as the one pass hands them to the service (absent fields stay absent).
 */
function byGraphqlJs(value: unknown): unknown {
  const variables = { input: value };
  if (inputProblem(document, variables)) return null;
  const { coerced, errors } = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
  if (errors) return null;
  const input = coerced.input as { source: string; events: Array<Record<string, unknown>> };
  return { ...input, events: input.events.map((e) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v instanceof Date ? v.getTime() : v]))) };
}

const instant = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59.999Z'), noInvalidDate: true });
const validInstant = fc.oneof(
  instant.map((d) => d.toISOString()),
  instant.map((d) => `${d.toISOString().slice(0, 19)}Z`),
);
/** Instants graphql-js reads otherwise or refuses: other zones and precisions, outside 2000–2099, not instants, not strings. */
const otherInstant = fc.oneof(
  instant.map((d) => d.toISOString().replace('Z', '+00:00')),
  instant.map((d) => d.toISOString().replace('T', 't')),
  instant.map((d) => d.toISOString().replace('Z', '123Z')),
  fc.constantFrom('1999-12-31T23:59:59Z', '2100-01-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-05-01', '', 'now', '2026-05-01T24:00:00Z'),
  fc.integer(),
  fc.boolean(),
);
const text = fc.oneof(
  { arbitrary: fc.string({ maxLength: 30 }), weight: 10 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 8 }), weight: 4 },
  // Not storable text (the gate refuses them), and an emoji (a surrogate pair, storable).
  { arbitrary: fc.constantFrom('a\u0000b', '\ud800', '\udc00x', '\ud83d\ude00'), weight: 1 },
);
const longText = fc.constant('x'.repeat(20_001));
const notText = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant([]), fc.constant({}));

const nonFinite = fc.constantFrom(Number.NaN, Infinity, -Infinity);
/** Each field of an event: values its type takes, and others (refused, or read otherwise, by graphql-js or the gate). */
const FIELDS = {
  externalId: { valid: text, other: fc.oneof(notText, longText) },
  agreementId: { valid: fc.uuid(), other: fc.oneof(fc.integer(), fc.double(), fc.boolean(), longText) },
  stage: { valid: text, other: notText },
  handedOffAt: { valid: validInstant, other: otherInstant },
  respondedAt: { valid: validInstant, other: otherInstant },
  acceptedAt: { valid: validInstant, other: otherInstant },
  rejectedAt: { valid: validInstant, other: otherInstant },
  rejectionReason: { valid: text, other: fc.oneof(notText, longText) },
  convertedAt: { valid: validInstant, other: otherInstant },
  qualityScore: { valid: fc.double({ min: -1e6, max: 1e6, noNaN: true }), other: fc.oneof(fc.constant('5'), nonFinite, fc.boolean()) },
} as const;
const REQUIRED = new Set(['externalId', 'agreementId', 'stage', 'handedOffAt']);
type Name = keyof typeof FIELDS;
const NAMES = Object.keys(FIELDS) as Name[];

/** A valid event as JSON.parse makes it: the optional fields valid, null or absent. */
const validEvent = fc
  .record(Object.fromEntries(NAMES.map((n) => [n, REQUIRED.has(n) ? FIELDS[n].valid : fc.oneof(FIELDS[n].valid, fc.constant(null), fc.constant(undefined))])) as Record<Name, fc.Arbitrary<unknown>>)
  .map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)));

/** One change that may make an event invalid: a field set to another value, to null, removed, or a key the type lacks. */
const edit = fc.oneof(
  fc.constantFrom(...NAMES).chain((n) => FIELDS[n].other.map((value) => ({ field: n as string, value }))),
  fc.constantFrom(...NAMES).map((n) => ({ field: n as string, value: null })),
  fc.constantFrom(...NAMES).map((n) => ({ field: n as string, value: undefined })),
  fc.constantFrom('extra', '__proto__', 'constructor', 'ExternalId').map((field) => ({ field, value: 1 })),
);

/** Valid events with up to two changes: as JSON.parse makes them (an own `__proto__` key is an own key). */
const events = fc.tuple(fc.array(validEvent, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), edit), { maxLength: 2 })).map(([list, edits]) => {
  const out = list.map((e) => ({ ...e }) as Record<string, unknown>);
  for (const [at, { field, value }] of edits) {
    const e = out[at % out.length];
    if (value === undefined) delete e[field];
    else if (field === '__proto__') Object.defineProperty(e, field, { value, enumerable: true, writable: true, configurable: true });
    else e[field] = value;
  }
  return out;
});

const batch = fc.oneof(
  { arbitrary: fc.record({ source: text, events }), weight: 10 },
  { arbitrary: fc.record({ source: fc.oneof(notText, longText, fc.constant(null)), events }), weight: 1 },
  // No event, one event not in a list (graphql-js makes it a list of one), a list of something else, a missing or extra field.
  { arbitrary: fc.record({ source: text, events: fc.constant([]) }), weight: 1 },
  { arbitrary: fc.record({ source: text, events: validEvent }), weight: 1 },
  { arbitrary: fc.record({ source: text, events: fc.array(fc.oneof(fc.constant(null), fc.integer(), fc.constant([])), { minLength: 1, maxLength: 2 }) }), weight: 1 },
  { arbitrary: fc.record({ source: text }), weight: 1 },
  { arbitrary: fc.record({ source: text, events: fc.constant([]), more: fc.constant(1) }), weight: 1 },
  { arbitrary: fc.oneof(fc.constant(null), fc.constant([]), fc.string()), weight: 1 },
);

/** Text the gate lets through: no NUL, no surrogate at all (so none alone). */
const storable = (s: string) => !s.includes('\u0000') && !/[\ud800-\udfff]/.test(s);

describe('recordHandoffEvents’ input read in one pass (issue 19)', () => {
  it('takes only what the gate and graphql-js take, as the same value; steps aside from everything else', () => {
    let taken = 0;
    let refused = 0;
    fc.assert(
      fc.property(batch, (value) => {
        const fast = fastHandoffInput(value);
        const reference = byGraphqlJs(value);
        if (fast !== null) {
          taken++;
          expect(fast).toStrictEqual(reference);
        } else if (reference === null) {
          refused++;
        }
      }),
      { numRuns: 3000 },
    );
    // Both kinds were generated in numbers (the property is not vacuous).
    expect(taken).toBeGreaterThan(400);
    expect(refused).toBeGreaterThan(1000);
  });

  it('takes every plainly valid batch, and a full one of 5,000 events but not 5,001', () => {
    const valid = fc.record(
      {
        externalId: fc.string({ minLength: 1, maxLength: 30 }).filter(storable),
        agreementId: fc.uuid(),
        stage: fc.constantFrom('lead', 'opportunity'),
        handedOffAt: validInstant,
        respondedAt: fc.option(validInstant),
        acceptedAt: fc.option(validInstant),
        rejectionReason: fc.option(fc.string({ maxLength: 20 }).filter(storable)),
        qualityScore: fc.option(fc.double({ min: 0, max: 100, noNaN: true })),
      },
      { requiredKeys: ['externalId', 'agreementId', 'stage', 'handedOffAt'] },
    );
    fc.assert(
      fc.property(fc.array(valid, { maxLength: 10 }), (events) => {
        const input = { source: 'crm', events };
        expect(fastHandoffInput(input)).toStrictEqual(byGraphqlJs(input));
      }),
      { numRuns: 500 },
    );
    const one = { externalId: 'e', agreementId: '7d3c1a4e-0000-4000-8000-000000000001', stage: 'lead', handedOffAt: '2026-03-02T10:00:00Z' };
    const full = fastHandoffInput({ source: 'crm', events: Array.from({ length: 5000 }, () => one) });
    expect(full?.events).toHaveLength(5000);
    expect(full?.events[4999].handedOffAt).toBe(Date.parse('2026-03-02T10:00:00Z'));
    expect(fastHandoffInput({ source: 'crm', events: Array.from({ length: 5001 }, () => one) })).toBeNull();
  });
});
