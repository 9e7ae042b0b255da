import { Migration } from '@mikro-orm/migrations';

export class Migration20261126061349_score_ledger extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`credit_entry\` (\`id\` text not null, \`agreement_id\` text not null, \`month\` text not null, \`kind\` text not null, \`percent\` double not null, \`amount\` double not null, \`delta\` double not null, \`objectives\` json not null, \`provider_id\` text not null, \`customer_id\` text not null, \`posted_at\` datetime not null, \`reason\` text null, primary key (\`id\`));`);
    this.addSql(`create index \`credit_entry_posted_at_id_index\` on \`credit_entry\` (\`posted_at\`, \`id\`);`);
    this.addSql(`create index \`credit_entry_provider_id_month_index\` on \`credit_entry\` (\`provider_id\`, \`month\`);`);
    this.addSql(`create index \`credit_entry_agreement_id_month_index\` on \`credit_entry\` (\`agreement_id\`, \`month\`);`);

    this.addSql(`create table \`ledger_month\` (\`agreement_id\` text not null, \`month\` text not null, \`agreement_key\` text not null, \`provider_id\` text not null, \`customer_id\` text not null, \`tier\` text not null, \`version_number\` integer not null, \`compliance_target\` double not null, \`credit_cap_percent\` double not null, \`monthly_charge\` double not null, \`month_ends_at\` datetime not null, \`due_at\` datetime not null, \`due_date\` text not null, \`has_manual\` integer not null, \`report_id\` text null, \`report_status\` text null, \`report_revision\` integer null, \`acknowledged_at\` datetime null, \`acceptance_due_at\` datetime null, \`deemed\` integer not null, \`value_changes\` text not null, \`status\` text null, \`status_rank\` integer null, \`score\` double null, \`sum_weighted\` double not null, \`sum_weight\` double not null, \`scored_count\` integer not null, \`evaluated\` integer not null, \`met\` integer not null, \`breaches\` integer not null, \`credit_percent\` double not null, \`credit_uncapped_percent\` double not null, \`credit_amount\` double not null, \`disputed\` integer not null, \`phase\` text not null, \`closed\` integer not null, \`closed_at\` datetime null, \`late_data_at\` datetime null, \`computed_at\` datetime not null, \`valid_until\` datetime null, \`updated_at\` datetime not null, \`deleted\` integer not null, primary key (\`agreement_id\`, \`month\`));`);
    this.addSql(`create index \`ledger_month_agreement_key_month_index\` on \`ledger_month\` (\`agreement_key\`, \`month\`);`);
    this.addSql(`create index \`ledger_month_valid_until_index\` on \`ledger_month\` (\`valid_until\`);`);
    this.addSql(`create index \`ledger_month_updated_at_agreement_id_month_index\` on \`ledger_month\` (\`updated_at\`, \`agreement_id\`, \`month\`);`);
    this.addSql(`create index \`ledger_month_month_provider_id_index\` on \`ledger_month\` (\`month\`, \`provider_id\`);`);

    this.addSql(`create table \`ledger_objective\` (\`agreement_id\` text not null, \`month\` text not null, \`objective_id\` text not null, \`position\` integer not null, \`metric_id\` text not null, \`metric_code\` text not null, \`source\` text not null, \`inherited_from_id\` text null, \`direction\` text not null, \`target\` double not null, \`warning\` double null, \`weight\` double not null, \`credit_percent\` double not null, \`input_value\` double null, \`excused\` integer not null, \`status\` text not null, \`attainment\` double null, \`updated_at\` datetime not null, \`deleted\` integer not null, primary key (\`agreement_id\`, \`month\`, \`objective_id\`));`);
    this.addSql(`create index \`ledger_objective_updated_at_agreement_id_month_objective_id_index\` on \`ledger_objective\` (\`updated_at\`, \`agreement_id\`, \`month\`, \`objective_id\`);`);

    this.addSql(`create table \`ledger_state\` (\`id\` integer not null, \`horizon\` text null, \`built_at\` datetime null, primary key (\`id\`));`);

    this.addSql(`create table \`month_close\` (\`id\` text not null, \`agreement_id\` text not null, \`month\` text not null, \`closed_at\` datetime not null, \`cause\` text not null, \`snapshot\` text not null, \`late_data_at\` datetime null, \`reopened_at\` datetime null, \`reopening_id\` text null, primary key (\`id\`));`);
    this.addSql(`create index \`month_close_agreement_id_month_index\` on \`month_close\` (\`agreement_id\`, \`month\`);`);

    this.addSql(`create table \`month_reopening\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`agreement_id\` text not null, \`month\` text not null, \`reason\` text not null, \`status\` text not null default 'REQUESTED', \`requested_by_side\` text not null, \`requested_by_user_id\` text null, \`decided_by_user_id\` text null, \`decided_at\` datetime null, \`note\` text null, constraint \`month_reopening_agreement_id_foreign\` foreign key(\`agreement_id\`) references \`agreement\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`month_reopening_agreement_id_index\` on \`month_reopening\` (\`agreement_id\`);`);
    this.addSql(`create index \`month_reopening_agreement_id_month_index\` on \`month_reopening\` (\`agreement_id\`, \`month\`);`);
  }

}
