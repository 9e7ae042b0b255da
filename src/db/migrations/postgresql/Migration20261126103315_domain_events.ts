import { Migration } from '@mikro-orm/migrations';

export class Migration20261126103315_domain_events extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "domain_event" ("seq" serial primary key, "id" uuid not null, "type" varchar(60) not null, "version" int not null, "occurred_at" timestamptz not null, "agreement_id" uuid null, "agreement_key" varchar(100) null, "provider_department_id" uuid null, "customer_department_id" uuid null, "actor_user_id" varchar(100) null, "request_id" varchar(100) null, "payload" jsonb not null);`);
    this.addSql(`alter table "domain_event" add constraint "domain_event_id_unique" unique ("id");`);
    this.addSql(`create index "domain_event_customer_department_id_index" on "domain_event" ("customer_department_id");`);
    this.addSql(`create index "domain_event_provider_department_id_index" on "domain_event" ("provider_department_id");`);
    this.addSql(`create index "domain_event_occurred_at_index" on "domain_event" ("occurred_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "domain_event" cascade;`);
  }

}
