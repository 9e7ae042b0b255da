/**
 * Friction items as BI facts (issue 16): one row per friction item of each report's latest
 * revision, keyed by the item's stable id (it survives corrected revisions that carry it forward),
 * with the `frictionFacts` connection and `/export/friction-items.csv` reading the same pages.
 * Self-contained: its column table, row type and reader live here.
 */
import { cursorCodec } from '../../common/connection';
import type { Context } from '../../common/context';
import { windowMonths } from '../../common/month-window';
import { snapshotInstant } from '../../common/read-route';
import { asDate, sqlOf } from '../../common/sql';
import { Tier } from '../agreements/agreement.entity';
import { frictionItemsOf } from '../reports/report.entity';
import { frictionItemsColumn } from '../reports/friction.service';
import type { FactColumns, RowOf } from './fact-columns';
import type { FactFilter } from './facts.service';

/** A friction item of a report's latest revision, flat, for a warehouse, in the CSV's column order. */
export const FRICTION_FACT_COLUMNS = {
  id: { type: 'id', description: 'The item’s stable id: kept by a corrected revision that carries the item forward (or sends it again unchanged); the warehouse key.' },
  reportId: { type: 'id', description: 'The report the item belongs to.' },
  agreementKey: { type: 'string' },
  provider: { type: 'string', nullable: true },
  customer: { type: 'string', nullable: true },
  month: { type: 'month' },
  category: { type: 'string', description: 'A FrictionCategory.' },
  severity: { type: 'string', description: 'A Severity.' },
  customersAffected: { type: 'int' },
  description: { type: 'string' },
  revision: { type: 'int', description: 'The number of the report’s latest revision, which carries the item (or, for a tombstone, no longer does).' },
  updatedAt: { type: 'date', description: 'When the report last changed (a revision, a verdict): an incremental pull returns every item of a report changed since.' },
  deleted: {
    type: 'boolean',
    description: 'A tombstone: the item was in an earlier revision of the report and the latest one dropped it. Only incremental pulls (`updatedSince`) return these; delete the row by `id`.',
  },
} as const satisfies FactColumns;

/** A friction item, flat, for a warehouse: the row {@link FRICTION_FACT_COLUMNS} declares. */
export type FrictionFact = RowOf<typeof FRICTION_FACT_COLUMNS>;

/** The friction facts' cursor: the snapshot instant, then the last row's report updatedAt, report id and position in its report. */
const FRICTION_CURSOR = cursorCodec('frictionFacts', ['date', 'date', 'uuid', 'integer']);

type Row = Record<string, unknown>;

/** The rows of one report, in order: its latest revision's items, then (incremental pulls) tombstones of items earlier revisions had. */
function rowsOfReport(r: Row, earlier: Row[], tombstones: boolean): Array<FrictionFact & { position: number }> {
  const base = {
    reportId: String(r.id),
    agreementKey: String(r.agreement_key),
    provider: r.provider_code == null ? null : String(r.provider_code),
    customer: r.customer_code == null ? null : String(r.customer_code),
    month: String(r.month),
    revision: Number(r.number),
    updatedAt: asDate(r.updated_at),
  };
  const current = frictionItemsOf(String(r.revision_id), frictionItemsColumn(r.friction_items));
  const out: Array<FrictionFact & { position: number }> = current.map((f, position) => ({
    id: f.id,
    ...base,
    category: f.category,
    severity: f.severity,
    customersAffected: f.customersAffected,
    description: f.description,
    deleted: false,
    position,
  }));
  if (tombstones) {
    const seen = new Set(current.map((f) => f.id));
    for (const e of earlier) {
      for (const f of frictionItemsOf(String(e.id), frictionItemsColumn(e.friction_items))) {
        if (seen.has(f.id)) continue;
        seen.add(f.id);
        out.push({ id: f.id, ...base, category: f.category, severity: f.severity, customersAffected: f.customersAffected, description: f.description, deleted: true, position: out.length });
      }
    }
  }
  return out;
}

/**
 * One page of friction facts, ordered by (report updatedAt, report id, item position), up to a
 * snapshot instant fixed by the first page: reports changed during the pull wait for the next one
 * (`updatedSince` = this pull's `asOf`), as the handoff facts do. A full pull returns the items of
 * every latest revision in the window; an incremental pull returns every item of the reports
 * changed since, and a tombstone (`deleted: true`) for each item an earlier revision of such a
 * report had and the latest dropped, so a warehouse keyed by `id` stays exact.
 */
