import { Migration } from '@mikro-orm/migrations';

export class Migration20261122072211_exclusion_metric_index extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create index "exclusion_metric_id_index" on "exclusion" ("metric_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "exclusion_metric_id_index";`);
  }

}
