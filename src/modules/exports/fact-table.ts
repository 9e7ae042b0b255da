/**
 * A BI fact table, declared once (issue 16, "BI for every entity"): its columns, its GraphQL names
 * and how a page of it is read. The facts connection (`<query>(filter, first, after)`,
 * exports.resolver.ts) and the CSV export (`/export/<file>.csv`, csv.ts and src/http/exports.ts)
 * are both generated from the one definition, so they cannot drift: same columns, same rows, same
 * order, same filter.
 */
import type { Context } from '../../common/context';
import type { FactColumns, RowOf } from './fact-columns';
import type { FactFilter } from './facts.service';

/** Largest page of facts: BI pulls read many rows a page (the cost limit still applies). */
export const MAX_FACT_PAGE = 2000;
export const DEFAULT_FACT_PAGE = 500;

/** One page of a fact table, in its stable order. */
export interface FactPage<R> {
  rows: R[];
  hasNextPage: boolean;
  endCursor: string | null;
  /** The snapshot instant of the pull: pass it as `updatedSince` in the next incremental pull. */
  asOf: Date;
}

/** A fact table: what the connection and the CSV are generated from. */
export interface FactTable<C extends FactColumns = FactColumns> {
  /** The CSV's name: `/export/<file>.csv`. */
  readonly file: string;
  /** The GraphQL query of the connection, such as `exclusionFacts`. */
  readonly query: string;
  /** The GraphQL object type of a row, such as `ExclusionFact`; the edge and connection types are named after it. */
  readonly type: string;
  /** Descriptions in the schema: the row type, the connection type, the query. */
  readonly descriptions: { readonly row: string; readonly connection: string; readonly query: string };
  /** The columns, in CSV order. */
  readonly columns: C;
  /** One page, from `after` (a cursor this table returned), at most `first` rows. */
  read(ctx: Context, filter: FactFilter, first: number, after?: string | null): Promise<FactPage<RowOf<C>>>;
}

/** Declares a fact table, typing `read` by its columns. */
export function factTable<C extends FactColumns>(table: FactTable<C>): FactTable<C> {
  return table;
}
