import { Migration } from '@mikro-orm/migrations';

/**
 * Live updates (issue 15): on PostgreSQL this migration adds the trigger that notifies each
 * instance's live feed of new outbox events. SQLite has no notifications (and one process writes
 * it): the feed polls. Nothing to do here; the migration exists so both engines apply the same list.
 */
export class Migration20261126123000_domain_event_notify extends Migration {

  override async up(): Promise<void> {
    // Nothing: see the class comment.
  }

  override async down(): Promise<void> {
    // Nothing.
  }

}
