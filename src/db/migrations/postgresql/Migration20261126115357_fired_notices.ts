import { Migration } from '@mikro-orm/migrations';

export class Migration20261126115357_fired_notices extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "fired_notice" ("key" varchar(200) not null, "fired_at" timestamptz not null, constraint "fired_notice_pkey" primary key ("key"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "fired_notice" cascade;`);
  }

}
