import { Migration } from '@mikro-orm/migrations';

export class Migration20261126120711_webhooks extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`webhook_subscription\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`department_id\` text not null, \`url\` text not null, \`event_types\` json not null, \`description\` text null, \`status\` text not null default 'ENABLED', \`disabled_at\` datetime null, \`disabled_reason\` text null, \`secret\` text not null, \`previous_secret\` text null, \`previous_secret_expires_at\` datetime null, \`outbox_tx\` bigint not null default 0, \`outbox_seq\` integer not null, \`outbox_snapshot\` text null, \`created_by_user_id\` text null, constraint \`webhook_subscription_department_id_foreign\` foreign key(\`department_id\`) references \`department\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`webhook_subscription_department_id_index\` on \`webhook_subscription\` (\`department_id\`);`);

    this.addSql(`create table \`webhook_delivery\` (\`id\` text not null, \`subscription_id\` text not null, \`event_id\` text not null, \`event_seq\` integer not null, \`event_type\` text not null, \`status\` text not null default 'PENDING', \`attempts\` integer not null default 0, \`cycle_start\` integer not null default 0, \`next_attempt_at\` datetime null, \`lease_until\` datetime null, \`last_attempt_at\` datetime null, \`last_response_code\` integer null, \`last_error\` text null, \`delivered_at\` datetime null, \`created_at\` datetime not null, \`updated_at\` datetime not null, constraint \`webhook_delivery_subscription_id_foreign\` foreign key(\`subscription_id\`) references \`webhook_subscription\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`webhook_delivery_subscription_id_index\` on \`webhook_delivery\` (\`subscription_id\`);`);
    this.addSql(`create index \`webhook_delivery_status_next_attempt_at_index\` on \`webhook_delivery\` (\`status\`, \`next_attempt_at\`);`);
    this.addSql(`create unique index \`webhook_delivery_subscription_id_event_id_unique\` on \`webhook_delivery\` (\`subscription_id\`, \`event_id\`);`);
  }

}
