import { Migration } from '@mikro-orm/migrations';

/**
 * The webhook worker claims due deliveries in (next_attempt_at, event_seq) order (docs/webhooks.md).
 * The index on (status, next_attempt_at) left the event_seq part to a sort of every due delivery
 * with the same next_attempt_at, which in a burst is all of them: thousands of rows sorted per
 * claim of 200. With event_seq in the index a claim reads its rows in order and stops.
 */
export class Migration20261126200000_webhook_claim_order extends Migration {

  override async up(): Promise<void> {
    this.addSql(`drop index \`webhook_delivery_status_next_attempt_at_index\`;`);
    this.addSql(`create index \`webhook_delivery_status_next_attempt_at_event_seq_index\` on \`webhook_delivery\` (\`status\`, \`next_attempt_at\`, \`event_seq\`);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index \`webhook_delivery_status_next_attempt_at_event_seq_index\`;`);
    this.addSql(`create index \`webhook_delivery_status_next_attempt_at_index\` on \`webhook_delivery\` (\`status\`, \`next_attempt_at\`);`);
  }

}
