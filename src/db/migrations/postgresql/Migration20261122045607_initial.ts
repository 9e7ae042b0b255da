import { Migration } from '@mikro-orm/migrations';

export class Migration20261122045607_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "department" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "code" varchar(40) not null, "name" varchar(200) not null, "parent_id" uuid null, "archived_at" timestamptz null, constraint "department_pkey" primary key ("id"));`);
    this.addSql(`alter table "department" add constraint "department_code_unique" unique ("code");`);
    this.addSql(`create index "department_parent_id_index" on "department" ("parent_id");`);

    this.addSql(`create table "idempotency_record" ("id" uuid not null, "scope" varchar(100) not null, "operation" varchar(100) not null, "key" varchar(200) not null, "request_hash" varchar(64) not null, "result_id" varchar(100) not null, "created_at" timestamptz not null, constraint "idempotency_record_pkey" primary key ("id"));`);
    this.addSql(`alter table "idempotency_record" add constraint "idempotency_record_scope_operation_key_unique" unique ("scope", "operation", "key");`);

    this.addSql(`create table "metric" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "code" varchar(40) not null, "name" varchar(200) not null, "unit" varchar(20) not null, "direction" text check ("direction" in ('HIGHER_IS_BETTER', 'LOWER_IS_BETTER')) not null, "source" text check ("source" in ('MANUAL', 'AUTOMATED')) not null, "description" text not null default '', "min_value" double precision null, "max_value" double precision null, "integer_only" boolean not null default false, "archived_at" timestamptz null, constraint "metric_pkey" primary key ("id"));`);
    this.addSql(`alter table "metric" add constraint "metric_code_unique" unique ("code");`);

    this.addSql(`create table "service" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "code" varchar(40) not null, "name" varchar(200) not null, "description" text not null default '', "provider_id" uuid not null, "archived_at" timestamptz null, constraint "service_pkey" primary key ("id"));`);
    this.addSql(`alter table "service" add constraint "service_code_unique" unique ("code");`);
    this.addSql(`create index "service_provider_id_index" on "service" ("provider_id");`);

    this.addSql(`alter table "department" add constraint "department_parent_id_foreign" foreign key ("parent_id") references "department" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "service" add constraint "service_provider_id_foreign" foreign key ("provider_id") references "department" ("id") on update cascade on delete restrict;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "department" drop constraint "department_parent_id_foreign";`);

    this.addSql(`alter table "service" drop constraint "service_provider_id_foreign";`);

    this.addSql(`drop table if exists "department" cascade;`);

    this.addSql(`drop table if exists "idempotency_record" cascade;`);

    this.addSql(`drop table if exists "metric" cascade;`);

    this.addSql(`drop table if exists "service" cascade;`);
  }

}
