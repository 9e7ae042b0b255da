import { Migration } from '@mikro-orm/migrations';

/**
 * The PostgreSQL twin adds `exclusion_metric_id_index`; SQLite got that index with the reports
 * migration (its generator indexes foreign keys itself). Kept so both engines have the same
 * migrations, by name.
 */
export class Migration20261122072211_exclusion_metric_index extends Migration {

  override async up(): Promise<void> {
    // Nothing to do on SQLite.
  }

}
