import { Migration } from '@mikro-orm/migrations';
import { backfillAcceptanceDue } from '../acceptance-backfill';

/** Acceptance windows (deemed acknowledgement) and admins' rulings on disputes; existing revisions get their window's end. */

export class Migration20261126042316_acceptance_and_rulings extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`report_revision\` add column \`acceptance_due_at\` datetime null;`);
    this.addSql(`alter table \`report_revision\` add column \`deemed\` integer not null default false;`);
    this.addSql(`alter table \`report_revision\` add column \`ruling\` text null;`);
    this.addSql(`alter table \`report_revision\` add column \`ruling_note\` text null;`);
    this.addSql(`alter table \`report_revision\` add column \`ruled_at\` datetime null;`);
    this.addSql(`alter table \`report_revision\` add column \`ruled_by_user_id\` text null;`);

    this.addSql(`alter table \`agreement_version\` add column \`acceptance_working_days\` integer not null default 5;`);
    await backfillAcceptanceDue(this, (n) => `\`${n}\``);
  }

}
