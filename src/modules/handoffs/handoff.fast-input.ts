/*
 * The input of `recordHandoffEvents` read straight from the request's JSON variables (issue 19,
 * ingest at 50,000 events a second): one pass over the 5,000 events that does what the gate's
 * value check (`inputProblem`), graphql-js's variable coercion (twice: the cost estimate and
 * execution) and type-graphql's conversion into input classes did, for a batch where none of them
 * finds anything to say. src/http/ingest-execution.ts calls it; whenever it returns null, graphql-js
 * coerces the variables as before and reports every problem with the same error.
 */
import type { Context } from '../../common/context';
import { END_INSTANT, FIRST_INSTANT, MAX_LIST_LENGTH, MAX_STRING_LENGTH, textProblem } from '../../common/bounds';
import { canonicalMillis } from '../../common/scalars';
import type { HandoffEventInput, RecordHandoffEventsInput } from './handoff.inputs';
import type { HandoffEventMillis, HandoffEventsMillis } from './handoff.service';

/** How a field of `HandoffEventInput` is read, as its GraphQL type reads it. */
type FieldType = 'String!' | 'ID!' | 'DateTime!' | 'DateTime' | 'String' | 'Float';

/**
 * The fields of `HandoffEventInput` and their GraphQL types, and those of `RecordHandoffEventsInput`:
 * src/http/ingest-execution.ts compares them with the schema's and steps aside if they differ.
 */
export const EVENT_FIELDS: Readonly<Record<keyof HandoffEventInput, FieldType>> = {
  externalId: 'String!',
  agreementId: 'ID!',
  stage: 'String!',
  handedOffAt: 'DateTime!',
  respondedAt: 'DateTime',
  acceptedAt: 'DateTime',
  rejectedAt: 'DateTime',
  rejectionReason: 'String',
  convertedAt: 'DateTime',
  qualityScore: 'Float',
};
export const BATCH_FIELDS: Readonly<Record<keyof RecordHandoffEventsInput, string>> = { source: 'String!', events: '[HandoffEventInput!]!' };

/** Marks a value this pass does not take: graphql-js reads the request instead. */
const DOUBT = Symbol('doubt');

/** The characters that may make a string unstorable (NUL, surrogates): only such strings need {@link textProblem}. */
// eslint-disable-next-line no-control-regex -- NUL is one of them.
const SUSPECT = /[\u0000\ud800-\udfff]/;

/** A string as `String` coerces it, and as the gate's value check lets it through; else DOUBT. */
function text(v: unknown): string | typeof DOUBT {
  if (typeof v !== 'string' || v.length > MAX_STRING_LENGTH) return DOUBT;
  if (SUSPECT.test(v) && textProblem(v) !== null) return DOUBT;
  return v;
}

const FIRST = FIRST_INSTANT.getTime();
const END = END_INSTANT.getTime();

/**
 * An instant in the canonical UTC form, from 2000 to 2099 (`instantProblem`'s range), as `DateTime`
 * coerces it, in epoch milliseconds; else DOUBT.
 */
function instant(v: unknown): number | typeof DOUBT {
  // A canonical string is digits and separators: storable text, far under the length bound.
  const t = canonicalMillis(v);
  return t === null || !(t >= FIRST && t < END) ? DOUBT : t;
}

/** One event as graphql-js and type-graphql would hand it to the resolver (absent fields absent), its instants in epoch milliseconds; or DOUBT. */
function event(v: unknown): HandoffEventMillis | typeof DOUBT {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return DOUBT;
  const out: Partial<Record<keyof HandoffEventInput, unknown>> = {};
  let required = 0;
  for (const key of Object.keys(v)) {
    const value = (v as Record<string, unknown>)[key];
    let read: unknown;
    switch (key) {
      case 'externalId':
      case 'agreementId':
      case 'stage':
        // `ID` also takes an integer (as its decimal string): graphql-js reads that one.
        read = text(value);
        required++;
        break;
      case 'handedOffAt':
        read = instant(value);
        required++;
        break;
      case 'respondedAt':
      case 'acceptedAt':
      case 'rejectedAt':
      case 'convertedAt':
        read = value === null ? null : instant(value);
        break;
      case 'rejectionReason':
        read = value === null ? null : text(value);
        break;
      case 'qualityScore':
        read = value === null || (typeof value === 'number' && Number.isFinite(value)) ? value : DOUBT;
        break;
      default:
        // A field the type does not have (graphql-js refuses it).
        return DOUBT;
    }
    if (read === DOUBT) return DOUBT;
    out[key] = read;
  }
  // A required field missing (JSON has no duplicate keys once parsed, so four means all four).
  return required === 4 ? (out as HandoffEventMillis) : DOUBT;
}

/**
 * The coerced `RecordHandoffEventsInput` of a request's variable value (parsed JSON), or null when
 * anything about it is not plainly valid: a missing, extra, null or mistyped field, an ID sent as a
 * number, an instant not in the canonical UTC form or outside 2000–2099, a string that is not
 * storable text or over the length bound, more than {@link MAX_LIST_LENGTH} events. Instants become
 * epoch milliseconds, those of the `Date`s the `DateTime` scalar makes (`inMillis` of the resolver's
 * input), without a `Date` each; nothing else is changed (the service trims and checks the rest).
 */
export function fastHandoffInput(value: unknown): HandoffEventsMillis | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const keys = Object.keys(value);
  const raw = value as Record<string, unknown>;
  if (keys.length !== 2 || !Object.hasOwn(raw, 'source') || !Object.hasOwn(raw, 'events')) return null;
  const source = text(raw.source);
  const list = raw.events;
  if (source === DOUBT || !Array.isArray(list) || list.length > MAX_LIST_LENGTH) return null;
  const events = new Array<HandoffEventMillis>(list.length);
  for (let i = 0; i < list.length; i++) {
    const e = event(list[i]);
    if (e === DOUBT) return null;
    events[i] = e;
  }
  return { source, events };
}

/**
 * What the fast path's run of a request ended with when it does not answer it itself (an error, or
 * a payload its writer stepped aside from): graphql-js then executes the request, and the resolver
 * hands over this outcome instead of running the ingest a second time.
 */
export type Outcome = { error: unknown } | { payload: unknown };
const outcomes = new WeakMap<Context, Outcome>();

export function keepOutcome(ctx: Context, outcome: Outcome): void {
  outcomes.set(ctx, outcome);
}

/** The outcome kept for this request, taken (the mutation is the request's one root field). */
export function takeOutcome(ctx: Context): Outcome | undefined {
  const outcome = outcomes.get(ctx);
  outcomes.delete(ctx);
  return outcome;
}
