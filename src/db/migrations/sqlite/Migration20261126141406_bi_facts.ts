import { Migration } from '@mikro-orm/migrations';

export class Migration20261126141406_bi_facts extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`credit_tombstone\` (\`id\` text not null, \`agreement_id\` text not null, \`month\` text not null, \`deleted_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create index \`credit_tombstone_deleted_at_id_index\` on \`credit_tombstone\` (\`deleted_at\`, \`id\`);`);

    this.addSql(`create table \`export_link_secret\` (\`id\` integer not null, \`secret\` text not null, \`created_at\` datetime not null, primary key (\`id\`));`);

    this.addSql(`alter table \`credit_entry\` add column \`recorded_at\` datetime null;`);
    // Entries written before BI pulls read them: their write instant is not known; their posting instant is the closest.
    this.addSql(`update \`credit_entry\` set \`recorded_at\` = \`posted_at\`;`);
    this.addSql(`create index \`credit_entry_recorded_at_id_index\` on \`credit_entry\` (\`recorded_at\`, \`id\`);`);
  }

}
