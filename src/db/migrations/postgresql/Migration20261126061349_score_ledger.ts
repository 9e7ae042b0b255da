import { Migration } from '@mikro-orm/migrations';

export class Migration20261126061349_score_ledger extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "credit_entry" ("id" uuid not null, "agreement_id" uuid not null, "month" varchar(7) not null, "kind" varchar(20) not null, "percent" double precision not null, "amount" double precision not null, "delta" double precision not null, "objectives" jsonb not null, "provider_id" uuid not null, "customer_id" uuid not null, "posted_at" timestamptz not null, "reason" text null, constraint "credit_entry_pkey" primary key ("id"));`);
    this.addSql(`create index "credit_entry_posted_at_id_index" on "credit_entry" ("posted_at", "id");`);
    this.addSql(`create index "credit_entry_provider_id_month_index" on "credit_entry" ("provider_id", "month");`);
    this.addSql(`create index "credit_entry_agreement_id_month_index" on "credit_entry" ("agreement_id", "month");`);

    this.addSql(`create table "ledger_month" ("agreement_id" uuid not null, "month" varchar(7) not null, "agreement_key" varchar(200) not null, "provider_id" uuid not null, "customer_id" uuid not null, "tier" varchar(20) not null, "version_number" int not null, "compliance_target" double precision not null, "credit_cap_percent" double precision not null, "monthly_charge" double precision not null, "month_ends_at" timestamptz not null, "due_at" timestamptz not null, "due_date" varchar(10) not null, "has_manual" boolean not null, "report_id" uuid null, "report_status" varchar(20) null, "report_revision" int null, "acknowledged_at" timestamptz null, "acceptance_due_at" timestamptz null, "deemed" boolean not null, "value_changes" text not null, "status" varchar(20) null, "status_rank" int null, "score" double precision null, "sum_weighted" double precision not null, "sum_weight" double precision not null, "scored_count" int not null, "evaluated" int not null, "met" int not null, "breaches" int not null, "credit_percent" double precision not null, "credit_uncapped_percent" double precision not null, "credit_amount" double precision not null, "disputed" boolean not null, "phase" varchar(10) not null, "closed" boolean not null, "closed_at" timestamptz null, "late_data_at" timestamptz null, "computed_at" timestamptz not null, "valid_until" timestamptz null, "updated_at" timestamptz not null, "deleted" boolean not null, constraint "ledger_month_pkey" primary key ("agreement_id", "month"));`);
    this.addSql(`create index "ledger_month_agreement_key_month_index" on "ledger_month" ("agreement_key", "month");`);
    this.addSql(`create index "ledger_month_valid_until_index" on "ledger_month" ("valid_until");`);
    this.addSql(`create index "ledger_month_updated_at_agreement_id_month_index" on "ledger_month" ("updated_at", "agreement_id", "month");`);
    this.addSql(`create index "ledger_month_month_provider_id_index" on "ledger_month" ("month", "provider_id");`);

    this.addSql(`create table "ledger_objective" ("agreement_id" uuid not null, "month" varchar(7) not null, "objective_id" uuid not null, "position" int not null, "metric_id" uuid not null, "metric_code" varchar(100) not null, "source" varchar(20) not null, "inherited_from_id" uuid null, "direction" varchar(20) not null, "target" double precision not null, "warning" double precision null, "weight" double precision not null, "credit_percent" double precision not null, "input_value" double precision null, "excused" boolean not null, "status" varchar(20) not null, "attainment" double precision null, "updated_at" timestamptz not null, "deleted" boolean not null, constraint "ledger_objective_pkey" primary key ("agreement_id", "month", "objective_id"));`);
    this.addSql(`create index "ledger_objective_updated_at_agreement_id_month_obj_1f226_index" on "ledger_objective" ("updated_at", "agreement_id", "month", "objective_id");`);

    this.addSql(`create table "ledger_state" ("id" int not null, "horizon" varchar(7) null, "built_at" timestamptz null, constraint "ledger_state_pkey" primary key ("id"));`);

    this.addSql(`create table "month_close" ("id" uuid not null, "agreement_id" uuid not null, "month" varchar(7) not null, "closed_at" timestamptz not null, "cause" varchar(20) not null, "snapshot" text not null, "late_data_at" timestamptz null, "reopened_at" timestamptz null, "reopening_id" uuid null, constraint "month_close_pkey" primary key ("id"));`);
    this.addSql(`create index "month_close_agreement_id_month_index" on "month_close" ("agreement_id", "month");`);

    this.addSql(`create table "month_reopening" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "agreement_id" uuid not null, "month" varchar(7) not null, "reason" text not null, "status" varchar(20) not null default 'REQUESTED', "requested_by_side" varchar(10) not null, "requested_by_user_id" uuid null, "decided_by_user_id" uuid null, "decided_at" timestamptz null, "note" text null, constraint "month_reopening_pkey" primary key ("id"));`);
    this.addSql(`create index "month_reopening_agreement_id_month_index" on "month_reopening" ("agreement_id", "month");`);

    this.addSql(`alter table "month_reopening" add constraint "month_reopening_agreement_id_foreign" foreign key ("agreement_id") references "agreement" ("id") on update cascade on delete restrict;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "credit_entry" cascade;`);

    this.addSql(`drop table if exists "ledger_month" cascade;`);

    this.addSql(`drop table if exists "ledger_objective" cascade;`);

    this.addSql(`drop table if exists "ledger_state" cascade;`);

    this.addSql(`drop table if exists "month_close" cascade;`);

    this.addSql(`drop table if exists "month_reopening" cascade;`);
  }

}
