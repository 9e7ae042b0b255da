import { Migration } from '@mikro-orm/migrations';

export class Migration20261126114826_outbox_order extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "outbox_cursor" ("consumer" varchar(60) not null, "tx" bigint not null default 0, "seq" int not null default 0, "updated_at" timestamptz not null, constraint "outbox_cursor_pkey" primary key ("consumer"));`);

    this.addSql(`alter table "domain_event" add column "tx" bigint not null default 0;`);
    this.addSql(`create index "domain_event_tx_seq_index" on "domain_event" ("tx", "seq");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "outbox_cursor" cascade;`);

    this.addSql(`drop index "domain_event_tx_seq_index";`);
    this.addSql(`alter table "domain_event" drop column "tx";`);
  }

}
