import { Migration } from '@mikro-orm/migrations';

/**
 * Two narrow covering indexes for the score ledger's roll-ups (issue 13), holding exactly the
 * columns `ledgerRollup` reads (`customer_id` for a department's scorecard as customer), so that
 * its GROUP BY statements read an index instead of the wide `ledger_month` rows: one in month
 * order (the by-month sums stream without a sort), one in agreement order (the by-agreement sums
 * likewise). Named `score_ledger_…`: a database written before the score ledger gets them with
 * the ledger tables.
 */
export class Migration20261126090000_score_ledger_rollup_indexes extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create index "ledger_month_rollup_month_index" on "ledger_month" ("deleted", "month", "agreement_id", "provider_id", "tier", "closed", "closed_at", "computed_at", "valid_until", "disputed", "status_rank", "sum_weighted", "sum_weight", "scored_count", "evaluated", "met", "breaches", "credit_amount", "customer_id");`);
    this.addSql(`create index "ledger_month_rollup_agreement_index" on "ledger_month" ("deleted", "agreement_id", "provider_id", "tier", "month", "closed", "closed_at", "computed_at", "valid_until", "disputed", "status_rank", "sum_weighted", "sum_weight", "scored_count", "evaluated", "met", "breaches", "credit_amount", "customer_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "ledger_month_rollup_month_index";`);
    this.addSql(`drop index "ledger_month_rollup_agreement_index";`);
  }

}
