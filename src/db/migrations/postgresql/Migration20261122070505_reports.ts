import { Migration } from '@mikro-orm/migrations';

export class Migration20261122070505_reports extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "report" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "agreement_id" uuid not null, "month" varchar(7) not null, "status" varchar(20) not null default 'DRAFT', "revision_count" int not null default 0, "draft" jsonb null, "draft_saved_at" timestamptz null, "first_submitted_at" timestamptz null, "late_by_working_days" int null, constraint "report_pkey" primary key ("id"));`);
    this.addSql(`create index "report_agreement_id_index" on "report" ("agreement_id");`);
    this.addSql(`alter table "report" add constraint "report_agreement_id_month_unique" unique ("agreement_id", "month");`);

    this.addSql(`create table "report_revision" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "report_id" uuid not null, "number" int not null, "narrative" text not null, "friction_items" jsonb not null, "submitted_at" timestamptz not null, "submitted_by_user_id" varchar(100) not null, "acknowledged_at" timestamptz null, "disputed_at" timestamptz null, "dispute_reason" text null, "decided_by_user_id" varchar(100) null, constraint "report_revision_pkey" primary key ("id"));`);
    this.addSql(`create index "report_revision_report_id_index" on "report_revision" ("report_id");`);
    this.addSql(`alter table "report_revision" add constraint "report_revision_report_id_number_unique" unique ("report_id", "number");`);

    this.addSql(`create table "report_value" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "revision_id" uuid not null, "objective_id" uuid not null, "metric_id" uuid not null, "position" int not null, "value" double precision not null, constraint "report_value_pkey" primary key ("id"));`);
    this.addSql(`create index "report_value_revision_id_index" on "report_value" ("revision_id");`);
    this.addSql(`create index "report_value_objective_id_index" on "report_value" ("objective_id");`);
    this.addSql(`create index "report_value_metric_id_index" on "report_value" ("metric_id");`);
    this.addSql(`alter table "report_value" add constraint "report_value_revision_id_objective_id_unique" unique ("revision_id", "objective_id");`);

    this.addSql(`create table "exclusion" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "agreement_id" uuid not null, "month" varchar(7) not null, "objective_id" uuid not null, "metric_id" uuid not null, "status" varchar(20) not null default 'REQUESTED', "reason_code" varchar(30) not null, "explanation" text not null, "evidence_url" varchar(2000) null, "status_when_requested" varchar(20) not null, "requested_by_user_id" varchar(100) not null, "decided_at" timestamptz null, "decided_by_user_id" varchar(100) null, "decision_note" text null, constraint "exclusion_pkey" primary key ("id"));`);
    this.addSql(`create index "exclusion_agreement_id_index" on "exclusion" ("agreement_id");`);
    this.addSql(`create index "exclusion_objective_id_index" on "exclusion" ("objective_id");`);

    this.addSql(`alter table "report" add constraint "report_agreement_id_foreign" foreign key ("agreement_id") references "agreement" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "report_revision" add constraint "report_revision_report_id_foreign" foreign key ("report_id") references "report" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "report_value" add constraint "report_value_revision_id_foreign" foreign key ("revision_id") references "report_revision" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "report_value" add constraint "report_value_objective_id_foreign" foreign key ("objective_id") references "objective" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "report_value" add constraint "report_value_metric_id_foreign" foreign key ("metric_id") references "metric" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "exclusion" add constraint "exclusion_agreement_id_foreign" foreign key ("agreement_id") references "agreement" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "exclusion" add constraint "exclusion_objective_id_foreign" foreign key ("objective_id") references "objective" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "exclusion" add constraint "exclusion_metric_id_foreign" foreign key ("metric_id") references "metric" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "metric" add column "collects_friction_items" boolean not null default false;`);

    this.addSql(`alter table "agreement" add column "suspensions" jsonb not null default '[]';`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "report_revision" drop constraint "report_revision_report_id_foreign";`);

    this.addSql(`alter table "report_value" drop constraint "report_value_revision_id_foreign";`);

    this.addSql(`drop table if exists "report" cascade;`);

    this.addSql(`drop table if exists "report_revision" cascade;`);

    this.addSql(`drop table if exists "report_value" cascade;`);

    this.addSql(`drop table if exists "exclusion" cascade;`);

    this.addSql(`alter table "agreement" drop column "suspensions";`);

    this.addSql(`alter table "metric" drop column "collects_friction_items";`);
  }

}
