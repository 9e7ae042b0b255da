import { Migration } from '@mikro-orm/migrations';

export class Migration20261126122012_notifications extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`email_message\` (\`id\` text not null, \`user_id\` text not null, \`to_address\` text not null, \`kind\` text not null, \`event_id\` text null, \`digest_date\` text null, \`subject\` text not null, \`text\` text not null, \`html\` text not null, \`status\` text not null, \`attempts\` integer not null, \`next_attempt_at\` datetime not null, \`last_error\` text null, \`created_at\` datetime not null, \`sent_at\` datetime null, primary key (\`id\`));`);
    this.addSql(`create index \`email_message_status_next_attempt_at_index\` on \`email_message\` (\`status\`, \`next_attempt_at\`);`);
    this.addSql(`create unique index \`email_message_user_id_digest_date_unique\` on \`email_message\` (\`user_id\`, \`digest_date\`);`);
    this.addSql(`create unique index \`email_message_event_id_user_id_unique\` on \`email_message\` (\`event_id\`, \`user_id\`);`);

    this.addSql(`create table \`email_preference\` (\`user_id\` text not null, \`actions\` integer not null, \`daily_digest\` integer not null, \`updated_at\` datetime not null, primary key (\`user_id\`));`);

    this.addSql(`create table \`inbox_read\` (\`user_id\` text not null, \`event_id\` text not null, \`read_at\` datetime not null, primary key (\`user_id\`, \`event_id\`));`);

    this.addSql(`create table \`inbox_watermark\` (\`user_id\` text not null, \`seq\` integer not null, \`updated_at\` datetime not null, primary key (\`user_id\`));`);
  }

}
