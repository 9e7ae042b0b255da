import { Migration } from '@mikro-orm/migrations';

export class Migration20261122055409_agreements extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`agreement\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`key\` text not null, \`tier\` text not null, \`title\` text not null, \`provider_id\` text null, \`customer_id\` text null, \`service_id\` text null, \`parent_id\` text null, \`state\` text not null default 'DRAFT', \`provider_approved_at\` datetime null, \`customer_approved_at\` datetime null, \`activated_at\` datetime null, \`terminated_at\` datetime null, constraint \`agreement_provider_id_foreign\` foreign key(\`provider_id\`) references \`department\`(\`id\`) on delete restrict on update cascade, constraint \`agreement_customer_id_foreign\` foreign key(\`customer_id\`) references \`department\`(\`id\`) on delete restrict on update cascade, constraint \`agreement_service_id_foreign\` foreign key(\`service_id\`) references \`service\`(\`id\`) on delete restrict on update cascade, constraint \`agreement_parent_id_foreign\` foreign key(\`parent_id\`) references \`agreement\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create unique index \`agreement_key_unique\` on \`agreement\` (\`key\`);`);
    this.addSql(`create index \`agreement_provider_id_index\` on \`agreement\` (\`provider_id\`);`);
    this.addSql(`create index \`agreement_customer_id_index\` on \`agreement\` (\`customer_id\`);`);
    this.addSql(`create index \`agreement_service_id_index\` on \`agreement\` (\`service_id\`);`);
    this.addSql(`create index \`agreement_parent_id_index\` on \`agreement\` (\`parent_id\`);`);

    this.addSql(`create table \`agreement_version\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`agreement_id\` text not null, \`number\` integer not null, \`effective_month\` text not null, \`effective_from\` text not null, \`effective_to\` text null, \`compliance_target\` double not null, \`monthly_charge\` double not null, \`credit_cap_percent\` double not null, \`report_due_working_days\` integer not null, \`review_cadence_months\` integer not null, \`next_review_date\` text null, \`responsibilities\` json not null, \`contacts\` json not null, \`escalation_policy\` json not null, \`calendar\` json not null, constraint \`agreement_version_agreement_id_foreign\` foreign key(\`agreement_id\`) references \`agreement\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`agreement_version_agreement_id_index\` on \`agreement_version\` (\`agreement_id\`);`);
    this.addSql(`create unique index \`agreement_version_agreement_id_number_unique\` on \`agreement_version\` (\`agreement_id\`, \`number\`);`);

    this.addSql(`create table \`objective\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`agreement_version_id\` text not null, \`metric_id\` text not null, \`position\` integer not null, \`target\` double not null, \`warning\` double null, \`weight\` double not null, \`credit_percent\` double not null, \`inheritance\` text check (\`inheritance\` in ('APPLIES', 'MINIMUM')) not null default 'APPLIES', constraint \`objective_agreement_version_id_foreign\` foreign key(\`agreement_version_id\`) references \`agreement_version\`(\`id\`) on delete restrict on update cascade, constraint \`objective_metric_id_foreign\` foreign key(\`metric_id\`) references \`metric\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`objective_agreement_version_id_index\` on \`objective\` (\`agreement_version_id\`);`);
    this.addSql(`create index \`objective_metric_id_index\` on \`objective\` (\`metric_id\`);`);
  }

}
