import { Migration } from '@mikro-orm/migrations';

export class Migration20261122055409_agreements extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "agreement" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "key" varchar(60) not null, "tier" varchar(20) not null, "title" varchar(300) not null, "provider_id" uuid null, "customer_id" uuid null, "service_id" uuid null, "parent_id" uuid null, "state" varchar(20) not null default 'DRAFT', "provider_approved_at" timestamptz null, "customer_approved_at" timestamptz null, "activated_at" timestamptz null, "terminated_at" timestamptz null, constraint "agreement_pkey" primary key ("id"));`);
    this.addSql(`alter table "agreement" add constraint "agreement_key_unique" unique ("key");`);
    this.addSql(`create index "agreement_provider_id_index" on "agreement" ("provider_id");`);
    this.addSql(`create index "agreement_customer_id_index" on "agreement" ("customer_id");`);
    this.addSql(`create index "agreement_service_id_index" on "agreement" ("service_id");`);
    this.addSql(`create index "agreement_parent_id_index" on "agreement" ("parent_id");`);

    this.addSql(`create table "agreement_version" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "agreement_id" uuid not null, "number" int not null, "effective_month" varchar(7) not null, "effective_from" varchar(7) not null, "effective_to" varchar(7) null, "compliance_target" double precision not null, "monthly_charge" double precision not null, "credit_cap_percent" double precision not null, "report_due_working_days" int not null, "review_cadence_months" int not null, "next_review_date" varchar(10) null, "responsibilities" jsonb not null, "contacts" jsonb not null, "escalation_policy" jsonb not null, "calendar" jsonb not null, constraint "agreement_version_pkey" primary key ("id"));`);
    this.addSql(`create index "agreement_version_agreement_id_index" on "agreement_version" ("agreement_id");`);
    this.addSql(`alter table "agreement_version" add constraint "agreement_version_agreement_id_number_unique" unique ("agreement_id", "number");`);

    this.addSql(`create table "objective" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "agreement_version_id" uuid not null, "metric_id" uuid not null, "position" int not null, "target" double precision not null, "warning" double precision null, "weight" double precision not null, "credit_percent" double precision not null, "inheritance" text check ("inheritance" in ('APPLIES', 'MINIMUM')) not null default 'APPLIES', constraint "objective_pkey" primary key ("id"));`);
    this.addSql(`create index "objective_agreement_version_id_index" on "objective" ("agreement_version_id");`);
    this.addSql(`create index "objective_metric_id_index" on "objective" ("metric_id");`);

    this.addSql(`alter table "agreement" add constraint "agreement_provider_id_foreign" foreign key ("provider_id") references "department" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "agreement" add constraint "agreement_customer_id_foreign" foreign key ("customer_id") references "department" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "agreement" add constraint "agreement_service_id_foreign" foreign key ("service_id") references "service" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "agreement" add constraint "agreement_parent_id_foreign" foreign key ("parent_id") references "agreement" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "agreement_version" add constraint "agreement_version_agreement_id_foreign" foreign key ("agreement_id") references "agreement" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "objective" add constraint "objective_agreement_version_id_foreign" foreign key ("agreement_version_id") references "agreement_version" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "objective" add constraint "objective_metric_id_foreign" foreign key ("metric_id") references "metric" ("id") on update cascade on delete restrict;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "agreement" drop constraint "agreement_parent_id_foreign";`);

    this.addSql(`alter table "agreement_version" drop constraint "agreement_version_agreement_id_foreign";`);

    this.addSql(`alter table "objective" drop constraint "objective_agreement_version_id_foreign";`);

    this.addSql(`drop table if exists "agreement" cascade;`);

    this.addSql(`drop table if exists "agreement_version" cascade;`);

    this.addSql(`drop table if exists "objective" cascade;`);
  }

}
