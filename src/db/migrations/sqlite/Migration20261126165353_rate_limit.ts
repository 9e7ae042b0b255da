import { Migration } from '@mikro-orm/migrations';

/**
 * Shared rate limits (issue 18): on PostgreSQL this migration adds the table of the buckets every
 * instance shares. SQLite keeps its buckets in the process (one process serves it). Nothing to do
 * here; the migration exists so both engines apply the same list.
 */
export class Migration20261126165353_rate_limit extends Migration {

  override async up(): Promise<void> {
    // Nothing: see the class comment.
  }

  override async down(): Promise<void> {
    // Nothing.
  }

}
