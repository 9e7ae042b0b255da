/**
 * Customer friction, read across reports (issue 16, "so Customer Service can see what Sales
 * hears"): the friction items of each report's latest revision, counted by month, the agreement's
 * two departments, category and severity.
 */
import type { Month } from '../../common/month';
import { windowMonths } from '../../common/month-window';
import { sqlOf } from '../../common/sql';
import type { Context } from '../../common/context';
import { Severity } from '../../common/severity';
import { FrictionCategory, type FrictionItem } from './report.entity';

/** One group of the friction summary: the items of one month, department pair, category and severity. */
export interface FrictionSummaryGroup {
  month: Month;
  providerId: string;
  customerId: string;
  category: FrictionCategory;
  severity: Severity;
  /** Friction items in the group. */
  items: number;
  /** Customers affected, summed over the group's items. */
  customersAffected: number;
}

/** The items of a JSON column: SQLite hands back its text, PostgreSQL (jsonb) the parsed value. */
export function frictionItemsColumn(v: unknown): FrictionItem[] {
  const list: unknown = typeof v === 'string' ? JSON.parse(v) : v;
  return Array.isArray(list) ? (list as FrictionItem[]) : [];
}

const CATEGORY_ORDER = Object.values(FrictionCategory);
const SEVERITY_ORDER = Object.values(Severity);

/**
 * The friction summary of a window of months (at most 60): the latest revision of every report in
 * it, its items counted by month, provider, customer, category and severity; only agreements the
 * department provides or receives when one is given. Ordered by month, then the departments' codes,
 * then category and severity in their enums' order; groups with no item are not rows. Readable by
 * every principal, as the reports it counts are (docs/decisions.md, "Friction reports").
 */
export async function frictionSummary(ctx: Context, from: Month, to: Month, departmentId: string | null): Promise<FrictionSummaryGroup[]> {
  windowMonths(from, to);
  const params: unknown[] = [from, to];
  let party = '';
  if (departmentId) {
    party = ' and (a.provider_id = ? or a.customer_id = ?)';
    params.push(departmentId, departmentId);
  }
  const found = await sqlOf(ctx.em).rows<Record<string, unknown>>(
    `select p.month, a.provider_id, a.customer_id, pd.code as provider_code, cd.code as customer_code, r.friction_items
       from report p join report_revision r on r.id = p.latest_revision_id join agreement a on a.id = p.agreement_id
       join department pd on pd.id = a.provider_id join department cd on cd.id = a.customer_id
      where p.month >= ? and p.month <= ?${party}`,
    params,
  );
  const groups = new Map<string, FrictionSummaryGroup & { providerCode: string; customerCode: string }>();
  for (const r of found) {
    for (const item of frictionItemsColumn(r.friction_items)) {
      const key = [r.month, r.provider_id, r.customer_id, item.category, item.severity].join('|');
      let g = groups.get(key);
      if (!g) {
        g = {
          month: String(r.month),
          providerId: String(r.provider_id),
          customerId: String(r.customer_id),
          providerCode: String(r.provider_code),
          customerCode: String(r.customer_code),
          category: item.category,
          severity: item.severity,
          items: 0,
          customersAffected: 0,
        };
        groups.set(key, g);
      }
      g.items += 1;
      g.customersAffected += item.customersAffected;
    }
  }
  return [...groups.values()]
    .sort(
      (a, b) =>
        a.month.localeCompare(b.month) ||
        a.providerCode.localeCompare(b.providerCode) ||
        a.customerCode.localeCompare(b.customerCode) ||
        CATEGORY_ORDER.indexOf(a.category) - CATEGORY_ORDER.indexOf(b.category) ||
        SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity),
    )
    .map(({ providerCode: _p, customerCode: _c, ...g }) => g);
}
