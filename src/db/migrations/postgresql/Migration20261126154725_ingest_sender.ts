import { Migration } from '@mikro-orm/migrations';

/**
 * Who sent each ingested measurement and handoff event (issue 16 review): a re-send by another
 * non-admin principal is refused. Rows recorded before have no link to their batch (a batch keeps
 * only its source and counts), so their sender is unknown and stays null: any principal allowed to
 * record for the row's agreement may still re-send them, as before.
 */
export class Migration20261126154725_ingest_sender extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "measurement" add column "recorded_by_user_id" varchar(100) null;`);

    this.addSql(`alter table "handoff_event" add column "recorded_by_user_id" varchar(100) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "handoff_event" drop column "recorded_by_user_id";`);

    this.addSql(`alter table "measurement" drop column "recorded_by_user_id";`);
  }

}
