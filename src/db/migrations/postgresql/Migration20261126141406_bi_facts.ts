import { Migration } from '@mikro-orm/migrations';

export class Migration20261126141406_bi_facts extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "credit_tombstone" ("id" uuid not null, "agreement_id" uuid not null, "month" varchar(7) not null, "deleted_at" timestamptz not null, constraint "credit_tombstone_pkey" primary key ("id"));`);
    this.addSql(`create index "credit_tombstone_deleted_at_id_index" on "credit_tombstone" ("deleted_at", "id");`);

    this.addSql(`create table "export_link_secret" ("id" int not null, "secret" varchar(100) not null, "created_at" timestamptz not null, constraint "export_link_secret_pkey" primary key ("id"));`);

    this.addSql(`alter table "credit_entry" add column "recorded_at" timestamptz null;`);
    // Entries written before BI pulls read them: their write instant is not known; their posting instant is the closest.
    this.addSql(`update "credit_entry" set "recorded_at" = "posted_at";`);
    this.addSql(`create index "credit_entry_recorded_at_id_index" on "credit_entry" ("recorded_at", "id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "credit_tombstone" cascade;`);

    this.addSql(`drop table if exists "export_link_secret" cascade;`);

    this.addSql(`drop index "credit_entry_recorded_at_id_index";`);
    this.addSql(`alter table "credit_entry" drop column "recorded_at";`);
  }

}
