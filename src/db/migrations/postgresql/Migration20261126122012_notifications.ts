import { Migration } from '@mikro-orm/migrations';

export class Migration20261126122012_notifications extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "email_message" ("id" uuid not null, "user_id" varchar(100) not null, "to_address" varchar(320) not null, "kind" varchar(10) not null, "event_id" uuid null, "digest_date" varchar(10) null, "subject" varchar(500) not null, "text" text not null, "html" text not null, "status" varchar(10) not null, "attempts" int not null, "next_attempt_at" timestamptz not null, "last_error" text null, "created_at" timestamptz not null, "sent_at" timestamptz null, constraint "email_message_pkey" primary key ("id"));`);
    this.addSql(`create index "email_message_status_next_attempt_at_index" on "email_message" ("status", "next_attempt_at");`);
    this.addSql(`alter table "email_message" add constraint "email_message_user_id_digest_date_unique" unique ("user_id", "digest_date");`);
    this.addSql(`alter table "email_message" add constraint "email_message_event_id_user_id_unique" unique ("event_id", "user_id");`);

    this.addSql(`create table "email_preference" ("user_id" varchar(100) not null, "actions" boolean not null, "daily_digest" boolean not null, "updated_at" timestamptz not null, constraint "email_preference_pkey" primary key ("user_id"));`);

    this.addSql(`create table "inbox_read" ("user_id" varchar(100) not null, "event_id" uuid not null, "read_at" timestamptz not null, constraint "inbox_read_pkey" primary key ("user_id", "event_id"));`);

    this.addSql(`create table "inbox_watermark" ("user_id" varchar(100) not null, "seq" int not null, "updated_at" timestamptz not null, constraint "inbox_watermark_pkey" primary key ("user_id"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "email_message" cascade;`);

    this.addSql(`drop table if exists "email_preference" cascade;`);

    this.addSql(`drop table if exists "inbox_read" cascade;`);

    this.addSql(`drop table if exists "inbox_watermark" cascade;`);
  }

}
