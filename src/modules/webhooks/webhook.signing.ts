/**
 * Standard Webhooks v1 (https://www.standardwebhooks.com, docs/webhooks.md): the secret, the
 * envelope and the signature, pure functions the worker and the tests share nothing with (the
 * tests verify with the independent `standardwebhooks` package).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { OutboxEvent } from '../../common/outbox';

const PREFIX = 'whsec_';

/** A new secret: `whsec_` and 32 random bytes in base64 (the spec asks 24 to 64). */
export function newSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the secret's bytes after `whsec_`. */
export function signature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** The `webhook-signature` header: one signature per secret in force, space-separated. */
export function signatureHeader(secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets.map((s) => signature(s, id, timestamp, body)).join(' ');
}

/** The event as the wire carries it: `{ type, timestamp, data }`, the spec's recommended envelope. */
export interface WebhookEnvelope {
  type: string;
  /** When the event occurred (ISO 8601). */
  timestamp: string;
  data: {
    id: string;
    seq: number;
    occurredAt: string;
    agreementKey: string | null;
    agreementId: string | null;
    providerDepartmentId: string | null;
    customerDepartmentId: string | null;
    version: number;
    payload: Record<string, unknown>;
  };
}

/** The body of every attempt of an event's delivery: the same bytes each time. */
export function envelopeOf(
  event: Pick<OutboxEvent, 'id' | 'seq' | 'type' | 'version' | 'occurredAt' | 'agreementId' | 'agreementKey' | 'providerDepartmentId' | 'customerDepartmentId' | 'payload'>,
): string {
  const envelope: WebhookEnvelope = {
    type: event.type,
    timestamp: event.occurredAt.toISOString(),
    data: {
      id: event.id,
      seq: event.seq,
      occurredAt: event.occurredAt.toISOString(),
      agreementKey: event.agreementKey,
      agreementId: event.agreementId,
      providerDepartmentId: event.providerDepartmentId,
      customerDepartmentId: event.customerDepartmentId,
      version: event.version,
      payload: event.payload,
    },
  };
  return JSON.stringify(envelope);
}
