import { Migration } from '@mikro-orm/migrations';

export class Migration20261126120711_webhooks extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "webhook_subscription" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "department_id" uuid not null, "url" varchar(2000) not null, "event_types" jsonb not null, "description" varchar(500) null, "status" varchar(20) not null default 'ENABLED', "disabled_at" timestamptz null, "disabled_reason" varchar(500) null, "secret" varchar(200) not null, "previous_secret" varchar(200) null, "previous_secret_expires_at" timestamptz null, "outbox_tx" bigint not null default 0, "outbox_seq" int not null, "outbox_snapshot" text null, "created_by_user_id" varchar(100) null, constraint "webhook_subscription_pkey" primary key ("id"));`);
    this.addSql(`create index "webhook_subscription_department_id_index" on "webhook_subscription" ("department_id");`);

    this.addSql(`create table "webhook_delivery" ("id" uuid not null, "subscription_id" uuid not null, "event_id" uuid not null, "event_seq" int not null, "event_type" varchar(60) not null, "status" varchar(20) not null default 'PENDING', "attempts" int not null default 0, "cycle_start" int not null default 0, "next_attempt_at" timestamptz null, "lease_until" timestamptz null, "last_attempt_at" timestamptz null, "last_response_code" int null, "last_error" varchar(500) null, "delivered_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "webhook_delivery_pkey" primary key ("id"));`);
    this.addSql(`create index "webhook_delivery_status_next_attempt_at_index" on "webhook_delivery" ("status", "next_attempt_at");`);
    this.addSql(`alter table "webhook_delivery" add constraint "webhook_delivery_subscription_id_event_id_unique" unique ("subscription_id", "event_id");`);

    this.addSql(`alter table "webhook_subscription" add constraint "webhook_subscription_department_id_foreign" foreign key ("department_id") references "department" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "webhook_delivery" add constraint "webhook_delivery_subscription_id_foreign" foreign key ("subscription_id") references "webhook_subscription" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "webhook_delivery" drop constraint "webhook_delivery_subscription_id_foreign";`);

    this.addSql(`drop table if exists "webhook_subscription" cascade;`);

    this.addSql(`drop table if exists "webhook_delivery" cascade;`);
  }

}
