import { Migration } from '@mikro-orm/migrations';

export class Migration20261122060019_amendments extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "amendment" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "agreement_id" uuid not null, "status" varchar(20) not null default 'PROPOSED', "effective_month" varchar(7) not null, "reason" text not null, "proposed_by" varchar(20) not null, "proposed_by_user_id" varchar(100) not null, "changes" jsonb not null, "decided_at" timestamptz null, "decided_by_user_id" varchar(100) null, "rejection_reason" text null, "resulting_version_id" uuid null, constraint "amendment_pkey" primary key ("id"));`);
    this.addSql(`create index "amendment_agreement_id_index" on "amendment" ("agreement_id");`);

    this.addSql(`alter table "amendment" add constraint "amendment_agreement_id_foreign" foreign key ("agreement_id") references "agreement" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "amendment" add constraint "amendment_resulting_version_id_foreign" foreign key ("resulting_version_id") references "agreement_version" ("id") on update cascade on delete restrict;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "amendment" cascade;`);
  }

}