export async function frictionFacts(
  ctx: Context,
  filter: FactFilter,
  first: number,
  after?: string | null,
): Promise<{ rows: FrictionFact[]; hasNextPage: boolean; endCursor: string | null; asOf: Date }> {
  const cursor = after ? FRICTION_CURSOR.decode(after) : null;
  windowMonths(filter.from, filter.to);
  const asOf = cursor?.[0] ?? (await snapshotInstant(ctx));
  const sql = sqlOf(ctx.em, { read: true });
  const where = ['p.month >= ?', 'p.month <= ?', 'p.updated_at <= ?'];
  const params: unknown[] = [filter.from, filter.to, sql.date(asOf)];
  // A tier filter selects that tier's agreements, as in every fact table (CORPORATE: none collect reports, so no rows).
  const tiers = filter.tier ? [filter.tier] : [Tier.CUSTOMER, Tier.SERVICE];
  where.push(`a.tier in (${tiers.map(() => '?').join(', ')})`);
  params.push(...tiers);
  if (filter.provider) {
    where.push('pd.code = ?');
    params.push(filter.provider.trim().toUpperCase());
  }
  if (filter.customer) {
    where.push('cd.code = ?');
    params.push(filter.customer.trim().toUpperCase());
  }
  if (filter.updatedSince) {
    where.push('p.updated_at > ?');
    params.push(sql.date(filter.updatedSince));
  }
  const out: Array<FrictionFact & { position: number }> = [];
  // From the cursor's report (its rows after the cursor's position), then report by report until the page is full.
  let from: { updatedAt: Date; id: string; position: number } | null = cursor ? { updatedAt: cursor[1], id: cursor[2], position: cursor[3] } : null;
  const batch = Math.min(first + 1, 500);
  for (;;) {
    const at = from ? ['(p.updated_at > ? or (p.updated_at = ? and p.id >= ?))'] : [];
    const atParams = from ? [sql.date(from.updatedAt), sql.date(from.updatedAt), from.id] : [];
    const reports = await sql.rows<Row>(
      `select p.id, p.month, p.updated_at, a.key as agreement_key, pd.code as provider_code, cd.code as customer_code, r.id as revision_id, r.number, r.friction_items
         from report p join report_revision r on r.id = p.latest_revision_id join agreement a on a.id = p.agreement_id
         left join department pd on pd.id = a.provider_id left join department cd on cd.id = a.customer_id
        where ${[...where, ...at].join(' and ')} order by p.updated_at, p.id limit ?`,
      [...params, ...atParams, batch],
    );
    const earlierBy = new Map<string, Row[]>();
    if (filter.updatedSince && reports.length) {
      const earlier = await sql.rows<Row>(
        `select id, report_id, friction_items from report_revision where report_id in (${reports.map(() => '?').join(', ')}) order by report_id, number desc`,
        reports.map((r) => r.id),
      );
      for (const e of earlier) earlierBy.set(String(e.report_id), [...(earlierBy.get(String(e.report_id)) ?? []), e]);
    }
    for (const r of reports) {
      const skipTo = from && String(r.id) === from.id && asDate(r.updated_at).getTime() === from.updatedAt.getTime() ? from.position : -1;
      for (const row of rowsOfReport(r, earlierBy.get(String(r.id)) ?? [], !!filter.updatedSince)) if (row.position > skipTo) out.push(row);
      if (out.length > first) break;
    }
    if (out.length > first || reports.length < batch) break;
    const last = reports[reports.length - 1];
    from = { updatedAt: asDate(last.updated_at), id: String(last.id), position: Number.MAX_SAFE_INTEGER };
  }
  const page = out.slice(0, first);
  const lastRow = page[page.length - 1];
  return {
    rows: page.map(({ position: _p, ...row }) => row),
    hasNextPage: out.length > first,
    endCursor: lastRow ? FRICTION_CURSOR.encode([asOf, lastRow.updatedAt, lastRow.reportId, lastRow.position]) : (after ?? null),
    asOf,
  };
}
