import { Migration } from '@mikro-orm/migrations';

export class Migration20261126141540_automated_feeds extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`escalation_batch\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`source\` text not null, \`received\` integer not null, \`created\` integer not null, \`updated\` integer not null, \`recorded_by_user_id\` text not null, primary key (\`id\`));`);

    this.addSql(`create table \`measurement_batch\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`source\` text not null, \`received\` integer not null, \`created\` integer not null, \`updated\` integer not null, \`recorded_by_user_id\` text not null, primary key (\`id\`));`);

    this.addSql(`create table \`measurement_month\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`agreement_id\` text not null, \`metric_id\` text not null, \`month\` text not null, \`value\` double not null, \`measurements\` integer not null, constraint \`measurement_month_agreement_id_foreign\` foreign key(\`agreement_id\`) references \`agreement\`(\`id\`) on delete restrict on update cascade, constraint \`measurement_month_metric_id_foreign\` foreign key(\`metric_id\`) references \`metric\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`measurement_month_agreement_id_index\` on \`measurement_month\` (\`agreement_id\`);`);
    this.addSql(`create index \`measurement_month_metric_id_index\` on \`measurement_month\` (\`metric_id\`);`);
    this.addSql(`create index \`measurement_month_agreement_id_month_index\` on \`measurement_month\` (\`agreement_id\`, \`month\`);`);
    this.addSql(`create unique index \`measurement_month_agreement_id_metric_id_month_unique\` on \`measurement_month\` (\`agreement_id\`, \`metric_id\`, \`month\`);`);

    this.addSql(`create table \`measurement\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`source\` text not null, \`external_id\` text not null, \`agreement_id\` text not null, \`metric_id\` text not null, \`month\` text null, \`starts_at\` datetime not null, \`ends_at\` datetime not null, \`value\` double not null, constraint \`measurement_agreement_id_foreign\` foreign key(\`agreement_id\`) references \`agreement\`(\`id\`) on delete restrict on update cascade, constraint \`measurement_metric_id_foreign\` foreign key(\`metric_id\`) references \`metric\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`measurement_agreement_id_index\` on \`measurement\` (\`agreement_id\`);`);
    this.addSql(`create index \`measurement_metric_id_index\` on \`measurement\` (\`metric_id\`);`);
    this.addSql(`create index \`measurement_updated_at_id_index\` on \`measurement\` (\`updated_at\`, \`id\`);`);
    this.addSql(`create index \`measurement_agreement_id_metric_id_starts_at_index\` on \`measurement\` (\`agreement_id\`, \`metric_id\`, \`starts_at\`);`);
    this.addSql(`create unique index \`measurement_source_external_id_unique\` on \`measurement\` (\`source\`, \`external_id\`);`);

    this.addSql(`alter table \`metric\` add column \`feed\` text null;`);
    this.addSql(`alter table \`metric\` add column \`aggregation\` text null;`);
    // Issue 16: every AUTOMATED metric declares its feed. The built-in metrics were wired by their
    // code; they keep that computation as their feed. Any other AUTOMATED metric had no source and
    // keeps none: its objectives were never scored, and updateMetric asks for a feed before any change.
    this.addSql(`update \`metric\` set \`feed\` = \`code\` where \`source\` = 'AUTOMATED' and \`code\` in ('HANDOFF_VOLUME', 'HANDOFF_ACCEPTANCE_RATE', 'HANDOFF_RESPONSE_MEDIAN', 'HANDOFF_RESPONSE_P90', 'HANDOFF_CONVERSION_RATE', 'HANDOFF_QUALITY', 'ESCALATION_RESPONSE_ON_TIME', 'ESCALATION_RESPONSE_P90', 'ESCALATION_MTTR', 'REPORT_DAYS_LATE', 'FRICTION_REPORT_DELIVERED');`);

    this.addSql(`alter table \`escalation\` add column \`source\` text null;`);
    this.addSql(`alter table \`escalation\` add column \`external_id\` text null;`);
    this.addSql(`create unique index \`escalation_source_external_id_unique\` on \`escalation\` (\`source\`, \`external_id\`);`);
  }

}
