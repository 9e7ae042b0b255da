import { Migration } from '@mikro-orm/migrations';

export class Migration20261126103315_domain_events extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`domain_event\` (\`seq\` integer not null primary key autoincrement, \`id\` text not null, \`type\` text not null, \`version\` integer not null, \`occurred_at\` datetime not null, \`agreement_id\` text null, \`agreement_key\` text null, \`provider_department_id\` text null, \`customer_department_id\` text null, \`actor_user_id\` text null, \`request_id\` text null, \`payload\` json not null);`);
    this.addSql(`create unique index \`domain_event_id_unique\` on \`domain_event\` (\`id\`);`);
    this.addSql(`create index \`domain_event_customer_department_id_index\` on \`domain_event\` (\`customer_department_id\`);`);
    this.addSql(`create index \`domain_event_provider_department_id_index\` on \`domain_event\` (\`provider_department_id\`);`);
    this.addSql(`create index \`domain_event_occurred_at_index\` on \`domain_event\` (\`occurred_at\`);`);
  }

}
