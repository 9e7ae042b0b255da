import { Migration } from '@mikro-orm/migrations';

export class Migration20261126141414_lifecycle_requests extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`agreement_lifecycle_request\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`agreement_id\` text not null, \`kind\` text not null, \`status\` text not null default 'PENDING', \`reason\` text not null, \`effective_month\` text null, \`requested_by\` text not null, \`requested_by_user_id\` text null, \`requested_at\` datetime not null, \`decided_at\` datetime null, \`decided_by\` text null, \`decided_by_user_id\` text null, \`rejection_reason\` text null, constraint \`agreement_lifecycle_request_agreement_id_foreign\` foreign key(\`agreement_id\`) references \`agreement\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`agreement_lifecycle_request_agreement_id_index\` on \`agreement_lifecycle_request\` (\`agreement_id\`);`);
    this.addSql(`create index \`agreement_lifecycle_request_agreement_id_status_index\` on \`agreement_lifecycle_request\` (\`agreement_id\`, \`status\`);`);

    this.addSql(`alter table \`agreement\` add column \`terminates_from\` text null;`);
  }

}
