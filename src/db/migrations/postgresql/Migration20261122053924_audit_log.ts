import { Migration } from '@mikro-orm/migrations';

export class Migration20261122053924_audit_log extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "audit_entry" ("id" uuid not null, "at" timestamptz not null, "actor_user_id" varchar(100) null, "actor_role" varchar(20) null, "request_id" varchar(100) null, "entity_type" varchar(60) not null, "entity_id" varchar(100) not null, "action" varchar(40) not null, "before" jsonb null, "after" jsonb null, constraint "audit_entry_pkey" primary key ("id"));`);
    this.addSql(`create index "audit_entry_at_index" on "audit_entry" ("at");`);
    this.addSql(`create index "audit_entry_entity_type_entity_id_at_index" on "audit_entry" ("entity_type", "entity_id", "at");`);

    // Append-only, enforced by the database too (hand-written: the generator knows no triggers).
    this.addSql(`create or replace function "audit_entry_append_only"() returns trigger language plpgsql as $$ begin raise exception 'audit_entry is append-only'; end $$;`);
    this.addSql(`create trigger "audit_entry_no_change" before update or delete on "audit_entry" for each row execute function "audit_entry_append_only"();`);
    this.addSql(`create trigger "audit_entry_no_truncate" before truncate on "audit_entry" for each statement execute function "audit_entry_append_only"();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists "audit_entry_append_only"() cascade;`);
    this.addSql(`drop table if exists "audit_entry" cascade;`);
  }

}
