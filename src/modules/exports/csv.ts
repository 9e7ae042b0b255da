import { once } from 'node:events';
import type http from 'node:http';
import { assertText, instantProblem } from '../../common/bounds';
import { BadUserInputError } from '../../common/errors';
import { apiMonthProblem } from '../../common/month';
import type { Context } from '../../common/context';
import { loadersOver } from '../../common/wiring';
import { Tier } from '../agreements/agreement.entity';
import { keptBy, TextBytes } from '../../common/text-bytes';
import { type ColumnValues, columnNames, HANDOFF_FACT_COLUMNS, MEASUREMENT_FACT_COLUMNS } from './fact-columns';
import type { FactTable } from './fact-table';
import type { FactFilter } from './facts.service';
import { byCodes } from './fact-filter';

/** Rows per page read from the database while streaming: memory stays flat whatever the total. */
const PAGE = 2000;

/** The measurements CSV's header and column order: the fact's column table (bench/ledger.ts reads it too). */
export const MEASUREMENT_COLUMNS = columnNames(MEASUREMENT_FACT_COLUMNS);
/** The handoffs CSV's header and column order: the fact's column table. */
export const HANDOFF_COLUMNS = columnNames(HANDOFF_FACT_COLUMNS);

/** The export's filter from the query string, with the same rules as the GraphQL `FactFilter`. */
export function filterFromQuery(params: URLSearchParams): FactFilter {
  const month = (name: 'from' | 'to') => {
    const v = params.get(name);
    if (!v) throw new BadUserInputError(`${name}: required, a month such as 2026-01`, name);
    const problem = apiMonthProblem(v.slice(0, 100));
    if (problem) throw new BadUserInputError(`${name}: ${problem}`, name);
    return v;
  };
  const tier = params.get('tier');
  if (tier && !Object.values(Tier).includes(tier as Tier)) throw new BadUserInputError(`tier: expected CORPORATE, CUSTOMER or SERVICE, received ${JSON.stringify(tier.slice(0, 100))}`, 'tier');
  const since = params.get('updatedSince');
  const updatedSince = since ? new Date(since) : null;
  if (updatedSince && Number.isNaN(updatedSince.getTime()))
    throw new BadUserInputError(`updatedSince: expected an ISO 8601 instant, received ${JSON.stringify(String(since).slice(0, 100))}`, 'updatedSince');
  const problem = updatedSince && instantProblem(updatedSince);
  if (problem) throw new BadUserInputError(`updatedSince: ${problem}`, 'updatedSince');
  const code = (name: 'provider' | 'customer') => {
    const v = params.get(name);
    if (v !== null) assertText(name, v, 100);
    return v;
  };
  return { from: month('from'), to: month('to'), tier: (tier as Tier) || null, provider: code('provider'), customer: code('customer'), updatedSince };
}

/** Characters that make a cell quoted: the delimiter, the quote, and line breaks. */
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One cell as csv-stringify 6 writes it with our casts (which this replaces: its per-cell options
 * and checks cost more than the pull's query): nothing for null, `true`/`false`, ISO 8601 for an
 * instant, numbers as JavaScript prints them, objects as JSON, and a text quoted (its quotes
 * doubled) when it holds a comma, a quote or a line break.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s: string;
  switch (typeof v) {
    case 'string':
      s = v;
      break;
    case 'number':
    case 'bigint':
      return `${v}`;
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      s = v instanceof Date ? v.toISOString() : JSON.stringify(v);
  }
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Writes one cell of a column: what {@link csvCell} writes of the value. */
type Cell = (v: unknown) => string;

/**
 * The cell writer of a column of `type` (fact-columns.ts): {@link csvCell}, with the value its type
 * declares written without the general checks (a number as JavaScript prints it, a boolean), and
 * the cells of months, enums and instants kept by value after the first time. A
 * value of another kind goes through {@link csvCell}, so the text is the same either way.
 */
function cellWriter(type: keyof ColumnValues): Cell {
  switch (type) {
    case 'float':
    case 'int':
      return (v) => (typeof v === 'number' ? `${v}` : csvCell(v));
    case 'boolean':
      return (v) => (v === true ? 'true' : v === false ? 'false' : csvCell(v));
    case 'date':
      return keptBy((v) => (v instanceof Date ? v.getTime() : undefined), csvCell);
    case 'id':
    case 'string':
      // Ids and free texts (keys, codes, reasons): mostly different from row to row.
      return csvCell;
    default:
      // Months and enums: a few values.
      return keptBy((v) => (typeof v === 'string' ? v : undefined), csvCell);
  }
}

/**
 * Writes the lines of a page of rows into `out` (each ended by `\n`), cells in the columns' order,
 * row by row into bytes (src/common/text-bytes.ts). `cells` are the columns' writers
 * ({@link cellWriter}, made once a pull).
 */
function writeCsvLines(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[], cells: readonly Cell[], out: TextBytes): void {
  const last = columns.length - 1;
  for (const row of rows) {
    let line = '';
    for (let i = 0; i < last; i++) line += `${cells[i](row[columns[i]])},`;
    out.text += `${line}${cells[last](row[columns[last]])}\n`;
    out.spill();
  }
}

/**
 * Streams `/export/<file>.csv` of a fact table: the same rows, in the same order, as its facts
 * connection, read a page at a time (the request's identity map and loaders are dropped after each
 * page) and written a page at a time with back-pressure, so memory stays flat for a million rows.
 * The header is the table's columns, in their order. The snapshot instant of the pull is sent as
 * `X-As-Of`.
 */
export async function streamCsv(ctx: Context, table: FactTable, given: FactFilter, res: http.ServerResponse): Promise<void> {
  // Departments by id or code (one convention for filters): the fact queries filter by code.
  const filter = await byCodes(ctx, given);
  // The first page before any byte: a bad filter is still a clean 400.
  let page = await table.read(ctx, filter, PAGE, null);
  res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${table.file}.csv"`, 'x-as-of': page.asOf.toISOString() });
  const columns = columnNames(table.columns);
  const cells = columns.map((c) => cellWriter(table.columns[c].type));
  // A page at a time into bytes, written corked (one write of the page's chunks).
  const out = new TextBytes();
  out.text = `${columns.join(',')}\n`;
  for (;;) {
    writeCsvLines(page.rows as Array<Record<string, unknown>>, columns, cells, out);
    res.cork();
    let more = true;
    for (const chunk of out.take()) more = res.write(chunk);
    res.uncork();
    if (!more) await drained(res);
    if (res.destroyed || !page.hasNextPage) break;
    ctx.em.clear();
    ctx.loaders = loadersOver(ctx.em);
    page = await table.read(ctx, filter, PAGE, page.endCursor);
  }
  if (res.destroyed) return;
  res.end();
  await once(res, 'finish');
}

/** Resolves when `res` can take more (or has closed: the client went away). */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
