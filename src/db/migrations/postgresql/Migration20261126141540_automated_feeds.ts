import { Migration } from '@mikro-orm/migrations';

export class Migration20261126141540_automated_feeds extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "escalation_batch" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "source" varchar(100) not null, "received" int not null, "created" int not null, "updated" int not null, "recorded_by_user_id" varchar(100) not null, constraint "escalation_batch_pkey" primary key ("id"));`);

    this.addSql(`create table "measurement_batch" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "source" varchar(100) not null, "received" int not null, "created" int not null, "updated" int not null, "recorded_by_user_id" varchar(100) not null, constraint "measurement_batch_pkey" primary key ("id"));`);

    this.addSql(`create table "measurement_month" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "agreement_id" uuid not null, "metric_id" uuid not null, "month" varchar(7) not null, "value" double precision not null, "measurements" int not null, constraint "measurement_month_pkey" primary key ("id"));`);
    this.addSql(`create index "measurement_month_agreement_id_month_index" on "measurement_month" ("agreement_id", "month");`);
    this.addSql(`alter table "measurement_month" add constraint "measurement_month_agreement_id_metric_id_month_unique" unique ("agreement_id", "metric_id", "month");`);

    this.addSql(`create table "measurement" ("id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, "source" varchar(100) not null, "external_id" varchar(200) not null, "agreement_id" uuid not null, "metric_id" uuid not null, "month" varchar(7) null, "starts_at" timestamptz not null, "ends_at" timestamptz not null, "value" double precision not null, constraint "measurement_pkey" primary key ("id"));`);
    this.addSql(`create index "measurement_updated_at_id_index" on "measurement" ("updated_at", "id");`);
    this.addSql(`create index "measurement_agreement_id_metric_id_starts_at_index" on "measurement" ("agreement_id", "metric_id", "starts_at");`);
    this.addSql(`alter table "measurement" add constraint "measurement_source_external_id_unique" unique ("source", "external_id");`);

    this.addSql(`alter table "measurement_month" add constraint "measurement_month_agreement_id_foreign" foreign key ("agreement_id") references "agreement" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "measurement_month" add constraint "measurement_month_metric_id_foreign" foreign key ("metric_id") references "metric" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "measurement" add constraint "measurement_agreement_id_foreign" foreign key ("agreement_id") references "agreement" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "measurement" add constraint "measurement_metric_id_foreign" foreign key ("metric_id") references "metric" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "metric" add column "feed" varchar(40) null, add column "aggregation" varchar(20) null;`);
    // Issue 16: every AUTOMATED metric declares its feed. The built-in metrics were wired by their
    // code; they keep that computation as their feed. Any other AUTOMATED metric had no source and
    // keeps none: its objectives were never scored, and updateMetric asks for a feed before any change.
    this.addSql(`update "metric" set "feed" = "code" where "source" = 'AUTOMATED' and "code" in ('HANDOFF_VOLUME', 'HANDOFF_ACCEPTANCE_RATE', 'HANDOFF_RESPONSE_MEDIAN', 'HANDOFF_RESPONSE_P90', 'HANDOFF_CONVERSION_RATE', 'HANDOFF_QUALITY', 'ESCALATION_RESPONSE_ON_TIME', 'ESCALATION_RESPONSE_P90', 'ESCALATION_MTTR', 'REPORT_DAYS_LATE', 'FRICTION_REPORT_DELIVERED');`);

    this.addSql(`alter table "escalation" add column "source" varchar(100) null, add column "external_id" varchar(200) null;`);
    this.addSql(`alter table "escalation" add constraint "escalation_source_external_id_unique" unique ("source", "external_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "escalation_batch" cascade;`);

    this.addSql(`drop table if exists "measurement_batch" cascade;`);

    this.addSql(`drop table if exists "measurement_month" cascade;`);

    this.addSql(`drop table if exists "measurement" cascade;`);

    this.addSql(`alter table "escalation" drop constraint "escalation_source_external_id_unique";`);
    this.addSql(`alter table "escalation" drop column "source", drop column "external_id";`);

    this.addSql(`alter table "metric" drop column "feed", drop column "aggregation";`);
  }

}
