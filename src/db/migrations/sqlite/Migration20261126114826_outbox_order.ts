import { Migration } from '@mikro-orm/migrations';

export class Migration20261126114826_outbox_order extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`outbox_cursor\` (\`consumer\` text not null, \`tx\` bigint not null default 0, \`seq\` integer not null default 0, \`updated_at\` datetime not null, primary key (\`consumer\`));`);

    this.addSql(`alter table \`domain_event\` add column \`tx\` bigint not null default 0;`);
    this.addSql(`create index \`domain_event_tx_seq_index\` on \`domain_event\` (\`tx\`, \`seq\`);`);
  }

}
