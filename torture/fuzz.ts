/*
 * A fuzzer of malformed and hostile requests, generated from schema.graphql (so a new field or
 * argument is fuzzed without anyone remembering to):
 *
 *   - every Query and Mutation field, and every field with arguments on the object types below
 *     them (reached by the shortest path from a root field), gets operations with valid base
 *     arguments (real ids of the demo company) where one leaf of the arguments at a time is
 *     replaced by a hostile value of its type (strings: NUL, lone surrogate, 50,000 chars, …;
 *     Month: "9999-12", "0000-01", "2026-13"; DateTime: year 9999, year 0, 2600; Int: -1, 0,
 *     2^31-1; Float: 1e308, -0; ID: malformed; cursors: forged and from another list; lists:
 *     empty and oversized; null), plus values drawn by fast-check;
 *   - each sent with variables and with literals as ADMIN, and with variables as ANALYST, HEAD
 *     and INTEGRATION;
 *   - plus malformed HTTP: bad JSON, wrong content types, huge bodies, batches, subscriptions,
 *     hostile X-Clock-Now, hostile export windows.
 *
 * Pass rule: no reply with HTTP 5xx or extensions.code INTERNAL, every request answered within
 * the client timeout, and /healthz answering within 1 s throughout (sampled in parallel). When a
 * request times out, everything pauses; if the server is frozen or dead it is restarted, and each
 * request that timed out is sent again alone, so a failure names the request that caused it.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from 'graphql';
import {
  type Context,
  errorCodes,
  fmt,
  gql,
  gqlData,
  healthSampler,
  type Outcome,
  request,
  rng,
  ROOT,
  type Scenario,
  type ServerProc,
  sleep,
  startPgDemo,
  startServer,
  startSqliteDemo,
  truncate,
} from './lib';

const TIMEOUT_MS = 5000;
const CONCURRENCY = 12;

// ---------------------------------------------------------------------------------------------
// Values

/** Sentinels replaced in the JSON text, for numbers JSON.stringify cannot write. */
const NEG_ZERO = '__torture_neg_zero__';
const INF_LITERAL = '__torture_1e999__';

