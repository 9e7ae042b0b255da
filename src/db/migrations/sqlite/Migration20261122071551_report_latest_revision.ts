import { Migration } from '@mikro-orm/migrations';

export class Migration20261122071551_report_latest_revision extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`report\` add column \`latest_revision_id\` text null constraint \`report_latest_revision_id_foreign\` references \`report_revision\` (\`id\`) on update cascade on delete restrict;`);
    this.addSql(`create index \`report_latest_revision_id_index\` on \`report\` (\`latest_revision_id\`);`);
    // Reports submitted before this column existed point at their latest revision too.
    this.addSql(`update report set latest_revision_id = (select r.id from report_revision r where r.report_id = report.id and r.number = report.revision_count) where revision_count > 0;`);
  }

}
