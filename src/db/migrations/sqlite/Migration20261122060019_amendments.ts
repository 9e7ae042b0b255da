import { Migration } from '@mikro-orm/migrations';

export class Migration20261122060019_amendments extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`amendment\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`agreement_id\` text not null, \`status\` text not null default 'PROPOSED', \`effective_month\` text not null, \`reason\` text not null, \`proposed_by\` text not null, \`proposed_by_user_id\` text not null, \`changes\` json not null, \`decided_at\` datetime null, \`decided_by_user_id\` text null, \`rejection_reason\` text null, \`resulting_version_id\` text null, constraint \`amendment_agreement_id_foreign\` foreign key(\`agreement_id\`) references \`agreement\`(\`id\`) on delete restrict on update cascade, constraint \`amendment_resulting_version_id_foreign\` foreign key(\`resulting_version_id\`) references \`agreement_version\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`amendment_agreement_id_index\` on \`amendment\` (\`agreement_id\`);`);
    this.addSql(`create index \`amendment_resulting_version_id_index\` on \`amendment\` (\`resulting_version_id\`);`);
  }

}
