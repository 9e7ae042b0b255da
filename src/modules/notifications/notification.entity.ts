import { Entity, Index, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from '../../common/ids';

/**
 * One inbox item a user marked read (`markInboxRead`): the pair (user, event) is the key, so
 * marking it again changes nothing. Items at or below the user's {@link InboxWatermark} are read
 * without a row here.
 */
@Entity({ tableName: 'inbox_read' })
export class InboxRead {
  @PrimaryKey({ type: 'string', length: 100 })
  userId!: string;

  @PrimaryKey({ type: 'uuid' })
  eventId!: string;

  @Property({ type: 'Date' })
  readAt!: Date;
}

/** A user's "everything up to here is read" (`markAllInboxRead`): the outbox `seq` it reaches. */
@Entity({ tableName: 'inbox_watermark' })
export class InboxWatermark {
  @PrimaryKey({ type: 'string', length: 100 })
  userId!: string;

  @Property({ type: 'integer' })
  seq!: number;

  @Property({ type: 'Date' })
  updatedAt!: Date;
}

/** What e-mail a user wants; no row means both on. */
@Entity({ tableName: 'email_preference' })
export class EmailPreference {
  @PrimaryKey({ type: 'string', length: 100 })
  userId!: string;

  /** An e-mail for each action awaiting the user, as it arises. */
  @Property({ type: 'boolean' })
  actions!: boolean;

  /** The 08:00 digest of the user's action items. */
  @Property({ type: 'boolean' })
  dailyDigest!: boolean;

  @Property({ type: 'Date' })
  updatedAt!: Date;
}

/**
 * One e-mail to send (docs/notifications.md): written QUEUED by the outbox consumer (an action,
 * unique per event and recipient) or the digest job (unique per recipient and local date), then
 * sent by the sender job, which marks it SENT or schedules another attempt. Rendered when queued,
 * so what is sent is what was decided in the queuing transaction.
 */
@Entity({ tableName: 'email_message' })
@Unique({ properties: ['eventId', 'userId'] })
@Unique({ properties: ['userId', 'digestDate'] })
@Index({ properties: ['status', 'nextAttemptAt'] })
export class EmailMessage {
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'string', length: 100 })
  userId!: string;

  @Property({ type: 'string', length: 320 })
  toAddress!: string;

  /** ACTION (one event) or DIGEST (one day's action items). */
  @Property({ type: 'string', length: 10 })
  kind!: string;

  @Property({ type: 'uuid', nullable: true })
  eventId?: string | null;

  /** `YYYY-MM-DD` in the recipient's zone, for a digest. */
  @Property({ type: 'string', length: 10, nullable: true })
  digestDate?: string | null;

  @Property({ type: 'string', length: 500 })
  subject!: string;

  @Property({ type: 'text' })
  text!: string;

  @Property({ type: 'text' })
  html!: string;

  /** QUEUED, SENT or FAILED (gave up after the last attempt). */
  @Property({ type: 'string', length: 10 })
  status!: string;

  @Property({ type: 'integer' })
  attempts!: number;

  @Property({ type: 'Date' })
  nextAttemptAt!: Date;

  @Property({ type: 'text', nullable: true })
  lastError?: string | null;

  @Property({ type: 'Date' })
  createdAt!: Date;

  @Property({ type: 'Date', nullable: true })
  sentAt?: Date | null;
}
