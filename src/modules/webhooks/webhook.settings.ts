import type { EntityManager } from '@mikro-orm/core';

/** What a subscription's URL may be and how long an attempt may take (src/common/config.ts, `webhooks`). */
export interface WebhookSettings {
  allowHttp: boolean;
  allowPrivate: boolean;
  timeoutMs: number;
}

/** Without settings (a programming slip), the strict ones: https only, public addresses only. */
const STRICT: WebhookSettings = { allowHttp: false, allowPrivate: false, timeoutMs: 10_000 };

/**
 * The settings of each open database: services see only a request's EntityManager, whose forks
 * all share the ORM's configuration object, so that object keys them. No global: two apps in one
 * process (the tests) keep their own.
 */
const byOrm = new WeakMap<object, WebhookSettings>();

/** Called by the composition (src/server.ts) once the ORM is open. */
export function provideWebhookSettings(em: EntityManager, settings: WebhookSettings): void {
  byOrm.set(em.config, settings);
}

export function webhookSettings(em: EntityManager): WebhookSettings {
  return byOrm.get(em.config) ?? STRICT;
}
