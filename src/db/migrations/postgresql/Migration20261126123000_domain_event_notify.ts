import { Migration } from '@mikro-orm/migrations';

/**
 * Live updates (issue 15): every statement that inserts into the outbox notifies the channel
 * `domain_event`, so each instance's live feed (src/modules/live/live-feed.ts) wakes at once
 * instead of at its next poll. PostgreSQL delivers a notification when the inserting transaction
 * commits, and never for one that rolls back; the payload is empty (the feed reads the outbox).
 * Statement-level: a batch of 5,000 events is one notification. Written by hand: the migration
 * generator knows no triggers.
 */
export class Migration20261126123000_domain_event_notify extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create or replace function "domain_event_notify"() returns trigger language plpgsql as $$ begin perform pg_notify('domain_event', ''); return null; end $$;`);
    this.addSql(`create trigger "domain_event_notify" after insert on "domain_event" for each statement execute function "domain_event_notify"();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "domain_event_notify" on "domain_event";`);
    this.addSql(`drop function if exists "domain_event_notify"();`);
  }

}
