import { Migration } from '@mikro-orm/migrations';

export class Migration20261122070505_reports extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`report\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`agreement_id\` text not null, \`month\` text not null, \`status\` text not null default 'DRAFT', \`revision_count\` integer not null default 0, \`draft\` json null, \`draft_saved_at\` datetime null, \`first_submitted_at\` datetime null, \`late_by_working_days\` integer null, constraint \`report_agreement_id_foreign\` foreign key(\`agreement_id\`) references \`agreement\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`report_agreement_id_index\` on \`report\` (\`agreement_id\`);`);
    this.addSql(`create unique index \`report_agreement_id_month_unique\` on \`report\` (\`agreement_id\`, \`month\`);`);

    this.addSql(`create table \`report_revision\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`report_id\` text not null, \`number\` integer not null, \`narrative\` text not null, \`friction_items\` json not null, \`submitted_at\` datetime not null, \`submitted_by_user_id\` text not null, \`acknowledged_at\` datetime null, \`disputed_at\` datetime null, \`dispute_reason\` text null, \`decided_by_user_id\` text null, constraint \`report_revision_report_id_foreign\` foreign key(\`report_id\`) references \`report\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`report_revision_report_id_index\` on \`report_revision\` (\`report_id\`);`);
    this.addSql(`create unique index \`report_revision_report_id_number_unique\` on \`report_revision\` (\`report_id\`, \`number\`);`);

    this.addSql(`create table \`report_value\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`revision_id\` text not null, \`objective_id\` text not null, \`metric_id\` text not null, \`position\` integer not null, \`value\` double not null, constraint \`report_value_revision_id_foreign\` foreign key(\`revision_id\`) references \`report_revision\`(\`id\`) on delete restrict on update cascade, constraint \`report_value_objective_id_foreign\` foreign key(\`objective_id\`) references \`objective\`(\`id\`) on delete restrict on update cascade, constraint \`report_value_metric_id_foreign\` foreign key(\`metric_id\`) references \`metric\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`report_value_revision_id_index\` on \`report_value\` (\`revision_id\`);`);
    this.addSql(`create index \`report_value_objective_id_index\` on \`report_value\` (\`objective_id\`);`);
    this.addSql(`create index \`report_value_metric_id_index\` on \`report_value\` (\`metric_id\`);`);
    this.addSql(`create unique index \`report_value_revision_id_objective_id_unique\` on \`report_value\` (\`revision_id\`, \`objective_id\`);`);

    this.addSql(`create table \`exclusion\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`agreement_id\` text not null, \`month\` text not null, \`objective_id\` text not null, \`metric_id\` text not null, \`status\` text not null default 'REQUESTED', \`reason_code\` text not null, \`explanation\` text not null, \`evidence_url\` text null, \`status_when_requested\` text not null, \`requested_by_user_id\` text not null, \`decided_at\` datetime null, \`decided_by_user_id\` text null, \`decision_note\` text null, constraint \`exclusion_agreement_id_foreign\` foreign key(\`agreement_id\`) references \`agreement\`(\`id\`) on delete restrict on update cascade, constraint \`exclusion_objective_id_foreign\` foreign key(\`objective_id\`) references \`objective\`(\`id\`) on delete restrict on update cascade, constraint \`exclusion_metric_id_foreign\` foreign key(\`metric_id\`) references \`metric\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`exclusion_agreement_id_index\` on \`exclusion\` (\`agreement_id\`);`);
    this.addSql(`create index \`exclusion_objective_id_index\` on \`exclusion\` (\`objective_id\`);`);
    this.addSql(`create index \`exclusion_metric_id_index\` on \`exclusion\` (\`metric_id\`);`);

    this.addSql(`alter table \`metric\` add column \`collects_friction_items\` integer not null default false;`);

    this.addSql(`alter table \`agreement\` add column \`suspensions\` json not null default '[]';`);
  }

}
