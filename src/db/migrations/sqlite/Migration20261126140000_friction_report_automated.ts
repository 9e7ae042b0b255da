import { Migration } from '@mikro-orm/migrations';

/**
 * FRICTION_REPORT_DELIVERED becomes AUTOMATED (issue 16, docs/decisions.md "Friction reports"):
 * the value comes from the friction items submitted by the due date, no longer typed by the
 * provider. The metric's source flips, and the score ledger's open months that measure it are made
 * stale (valid until the epoch), so the scheduler's next tick re-scores them with the new rule;
 * closed months keep what they froze.
 */
export class Migration20261126140000_friction_report_automated extends Migration {

  override async up(): Promise<void> {
    this.addSql(`update metric set source = 'AUTOMATED' where code = 'FRICTION_REPORT_DELIVERED';`);
    this.addSql(`update ledger_month set valid_until = 0 where closed = 0 and deleted = 0 and exists (select 1 from ledger_objective o where o.agreement_id = ledger_month.agreement_id and o.month = ledger_month.month and o.metric_code = 'FRICTION_REPORT_DELIVERED');`);
  }

  override async down(): Promise<void> {
    this.addSql(`update metric set source = 'MANUAL' where code = 'FRICTION_REPORT_DELIVERED';`);
  }

}