interface Hostile {
  label: string;
  value: unknown;
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');

function forgedCursors(): Hostile[] {
  const kinds: Array<[string, string]> = [
    ['1e999', '1e999'],
    ['-1e999', '-1e999'],
    ['1e20', '1e20'],
    ['date 9999', '{"d":"9999-12-31T23:59:59.999Z"}'],
    ['date year 0', '{"d":"0000-01-01T00:00:00Z"}'],
    ['date +275760', '{"d":"+275760-09-13T00:00:00.000Z"}'],
    ['NUL string', '"\\u0000"'],
  ];
  const out: Hostile[] = [];
  for (const [label, v] of kinds) for (let arity = 1; arity <= 3; arity++) out.push({ label: `cursor [${Array(arity).fill(label).join(',')}]`, value: b64(`[${Array(arity).fill(v).join(',')}]`) });
  out.push({ label: 'cursor base64("1e999")', value: b64('1e999') });
  out.push({ label: `cursor base64('{"w":1e20}')`, value: b64('{"w":1e20}') });
  out.push({ label: 'cursor [{"$ne":null},"x"]', value: b64('[{"$ne":null},"x"]') });
  out.push({ label: 'cursor not base64', value: '!!not base64!!' });
  out.push({ label: 'cursor of 50,000 chars', value: 'A'.repeat(50_000) });
  return out;
}

function hostileFor(scalar: string, fieldName: string): Hostile[] {
  switch (scalar) {
    case 'String':
      if (fieldName === 'after') return [...forgedCursors(), { label: 'empty string', value: '' }];
      return [
        { label: 'empty string', value: '' },
        { label: 'NUL byte', value: 'a\u0000b' },
        { label: 'lone surrogate \\ud800', value: 'a\ud800b' },
        { label: '50,000 chars', value: 'x'.repeat(50_000) },
        { label: 'unicode (RTL override, emoji, combining)', value: '\u202e𝕏💥e\u0301ﷺ' },
        { label: 'SQL/LIKE metacharacters', value: "%_\\'; drop table department; --" },
      ];
    case 'Month':
      return ['9999-12', '0000-01', '2026-13', '2026-00', '2026-1', '-001-01', '+10000-01', ''].map((v) => ({ label: JSON.stringify(v), value: v }));
    case 'DateTime':
      return ['9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z', '2600-12-31T23:59:59Z', '1970-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', 'not a date'].map((v) => ({
        label: JSON.stringify(v),
        value: v,
      }));
    case 'Int':
      return [
        { label: '-1', value: -1 },
        { label: '0', value: 0 },
        { label: '2^31-1', value: 2147483647 },
        { label: '-2^31', value: -2147483648 },
        { label: '2^31 (not an Int)', value: 2147483648 },
        { label: '1e999', value: INF_LITERAL },
      ];
    case 'Float':
      return [
        { label: '1e308', value: 1e308 },
        { label: '-1e308', value: -1e308 },
        { label: '-0', value: NEG_ZERO },
        { label: '5e-324', value: 5e-324 },
        { label: '1e999', value: INF_LITERAL },
      ];
    case 'ID':
      return [
        { label: 'empty id', value: '' },
        { label: 'not a uuid', value: 'not-a-uuid' },
        { label: 'nil uuid', value: '00000000-0000-0000-0000-000000000000' },
        { label: 'NUL in id', value: '\u0000' },
        { label: 'id of 50,000 chars', value: 'f'.repeat(50_000) },
        { label: 'cursor as id', value: b64('[1e999]') },
      ];
    case 'Boolean':
      return [
        { label: 'true', value: true },
        { label: 'false', value: false },
      ];
    case 'JSONObject':
      return [{ label: 'deep object', value: JSON.parse('{"a":'.repeat(200) + '1' + '}'.repeat(200)) }];
    default:
      return [{ label: 'string for custom scalar', value: 'x' }];
  }
}

function randomFor(scalar: string, seed: number, n: number): Hostile[] {
  const arb: fc.Arbitrary<unknown> | null =
    scalar === 'String' || scalar === 'ID'
      ? fc.string({ unit: 'binary', maxLength: 40 })
      : scalar === 'Int'
        ? fc.integer({ min: -2147483648, max: 2147483647 })
        : scalar === 'Float'
          ? fc.double({ noNaN: true, noDefaultInfinity: true })
          : scalar === 'Month'
            ? fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 })).map(([y, m]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}`)
            : scalar === 'DateTime'
              ? fc.date({ noInvalidDate: true }).map((d) => d.toISOString())
              : null;
  if (!arb || n <= 0) return [];
  return fc.sample(arb, { seed, numRuns: n }).map((v) => ({ label: `fast-check ${truncate(JSON.stringify(v), 40)}`, value: v }));
}

// ---------------------------------------------------------------------------------------------
// Base (valid) values from the demo company

interface Pools {
  ids: Record<string, string[]>;
  /** The endCursor of each list, by list: "a cursor taken from another list". */
  cursors: Record<string, string>;
  keys: string[];
}

async function collectPools(url: string, admin: string, exclude: Set<string>): Promise<Pools> {
  const d = await gqlData<Record<string, { edges: Array<{ node: Record<string, unknown> }>; pageInfo: { endCursor: string | null } }>>(
    url,
    admin,
    `{
      departments(first: 20) { edges { node { id } } pageInfo { endCursor } }
      agreements(first: 20) { edges { node { id key versions { id objectives { id } } amendments { id } exclusions { id } reports { id } } } pageInfo { endCursor } }
      services(first: 20) { edges { node { id } } pageInfo { endCursor } }
      metrics(first: 20) { edges { node { id } } pageInfo { endCursor } }
      users(first: 50, filter: { includeDeactivated: true }) { edges { node { id tokens { id } } } pageInfo { endCursor } }
      escalations(first: 20) { edges { node { id } } pageInfo { endCursor } }
      reports(first: 20) { edges { node { id } } pageInfo { endCursor } }
      auditLog(first: 5) { edges { node { id } } pageInfo { endCursor } }
      handoffEvents(first: 5) { edges { node { id } } pageInfo { endCursor } }
    }`,
  );
  const nodes = (k: string) => d[k].edges.map((e) => e.node);
  const agreements = nodes('agreements') as Array<{
    id: string;
    key: string;
    versions: Array<{ objectives: Array<{ id: string }> }>;
    amendments: Array<{ id: string }>;
    exclusions: Array<{ id: string }>;
    reports: Array<{ id: string }>;
  }>;
  const users = (nodes('users') as Array<{ id: string; tokens: Array<{ id: string }> }>).filter((u) => !exclude.has(u.id));
  const ids: Record<string, string[]> = {
    department: nodes('departments').map((n) => n.id as string),
    agreement: agreements.map((a) => a.id),
    service: nodes('services').map((n) => n.id as string),
    metric: nodes('metrics').map((n) => n.id as string),
    user: users.map((u) => u.id),
    token: users.flatMap((u) => u.tokens.map((t) => t.id)),
    escalation: nodes('escalations').map((n) => n.id as string),
    report: nodes('reports')
      .map((n) => n.id as string)
      .concat(agreements.flatMap((a) => a.reports.map((r) => r.id))),
    objective: agreements.flatMap((a) => a.versions.flatMap((v) => v.objectives.map((o) => o.id))),
    amendment: agreements.flatMap((a) => a.amendments.map((m) => m.id)),
    exclusion: agreements.flatMap((a) => a.exclusions.map((x) => x.id)),
    event: nodes('handoffEvents').map((n) => n.id as string),
  };
  const cursors = Object.fromEntries(
    Object.entries(d)
      .filter(([, c]) => c.pageInfo.endCursor)
      .map(([k, c]) => [k, c.pageInfo.endCursor as string]),
  );
  return { ids, cursors, keys: agreements.map((a) => a.key) };
}

/** Which pool an ID argument draws from, by its name and where it sits. */
function idKind(name: string, owner: string): string {
  const o = owner.toLowerCase();
  if (name === 'parentId') return o.includes('agreement') ? 'agreement' : 'department';
  if (/^(departmentId|providerId|customerId|from|to|entityId)$/.test(name)) return 'department';
  if (name === 'actorUserId' || name === 'userId') return 'user';
  if (name === 'removeObjectives') return 'metric';
  const stem = name.replace(/Ids?$/, '');
  if (stem !== name && stem) return stem.toLowerCase();
  // `id`: by the input or the field that holds it
  for (const [needle, kind] of [
    ['amendment', 'amendment'],
    ['escalation', 'escalation'],
    ['apitoken', 'token'],
    ['agreement', 'agreement'],
    ['department', 'department'],
    ['archive', 'department'],
    ['service', 'service'],
    ['metric', 'metric'],
    ['user', 'user'],
    ['report', 'report'],
    ['exclusion', 'exclusion'],
  ] as const) {
    if (o.includes(needle)) return kind;
  }
  return 'department';
}

let unique = 0;

function baseScalar(scalar: string, name: string, owner: string, pools: Pools, pick: () => number): unknown {
  const from = (list: string[] | undefined) => (list?.length ? list[Math.floor(pick() * list.length)] : '00000000-0000-0000-0000-000000000000');
  switch (scalar) {
    case 'ID':
      return from(pools.ids[idKind(name, owner)]);
    case 'Month':
      return '2026-06';
    case 'DateTime':
      return owner.startsWith('CreateApiToken') ? '2030-01-01T00:00:00Z' : '2026-06-15T10:00:00Z';
    case 'Int':
      if (name === 'first') return 2;
      if (name === 'reportDueWorkingDays') return 5;
      if (name === 'reviewCadenceMonths') return 12;
      return 1;
    case 'Float':
      if (name === 'complianceTarget') return 0.9;
      return 1;
    case 'Boolean':
      return name === 'active' ? true : false;
    case 'JSONObject':
      return {};
    case 'String': {
      if (name === 'after') return null;
      if (name === 'code') return `FZ${++unique}`;
      if (name === 'key') return owner === 'Query' ? (pools.keys[0] ?? 'IT-SALES-CRM') : `FZ-${++unique}`;
      if (name === 'email') return `fuzz${++unique}@example.com`;
      if (name === 'timeZone') return 'Europe/Berlin';
      if (name === 'dayStart') return '09:00';
      if (name === 'dayEnd') return '17:00';
      if (name === 'party') return 'PROVIDER';
      if (name === 'nextReviewDate' || name === 'holidays') return '2027-01-04';
      if (name === 'evidenceUrl') return 'https://example.com/evidence';
      if (name === 'status') return 'ACTIVE';
      if (name === 'entityType') return 'Department';
      if (name === 'provider' || name === 'customer') return 'IT';
      if (name === 'idempotencyKey') return `fz-${++unique}`;
      return 'fuzz';
    }
    default:
      return 'x';
  }
}

function baseValue(type: GraphQLInputType, name: string, owner: string, pools: Pools, pick: () => number, depth = 0): unknown {
  if (isNonNullType(type)) return baseValue(type.ofType, name, owner, pools, pick, depth);
  if (isListType(type)) {
    if (name === 'workingDays') return [1, 2, 3, 4, 5];
    return [baseValue(type.ofType, name, owner, pools, pick, depth + 1)];
  }
  if (isEnumType(type)) return type.getValues()[0].value;
  if (isInputObjectType(type)) {
    const out: Record<string, unknown> = {};
    for (const f of Object.values(type.getFields())) {
      // Filters: only what is required, so the base lists rows and each fuzzed field filters alone.
      if ((depth > 4 || type.name.endsWith('Filter')) && !isNonNullType(f.type)) continue;
      out[f.name] = baseValue(f.type, f.name, type.name, pools, pick, depth + 1);
    }
    return out;
  }
  if (isScalarType(type)) return baseScalar(type.name, name, owner, pools, pick);
  return null;
}

// ---------------------------------------------------------------------------------------------
// Leaves of the arguments, and one hostile value at a time

type Step = string | number;

interface Variant {
  /** e.g. `input.terms.calendar.holidays[0]` */
  path: string;
  label: string;
  apply(args: Record<string, unknown>): void;
  /** Null for a non-null type: refused by GraphQL itself; only sent once, as variables. */
  cheap?: boolean;
}

/** Sets a leaf, creating the objects and lists on the way that the base left out (optional filters). */
function setAt(root: Record<string, unknown>, steps: Step[], value: unknown): void {
  let cur = root as Record<string | number, unknown>;
  for (let i = 0; i < steps.length - 1; i++) {
    const next = cur[steps[i]];
    if (next === undefined || next === null) cur[steps[i]] = typeof steps[i + 1] === 'number' ? [] : {};
    cur = cur[steps[i]] as Record<string | number, unknown>;
  }
  cur[steps[steps.length - 1]] = value;
}

function getAt(root: Record<string, unknown>, steps: Step[]): unknown {
  let cur: unknown = root;
  for (const s of steps) cur = cur === undefined || cur === null ? undefined : (cur as Record<string | number, unknown>)[s];
  return cur;
}

function pathText(steps: Step[]): string {
  return steps.map((s, i) => (typeof s === 'number' ? `[${s}]` : i ? `.${s}` : s)).join('');
}

function variantsFor(type: GraphQLInputType, steps: Step[], name: string, seed: number, randoms: number, out: Variant[], depth = 0): void {
  const p = pathText(steps);
  const nonNull = isNonNullType(type);
  const inner = nonNull ? type.ofType : type;
  out.push({ path: p, label: 'null', apply: (a) => setAt(a, steps, null), cheap: nonNull });
  if (isListType(inner)) {
    out.push({ path: p, label: 'empty list', apply: (a) => setAt(a, steps, []) });
    const n = isLeafType(getNamedType(inner)) ? 10_001 : 5_001;
    out.push({
      path: p,
      label: `oversized list (${fmt(n)} elements)`,
      apply: (a) => {
        const el = (getAt(a, steps) as unknown[] | undefined)?.[0] ?? '2026-06';
        setAt(
          a,
          steps,
          Array.from({ length: n }, () => el),
        );
      },
    });
    if (depth < 6) variantsFor(inner.ofType, [...steps, 0], name, seed, randoms, out, depth + 1);
    return;
  }
  if (isInputObjectType(inner)) {
    out.push({ path: p, label: 'empty object', apply: (a) => setAt(a, steps, {}) });
    if (depth < 6) for (const f of Object.values(inner.getFields())) variantsFor(f.type, [...steps, f.name], f.name, seed + f.name.length, randoms, out, depth + 1);
    return;
  }
  if (isEnumType(inner)) {
    out.push({ path: p, label: 'unknown enum value', apply: (a) => setAt(a, steps, 'NOT_A_VALUE'), cheap: true });
    for (const v of inner.getValues().slice(0, 8)) out.push({ path: p, label: v.name, apply: (a) => setAt(a, steps, v.value) });
    return;
  }
  if (isScalarType(inner)) {
    for (const h of [...hostileFor(inner.name, name), ...randomFor(inner.name, seed, randoms)]) out.push({ path: p, label: h.label, apply: (a) => setAt(a, steps, h.value) });
  }
}

// ---------------------------------------------------------------------------------------------
// Documents

/** Leaves (and one level of objects' leaves) of a type: a modest selection that stays under the cost limit. */
function selectionOf(type: GraphQLNamedType, depth = 0): string {
  if (!isObjectType(type)) return '';
  const parts: string[] = [];
  for (const f of Object.values(type.getFields())) {
    if (f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) continue;
    const named = getNamedType(f.type);
    if (isLeafType(named)) parts.push(f.name);
    else if (isObjectType(named)) {
      const connection = named.name.endsWith('Connection');
      const edge = named.name.endsWith('Edge');
      if (connection || edge || named.name === 'PageInfo') {
        const inner = selectionOf(named, depth);
        if (inner) parts.push(`${f.name} { ${inner} }`);
      } else if (depth < 1) {
        const inner = selectionOf(named, depth + 1);
        if (inner) parts.push(`${f.name} { ${inner} }`);
      }
    }
  }
  return parts.join(' ');
}

function literal(value: unknown, type: GraphQLInputType): string {
  if (value === null || value === undefined) return 'null';
  if (isNonNullType(type)) return literal(value, type.ofType);
  if (isListType(type)) return Array.isArray(value) ? `[${value.map((v) => literal(v, type.ofType)).join(', ')}]` : literal(value, type.ofType);
  if (isEnumType(type)) return typeof value === 'string' && /^[_A-Za-z][_0-9A-Za-z]*$/.test(value) ? value : JSON.stringify(value);
  if (isInputObjectType(type)) {
    if (typeof value !== 'object') return JSON.stringify(value);
    const fields = type.getFields();
    return `{ ${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${literal(v, fields[k]?.type ?? type)}`)
      .join(', ')} }`;
  }
  if (value === NEG_ZERO) return '-0';
  if (value === INF_LITERAL) return '1e999';
  if (typeof value === 'object')
    return `{ ${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${literal(v, type)}`)
      .join(', ')} }`;
  return JSON.stringify(value);
}

/** The JSON body, with the number sentinels written as raw numbers. */
function body(query: string, variables?: Record<string, unknown>): string {
  return JSON.stringify({ query, variables }).split(`"${NEG_ZERO}"`).join('-0').split(`"${INF_LITERAL}"`).join('1e999');
}

interface PathStep {
  field: GraphQLField<unknown, unknown>;
  parent: GraphQLObjectType;
}

/** Shortest path of fields (without required arguments beyond base values) from Query to each object type. */
function pathsToTypes(schema: GraphQLSchema): Map<string, PathStep[]> {
  const query = schema.getQueryType() as GraphQLObjectType;
  const paths = new Map<string, PathStep[]>([[query.name, []]]);
  const queue: GraphQLObjectType[] = [query];
  while (queue.length) {
    const t = queue.shift() as GraphQLObjectType;
    for (const f of Object.values(t.getFields())) {
      const named = getNamedType(f.type);
      if (!isObjectType(named) || paths.has(named.name)) continue;
      paths.set(named.name, [...(paths.get(t.name) as PathStep[]), { field: f, parent: t }]);
      queue.push(named);
    }
  }
  return paths;
}

interface Case {
  /** `Query.agreements`, `Agreement.compliance`, `HTTP` */
  target: string;
  path: string;
  label: string;
  mode: 'variables' | 'literals' | 'http';
  role: string;
  /** Builds the request (fresh values each time it is sent). */
  send(url: string, tokens: Record<string, string>): Promise<Sent>;
  describe(): string;
}

interface Sent {
  status: number;
  codes: string[];
  timedOut: boolean;
  error: string | null;
  ms: number;
  reqId: string;
}

const ROLE_TOKENS: Record<string, string> = { ADMIN: 'FUZZ_ADMIN', ANALYST: 'FUZZ_ANALYST', HEAD: 'FUZZ_HEAD', INTEGRATION: 'FUZZ_INTEGRATION' };

let reqSeq = 0;

async function post(url: string, token: string | null, text: string, headers: Record<string, string> = {}, method = 'POST', pathName = '/graphql'): Promise<Sent> {
  const reqId = `fuzz-${process.pid}-${++reqSeq}`;
  const r = await request(url, {
    path: pathName,
    method,
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      'x-request-id': reqId,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: method === 'GET' || method === 'HEAD' ? undefined : text,
    timeoutMs: TIMEOUT_MS,
  });
  let codes: string[];
  try {
    const j = JSON.parse(r.text) as { errors?: Array<{ extensions?: { code?: string } }> };
    codes = (j.errors ?? []).map((e) => String(e.extensions?.code ?? 'NONE'));
  } catch {
    codes = [];
  }
  return { status: r.status, codes, timedOut: r.timedOut, error: r.error, ms: r.ms, reqId };
}

/** Every field-level case: root fields and nested fields with arguments. */
function fieldCases(schema: GraphQLSchema, pools: Pools, seed: number, randoms: number): Case[] {
  const cases: Case[] = [];
  const paths = pathsToTypes(schema);
  const targets: Array<{ type: GraphQLObjectType; field: GraphQLField<unknown, unknown>; via: PathStep[] }> = [];
  for (const t of [schema.getQueryType(), schema.getMutationType()]) if (t) for (const f of Object.values(t.getFields())) targets.push({ type: t, field: f, via: [] });
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || type === schema.getQueryType() || type === schema.getMutationType()) continue;
    const via = paths.get(type.name);
    if (!via) continue;
    for (const f of Object.values(type.getFields())) if (f.args.length) targets.push({ type, field: f, via });
  }
  let s = seed;
  for (const { type, field, via } of targets) {
    const operation = type === schema.getMutationType() ? 'mutation' : 'query';
    const pick = rng(++s);
    /** `agreement(id, key)`, `department(code, id)`: exactly one is wanted, so neither is in the base. */
    const lookup = (f: GraphQLField<unknown, unknown>) => f.args.some((a) => a.name === 'id') && f.args.some((a) => a.name === 'code' || a.name === 'key');
    const baseArgs = (): Record<string, Record<string, unknown>> => {
      // Arguments of every field along the path (by step), then of the field itself.
      const out: Record<string, Record<string, unknown>> = {};
      via.forEach((step, i) => {
        const a: Record<string, unknown> = {};
        const isLookup = lookup(step.field);
        for (const arg of step.field.args) {
          const wanted = isLookup ? arg.name === (step.field.args.some((x) => x.name === 'key') ? 'key' : 'id') : isNonNullType(arg.type) || arg.name === 'first';
          if (wanted) a[arg.name] = baseValue(arg.type, arg.name, i === 0 ? 'Query' : step.field.name, pools, pick);
        }
        if (isLookup && 'id' in a) a.id = baseValue(step.field.args.find((x) => x.name === 'id')!.type, 'id', step.field.name, pools, pick);
        out[`s${i}`] = a;
      });
      const own: Record<string, unknown> = {};
      const root = type.name === 'Query' || type.name === 'Mutation';
      for (const arg of field.args) {
        if (lookup(field) && ['id', 'code', 'key'].includes(arg.name)) continue;
        // Optional arguments (filter, after, asOf, …) are left out of the base; each variant sets its own.
        if (!isNonNullType(arg.type) && arg.name !== 'first' && !isInputObjectType(getNamedType(arg.type))) continue;
        if (!isNonNullType(arg.type) && getNamedType(arg.type).name.endsWith('Filter')) continue;
        own[arg.name] = baseValue(
          arg.type,
          arg.name,
          root ? (isInputObjectType(getNamedType(arg.type)) ? getNamedType(arg.type).name : arg.name === 'key' ? 'Query' : field.name) : type.name,
          pools,
          pick,
        );
      }
      out.own = own;
      return out;
    };
    const selection = selectionOf(getNamedType(field.type));
    const variants: Variant[] = [];
    for (const arg of field.args) variantsFor(arg.type, [arg.name], arg.name, ++s, randoms, variants);
    if (field.args.some((a) => a.name === 'after'))
      for (const [list, cursor] of Object.entries(pools.cursors)) variants.push({ path: 'after', label: `endCursor of ${list}`, apply: (a) => setAt(a, ['after'], cursor) });
    if (!field.args.length) variants.push({ path: '', label: 'no arguments', apply: () => undefined });
    const build = (v: Variant, mode: 'variables' | 'literals'): { query: string; variables: Record<string, unknown> } => {
      const args = baseArgs();
      v.apply(args.own);
      const variables: Record<string, unknown> = {};
      const defs: string[] = [];
      const argText = (step: GraphQLField<unknown, unknown>, values: Record<string, unknown>, prefix: string): string => {
        const parts: string[] = [];
        for (const a of step.args) {
          if (!(a.name in values)) continue;
          if (mode === 'variables') {
            const vn = `${prefix}${a.name}`;
            defs.push(`$${vn}: ${String(a.type)}`);
            variables[vn] = values[a.name];
            parts.push(`${a.name}: $${vn}`);
          } else parts.push(`${a.name}: ${literal(values[a.name], a.type)}`);
        }
        return parts.length ? `(${parts.join(', ')})` : '';
      };
      let inner = `${field.name}${argText(field, args.own, 'a_')}${selection ? ` { ${selection} }` : ''}`;
      for (let i = via.length - 1; i >= 0; i--) {
        const step = via[i];
        const named = getNamedType(step.field.type);
        const wrapped = named.name.endsWith('Connection') ? `edges { node { ${inner} } }` : inner;
        inner = `${step.field.name}${argText(step.field, args[`s${i}`], `p${i}_`)} { ${wrapped} }`;
      }
      const query = `${operation} Fuzz${defs.length ? `(${defs.join(', ')})` : ''} { ${inner} }`;
      return { query, variables };
    };
    const target = `${type.name}.${field.name}`;
    for (const v of variants) {
      const modes: Array<['variables' | 'literals', string]> = v.cheap
        ? [['variables', 'ADMIN']]
        : [
            ['variables', 'ADMIN'],
            ['literals', 'ADMIN'],
            ['variables', 'ANALYST'],
            ['variables', 'HEAD'],
            ['variables', 'INTEGRATION'],
          ];
      for (const [mode, role] of modes) {
        let last = '';
        cases.push({
          target,
          path: v.path,
          label: v.label,
          mode,
          role,
          async send(url, tokens) {
            const { query, variables } = build(v, mode);
            const text = body(query, mode === 'variables' ? variables : undefined);
            last = truncate(text, 400);
            return post(url, tokens[ROLE_TOKENS[role]], text);
          },
          describe: () => last,
        });
      }
    }
  }
  return cases;
}

/** Malformed and hostile HTTP: bodies, content types, sizes, methods, headers, export windows. */
function httpCases(): Case[] {
  const out: Case[] = [];
  const add = (label: string, fn: (url: string, tokens: Record<string, string>) => Promise<Sent>, text = label) =>
    out.push({ target: 'HTTP', path: '', label, mode: 'http', role: 'ANALYST', send: fn, describe: () => truncate(text, 300) });
  const raw = (label: string, text: string, headers: Record<string, string> = {}, method = 'POST', pathName = '/graphql') =>
    add(label, (url, tokens) => post(url, tokens.FUZZ_ANALYST, text, headers, method, pathName), `${method} ${pathName} ${JSON.stringify(headers)} ${text}`);
  raw('bad JSON (truncated)', '{"query": ');
  raw('bad JSON (garbage)', 'not json at all');
  raw('JSON null', 'null');
  raw('JSON string', '"{ __typename }"');
  raw('JSON number', '42');
  raw('empty body', '');
  raw('batched array', '[{"query":"{ __typename }"},{"query":"{ me { name } }"}]');
  raw('empty array', '[]');
  raw('query is a number', '{"query": 123}');
  raw('query is an object', '{"query": {"a": 1}}');
  raw('variables is a string', '{"query":"{ __typename }","variables":"x"}');
  raw('variables is an array', '{"query":"{ __typename }","variables":[1]}');
  raw('operationName is a number', '{"query":"{ __typename }","operationName":5}');
  raw('unknown operationName', '{"query":"query A { __typename }","operationName":"B"}');
  raw('persisted query hash', '{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}');
  raw('duplicate keys', '{"query":"{ __typename }","query":"{ me { name } }"}');
  raw(
    '__proto__ variables',
    '{"query":"query($i: CreateDepartmentInput!) { createDepartment(input: $i) { department { id } userErrors { code } } }","variables":{"__proto__":{"i":{"code":"PROTO","name":"x"}}}}',
  );
  raw('deeply nested JSON (100,000 levels)', `{"query":"{ __typename }","variables":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`);
  raw('subscription document', JSON.stringify({ query: 'subscription { __typename }' }));
  raw('subscription on a field', JSON.stringify({ query: 'subscription S { me { name } }' }));
  raw('subscription and query, no operationName', JSON.stringify({ query: 'subscription S { __typename } query Q { __typename }' }));
  raw('fragment cycle', JSON.stringify({ query: 'query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }' }));
  raw('1,000 directives', JSON.stringify({ query: `{ __typename ${'@skip(if: false) '.repeat(1000)} }` }));
  raw('2,000 variable definitions', JSON.stringify({ query: `query(${Array.from({ length: 2000 }, (_, i) => `$v${i}: Int`).join(', ')}) { __typename }` }));
  raw('deep nesting (query depth 200)', JSON.stringify({ query: `{ ${'departments { edges { node { children { '.repeat(50)}id${' } } } }'.repeat(50)} }` }));
  raw('introspection', JSON.stringify({ query: '{ __schema { types { name fields { name args { name type { name ofType { name ofType { name } } } } } } } }' }));
  raw('text/plain', JSON.stringify({ query: '{ __typename }' }), { 'content-type': 'text/plain' });
  raw('form urlencoded', 'query=%7B__typename%7D', { 'content-type': 'application/x-www-form-urlencoded' });
  raw('multipart', '--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query":"{ __typename }"}\r\n--x--', { 'content-type': 'multipart/form-data; boundary=x' });
  raw('application/graphql', '{ __typename }', { 'content-type': 'application/graphql' });
  raw('no content type', JSON.stringify({ query: '{ __typename }' }), { 'content-type': '' });
  raw('charset latin1', JSON.stringify({ query: '{ __typename }' }), { 'content-type': 'application/json; charset=latin1' });
  raw('accept text/html only', JSON.stringify({ query: '{ me { name } }' }), { accept: 'text/html' });
  raw('GET mutation', '', { 'apollo-require-preflight': 'true' }, 'GET', '/graphql?query=' + encodeURIComponent('mutation { revokeApiToken(input: { id: "x" }) { userErrors { code } } }'));
  raw('GET with bad variables', '', { 'apollo-require-preflight': 'true' }, 'GET', '/graphql?query=' + encodeURIComponent('query($a: Int) { __typename }') + '&variables=%7Bnot');
  raw('PUT', JSON.stringify({ query: '{ __typename }' }), {}, 'PUT');
  raw('DELETE', '', {}, 'DELETE');
  raw('OPTIONS', '', {}, 'OPTIONS');
  raw('unknown path', '{}', {}, 'POST', '/nope');
  raw('path traversal', '', {}, 'GET', '/../../etc/passwd');
  raw('metrics', '', {}, 'GET', '/metrics');
  raw('readyz', '', {}, 'GET', '/readyz');
  for (const [from, to] of [
    ['0000-01', '9999-12'],
    ['2026-13', '2026-01'],
    ['1970-01', '2600-12'],
    ['2026-06', '2026-01'],
  ] as const) {
    for (const kind of ['measurements', 'handoffs']) raw(`export ${kind}.csv ${from}..${to}`, '', {}, 'GET', `/export/${kind}.csv?from=${from}&to=${to}`);
  }
  raw('export with NUL provider', '', {}, 'GET', '/export/handoffs.csv?from=2026-01&to=2026-02&provider=%00');
  raw('export with updatedSince year 9999', '', {}, 'GET', '/export/measurements.csv?from=2026-01&to=2026-02&updatedSince=9999-12-31T23:59:59Z');
  raw('body just over the limit (9 MB)', `{"query":"{ __typename }","variables":{"x":"${'x'.repeat(9 * 1024 * 1024)}"}}`);
  raw('body of 7.9 MB string variable', `{"query":"{ __typename }","variables":{"x":"${'x'.repeat(Math.floor(7.9 * 1024 * 1024))}"}}`);
  raw('query of 5 MB', JSON.stringify({ query: `{ ${'__typename '.repeat(450_000)} }` }));
  add('authorization of 16 KB', (url) => post(url, 'x'.repeat(16_000), JSON.stringify({ query: '{ me { name } }' })), 'POST /graphql authorization: Bearer xxx… (16,000 chars) { me { name } }');
  add('unknown token', (url) => post(url, 'tsla_' + 'A'.repeat(43), JSON.stringify({ query: '{ me { name } }' })));
  add('no token', (url) => post(url, null, JSON.stringify({ query: '{ me { name } }' })));
  for (const now of ['9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z', '2600-12-31T23:59:59Z', '+275760-09-13T00:00:00Z', 'garbage', '']) {
    for (const q of [
      '{ overdueReports { month workingDaysOverdue } }',
      '{ reviewsDue { reviewDate daysOverdue } }',
      '{ agreements(first: 5) { edges { node { key status } } } }',
      '{ escalations(first: 5) { edges { node { status responseMet } } } }',
    ]) {
      add(
        `X-Clock-Now ${JSON.stringify(now)} on ${q.slice(2, q.indexOf(' ', 2))}`,
        (url, tokens) => post(url, tokens.FUZZ_ANALYST, JSON.stringify({ query: q }), { 'x-clock-now': now }),
        `POST /graphql x-clock-now: ${now} ${JSON.stringify({ query: q })}`,
      );
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The run

interface Failure {
  c: Case;
  outcome: string;
  logged: string | null;
}

async function fuzz(ctx: Context, engine: 'sqlite' | 'postgresql'): Promise<Outcome> {
  const started = engine === 'sqlite' ? await startSqliteDemo('fuzz') : await startPgDemo(ctx.options.pgUrl, 'fuzz');
  let server: ServerProc = started.server;
  const { databaseUrl } = started;
  const demo = started.tokens;
  try {
    // Principals of our own, so fuzzed mutations (updateUser, revokeApiToken) on demo users cannot lock us out.
    const ids = await gqlData<{ departments: { edges: Array<{ node: { id: string; code: string } }> } }>(server.url, demo.ADMIN, `{ departments(first: 50) { edges { node { id code } } } }`);
    const dept = (code: string) => ids.departments.edges.find((e) => e.node.code === code)?.node.id;
    const tokens: Record<string, string> = {};
    const mine = new Set<string>();
    for (const [key, role, department] of [
      ['FUZZ_ADMIN', 'ADMIN', null],
      ['FUZZ_ANALYST', 'ANALYST', null],
      ['FUZZ_HEAD', 'HEAD', dept('IT')],
      ['FUZZ_INTEGRATION', 'INTEGRATION', dept('SALES')],
    ] as const) {
      const u = await gqlData<{ createUser: { user: { id: string } } }>(
        server.url,
        demo.ADMIN,
        `mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } userErrors { code message } } }`,
        { i: { name: key, email: `${key.toLowerCase()}@torture.example`, role, departmentId: department } },
      );
      const t = await gqlData<{ createApiToken: { secret: string } }>(
        server.url,
        demo.ADMIN,
        `mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { secret userErrors { code message } } }`,
        { i: { userId: u.createUser.user.id, name: 'torture' } },
      );
      tokens[key] = t.createApiToken.secret;
      mine.add(u.createUser.user.id);
    }
    const pools = await collectPools(server.url, tokens.FUZZ_ADMIN, mine);
    const schema = buildSchema(fs.readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8'));
    const randoms = ctx.options.short ? 1 : 2;
    let cases = [...fieldCases(schema, pools, ctx.options.seed, randoms), ...httpCases()];
    const generated = cases.length;
    // Budget: a seeded sample when the full set does not fit.
    const budget = ctx.options.short ? (engine === 'postgresql' ? 600 : 2500) : Infinity;
    if (cases.length > budget) {
      const pick = rng(ctx.options.seed + 99);
      const http = cases.filter((c) => c.mode === 'http');
      const rest = cases
        .filter((c) => c.mode !== 'http')
        .map((c) => [pick(), c] as const)
        .sort((a, b) => a[0] - b[0])
        .slice(0, budget - http.length)
        .map(([, c]) => c);
      cases = [...rest, ...http];
    }
    // Shuffle so heavy fields do not all run at once.
    const shuffle = rng(ctx.options.seed + 5);
    cases = cases
      .map((c) => [shuffle(), c] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, c]) => c);
    const timeBox = (ctx.options.short ? (engine === 'postgresql' ? 20 : 45) : engine === 'postgresql' ? 150 : 240) * 1000;
    ctx.log(
      `  ${fmt(generated)} cases generated from schema.graphql (${Object.keys((schema.getQueryType() as GraphQLObjectType).getFields()).length} queries, ${Object.keys((schema.getMutationType() as GraphQLObjectType).getFields()).length} mutations); sending ${fmt(cases.length)} with ${CONCURRENCY} in flight, ${TIMEOUT_MS / 1000} s timeout each, time box ${timeBox / 1000} s`,
    );

    const byStatus = new Map<string, number>();
    const byCode = new Map<string, number>();
    const failures: Failure[] = [];
    let sent = 0;
    let restarts = 0;
    let collateral = 0;
    const health = healthSampler(() => server.url);
    const deadline = Date.now() + timeBox;
    const by401 = new Map<string, number>();
    const count = (s: Sent, c?: Case) => {
      if (c && s.status === 401) by401.set(c.role + (c.mode === 'http' ? ' (http)' : ''), (by401.get(c.role + (c.mode === 'http' ? ' (http)' : '')) ?? 0) + 1);
      const k = s.timedOut ? 'timeout' : s.status === 0 ? `no answer (${s.error})` : String(s.status);
      byStatus.set(k, (byStatus.get(k) ?? 0) + 1);
      for (const c of new Set(s.codes)) byCode.set(c, (byCode.get(c) ?? 0) + 1);
    };
    const bad = (s: Sent) => s.status === 0 || s.status >= 500 || s.codes.includes('INTERNAL');
    const outcomeOf = (s: Sent) => (s.timedOut ? `no answer within ${TIMEOUT_MS / 1000} s` : s.status === 0 ? `connection ${s.error}` : `HTTP ${s.status} ${[...new Set(s.codes)].join(',')}`.trim());

    const restart = async (why: string) => {
      restarts++;
      ctx.log(`  restarting the server (${why})`);
      await server.sigkill();
      server = await startServer({ databaseUrl });
    };
    const healthy = async () => (await request(server.url, { path: '/healthz', method: 'GET', timeoutMs: 1000, fresh: true })).status === 200 && !server.exited();

    let next = 0;
    let paused: Promise<void> | null = null;
    const suspects: Case[] = [];
    const triage = async () => {
      // Wait for the requests in flight to end (they time out at most TIMEOUT_MS later).
      await sleep(TIMEOUT_MS + 200);
      if (!(await healthy())) await restart('frozen or dead after a timeout');
      const list = suspects.splice(0);
      for (const c of list) {
        const s = await c.send(server.url, tokens);
        count(s, c);
        sent++;
        if (bad(s)) {
          failures.push({ c, outcome: `${outcomeOf(s)} (also when sent alone)`, logged: server.loggedError(s.reqId) });
          if (!(await healthy())) await restart(`after ${c.target} ${c.path} = ${c.label}`);
        } else collateral++;
      }
    };
    const worker = async () => {
      for (;;) {
        if (paused) await paused;
        if (Date.now() > deadline) return;
        const i = next++;
        if (i >= cases.length) return;
        const c = cases[i];
        const s = await c.send(server.url, tokens);
        sent++;
        if (s.status === 0) {
          // A timeout or a dead server: find the culprit by sending again alone.
          suspects.push(c);
          if (!paused) paused = triage().finally(() => (paused = null));
          continue;
        }
        count(s, c);
        if (bad(s)) failures.push({ c, outcome: outcomeOf(s), logged: server.loggedError(s.reqId) });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    if (paused) await paused;
    if (suspects.length) await triage();
    const h = await health.stop();
    // Canary: the fuzzing principals must still be able to act (a fuzzed mutation must not have locked them out).
    const lockedOut: string[] = [];
    for (const key of Object.keys(tokens)) {
      const me = await gql(server.url, tokens[key], '{ me { role } }', undefined, { timeoutMs: TIMEOUT_MS });
      if (me.status !== 200 || !me.json?.data?.me) lockedOut.push(`${key}: HTTP ${me.status} ${errorCodes(me).join(',')}`);
    }
    const unsent = cases.length - Math.min(next, cases.length);

    // Group the failures: field, argument path, value → outcome (roles and modes listed).
    const groups = new Map<string, { f: Failure; who: Set<string>; n: number }>();
    for (const f of failures) {
      const key = `${f.c.target}${f.c.path ? `(${f.c.path})` : ''} = ${f.c.label} → ${f.outcome.replace(/ \(also when sent alone\)/, '')}`;
      const g = groups.get(key) ?? { f, who: new Set<string>(), n: 0 };
      g.who.add(`${f.c.role}/${f.c.mode}`);
      g.n++;
      groups.set(key, g);
    }
    const lines = [...groups.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([k, g]) => `${k} [${[...g.who].join(', ')}]${g.f.logged ? `\n      logged: ${g.f.logged}` : ''}\n      e.g. ${g.f.c.describe()}`);
    // Root causes: the server's own log line for each INTERNAL, with the fields that hit it.
    const causes = new Map<string, Set<string>>();
    for (const f of failures) if (f.logged) causes.set(f.logged, (causes.get(f.logged) ?? new Set()).add(`${f.c.target}${f.c.path ? `(${f.c.path})` : ''}`));
    for (const [cause, where] of causes) lines.push(`root cause (server log): ${cause}\n      hit by: ${[...where].slice(0, 12).join(', ')}${where.size > 12 ? `, … ${where.size - 12} more` : ''}`);
    // /healthz must answer within 1 s; on a shared, loaded machine up to 1 % of the samples (at
    // least 2) may take up to 3 s. A frozen server fails it at once (its samples time out).
    const healthBad = h.failed > 0 || h.maxMs > 3000 || h.slow > Math.max(2, Math.floor(h.samples / 100));
    if (healthBad) lines.push(`/healthz slower than 1 s ${h.slow}× and failed ${h.failed}× of ${h.samples} samples (max ${fmt(h.maxMs)} ms): ${h.worst.join('; ')}`);
    if (restarts) lines.push(`the server had to be restarted ${restarts}× (frozen or dead)`);
    if (lockedOut.length) lines.push(`after the run, fuzzing principals no longer authenticate (the counts above include their refusals): ${lockedOut.join('; ')}`);
    const unauth = [...by401.entries()].filter(([, n]) => n > 5);
    if (unauth.length) lines.push(`UNAUTHENTICATED answers by role: ${unauth.map(([k, n]) => `${k} ${n}`).join(', ')}`);
    const sortMap = (m: Map<string, number>) =>
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k}: ${fmt(n)}`)
        .join(', ');
    return {
      status: lines.length ? 'fail' : 'pass',
      figures: [
        `${engine}: ${fmt(sent)} requests sent (${fmt(generated)} generated${unsent ? `, ${fmt(unsent)} not sent: time box` : ''}), ${groups.size} distinct failures (${failures.length} failing requests), ${collateral} timeouts cleared when resent alone, ${restarts} restarts`,
        `by HTTP status: ${sortMap(byStatus)}`,
        `by error code: ${sortMap(byCode)}`,
        `/healthz: ${h.samples} samples, max ${fmt(h.maxMs)} ms, ${h.slow} over 1 s, ${h.failed} failed${h.slow && !healthBad ? ` (within the allowance: ${h.worst.join('; ')})` : ''}`,
      ],
      failures: lines,
    };
  } finally {
    await server.stop();
  }
}

export const fuzzSqlite: Scenario = { name: 'fuzz-sqlite', description: 'schema-generated hostile requests on SQLite', run: (ctx) => fuzz(ctx, 'sqlite') };
export const fuzzPg: Scenario = { name: 'fuzz-pg', description: 'schema-generated hostile requests on PostgreSQL', needsPg: true, run: (ctx) => fuzz(ctx, 'postgresql') };
