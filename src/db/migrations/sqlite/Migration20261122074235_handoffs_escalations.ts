import { Migration } from '@mikro-orm/migrations';

export class Migration20261122074235_handoffs_escalations extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`handoff_batch\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`source\` text not null, \`received\` integer not null, \`created\` integer not null, \`updated\` integer not null, \`recorded_by_user_id\` text not null, primary key (\`id\`));`);

    this.addSql(`create table \`handoff_month\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`agreement_id\` text not null, \`month\` text not null, \`volume\` integer not null, \`accepted\` integer not null, \`rejected\` integer not null, \`converted\` integer not null, \`responded\` integer not null, \`response_median_hours\` double null, \`response_p90_hours\` double null, \`mean_quality\` double null, constraint \`handoff_month_agreement_id_foreign\` foreign key(\`agreement_id\`) references \`agreement\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`handoff_month_agreement_id_index\` on \`handoff_month\` (\`agreement_id\`);`);
    this.addSql(`create unique index \`handoff_month_agreement_id_month_unique\` on \`handoff_month\` (\`agreement_id\`, \`month\`);`);

    this.addSql(`create table \`handoff_event\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`source\` text not null, \`external_id\` text not null, \`agreement_id\` text not null, \`stage\` text not null, \`month\` text not null, \`handed_off_at\` datetime not null, \`responded_at\` datetime null, \`accepted_at\` datetime null, \`rejected_at\` datetime null, \`rejection_reason\` text null, \`converted_at\` datetime null, \`quality_score\` double null, \`response_hours\` double null, constraint \`handoff_event_agreement_id_foreign\` foreign key(\`agreement_id\`) references \`agreement\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`handoff_event_agreement_id_index\` on \`handoff_event\` (\`agreement_id\`);`);
    this.addSql(`create index \`handoff_event_updated_at_id_index\` on \`handoff_event\` (\`updated_at\`, \`id\`);`);
    this.addSql(`create index \`handoff_event_agreement_id_month_index\` on \`handoff_event\` (\`agreement_id\`, \`month\`);`);
    this.addSql(`create unique index \`handoff_event_source_external_id_unique\` on \`handoff_event\` (\`source\`, \`external_id\`);`);

    this.addSql(`create table \`escalation\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`agreement_id\` text not null, \`severity\` text not null, \`title\` text not null, \`description\` text not null, \`status\` text not null default 'OPEN', \`month\` text not null, \`opened_at\` datetime not null, \`acknowledged_at\` datetime null, \`resolved_at\` datetime null, \`resolution\` text null, \`response_target_hours\` double not null, \`resolution_target_hours\` double not null, \`response_hours\` double null, \`resolution_hours\` double null, \`opened_by_user_id\` text not null, constraint \`escalation_agreement_id_foreign\` foreign key(\`agreement_id\`) references \`agreement\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`escalation_agreement_id_index\` on \`escalation\` (\`agreement_id\`);`);
    this.addSql(`create index \`escalation_agreement_id_month_index\` on \`escalation\` (\`agreement_id\`, \`month\`);`);
  }

}
