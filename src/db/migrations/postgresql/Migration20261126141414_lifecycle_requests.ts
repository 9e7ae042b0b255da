import { Migration } from '@mikro-orm/migrations';

export class Migration20261126141414_lifecycle_requests extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "agreement_lifecycle_request" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "agreement_id" uuid not null, "kind" varchar(20) not null, "status" varchar(20) not null default 'PENDING', "reason" text not null, "effective_month" varchar(7) null, "requested_by" varchar(20) not null, "requested_by_user_id" varchar(100) null, "requested_at" timestamptz not null, "decided_at" timestamptz null, "decided_by" varchar(20) null, "decided_by_user_id" varchar(100) null, "rejection_reason" text null, constraint "agreement_lifecycle_request_pkey" primary key ("id"));`);
    this.addSql(`create index "agreement_lifecycle_request_agreement_id_status_index" on "agreement_lifecycle_request" ("agreement_id", "status");`);

    this.addSql(`alter table "agreement_lifecycle_request" add constraint "agreement_lifecycle_request_agreement_id_foreign" foreign key ("agreement_id") references "agreement" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "agreement" add column "terminates_from" varchar(7) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "agreement_lifecycle_request" cascade;`);

    this.addSql(`alter table "agreement" drop column "terminates_from";`);
  }

}
