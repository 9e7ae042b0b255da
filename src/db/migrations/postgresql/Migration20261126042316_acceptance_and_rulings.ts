import { Migration } from '@mikro-orm/migrations';
import { backfillAcceptanceDue } from '../acceptance-backfill';

/** Acceptance windows (deemed acknowledgement) and admins' rulings on disputes; existing revisions get their window's end. */

export class Migration20261126042316_acceptance_and_rulings extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "report_revision" add column "acceptance_due_at" timestamptz null, add column "deemed" boolean not null default false, add column "ruling" varchar(20) null, add column "ruling_note" text null, add column "ruled_at" timestamptz null, add column "ruled_by_user_id" varchar(100) null;`);

    this.addSql(`alter table "agreement_version" add column "acceptance_working_days" int not null default 5;`);
    await backfillAcceptanceDue(this, (n) => `"${n}"`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "agreement_version" drop column "acceptance_working_days";`);

    this.addSql(`alter table "report_revision" drop column "acceptance_due_at", drop column "deemed", drop column "ruling", drop column "ruling_note", drop column "ruled_at", drop column "ruled_by_user_id";`);
  }

}
