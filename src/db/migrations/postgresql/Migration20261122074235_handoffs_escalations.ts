import { Migration } from '@mikro-orm/migrations';

export class Migration20261122074235_handoffs_escalations extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "handoff_batch" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "source" varchar(100) not null, "received" int not null, "created" int not null, "updated" int not null, "recorded_by_user_id" varchar(100) not null, constraint "handoff_batch_pkey" primary key ("id"));`);

    this.addSql(`create table "handoff_month" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "agreement_id" uuid not null, "month" varchar(7) not null, "volume" int not null, "accepted" int not null, "rejected" int not null, "converted" int not null, "responded" int not null, "response_median_hours" double precision null, "response_p90_hours" double precision null, "mean_quality" double precision null, constraint "handoff_month_pkey" primary key ("id"));`);
    this.addSql(`alter table "handoff_month" add constraint "handoff_month_agreement_id_month_unique" unique ("agreement_id", "month");`);

    this.addSql(`create table "handoff_event" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "source" varchar(100) not null, "external_id" varchar(200) not null, "agreement_id" uuid not null, "stage" varchar(100) not null, "month" varchar(7) not null, "handed_off_at" timestamptz not null, "responded_at" timestamptz null, "accepted_at" timestamptz null, "rejected_at" timestamptz null, "rejection_reason" text null, "converted_at" timestamptz null, "quality_score" double precision null, "response_hours" double precision null, constraint "handoff_event_pkey" primary key ("id"));`);
    this.addSql(`create index "handoff_event_updated_at_id_index" on "handoff_event" ("updated_at", "id");`);
    this.addSql(`create index "handoff_event_agreement_id_month_index" on "handoff_event" ("agreement_id", "month");`);
    this.addSql(`alter table "handoff_event" add constraint "handoff_event_source_external_id_unique" unique ("source", "external_id");`);

    this.addSql(`create table "escalation" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "agreement_id" uuid not null, "severity" varchar(20) not null, "title" varchar(300) not null, "description" text not null, "status" varchar(20) not null default 'OPEN', "month" varchar(7) not null, "opened_at" timestamptz not null, "acknowledged_at" timestamptz null, "resolved_at" timestamptz null, "resolution" text null, "response_target_hours" double precision not null, "resolution_target_hours" double precision not null, "response_hours" double precision null, "resolution_hours" double precision null, "opened_by_user_id" varchar(100) not null, constraint "escalation_pkey" primary key ("id"));`);
    this.addSql(`create index "escalation_agreement_id_month_index" on "escalation" ("agreement_id", "month");`);

    this.addSql(`alter table "handoff_month" add constraint "handoff_month_agreement_id_foreign" foreign key ("agreement_id") references "agreement" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "handoff_event" add constraint "handoff_event_agreement_id_foreign" foreign key ("agreement_id") references "agreement" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "escalation" add constraint "escalation_agreement_id_foreign" foreign key ("agreement_id") references "agreement" ("id") on update cascade on delete restrict;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "handoff_batch" cascade;`);

    this.addSql(`drop table if exists "handoff_month" cascade;`);

    this.addSql(`drop table if exists "handoff_event" cascade;`);

    this.addSql(`drop table if exists "escalation" cascade;`);
  }

}
