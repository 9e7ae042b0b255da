import type { EntityManager } from '@mikro-orm/core';

/**
 * Work a write registers to run at the end of its transaction, after its own changes and before
 * the commit (`runMutation` runs it): derived state, such as the score ledger, is brought up to
 * date once per transaction however many changes asked for it, inside the same all-or-nothing
 * unit. Keyed per transaction EntityManager and per name, so asking twice runs it once.
 */
const pending = new WeakMap<EntityManager, Map<string, () => Promise<void>>>();

export function beforeCommit(em: EntityManager, name: string, work: () => Promise<void>): void {
  let hooks = pending.get(em);
  if (!hooks) pending.set(em, (hooks = new Map()));
  if (!hooks.has(name)) hooks.set(name, work);
}

/** Runs (and forgets) what the transaction registered; work registered meanwhile runs too. */
export async function runBeforeCommit(em: EntityManager): Promise<void> {
  for (let hooks = pending.get(em); hooks && hooks.size; hooks = pending.get(em)) {
    pending.delete(em);
    for (const work of hooks.values()) await work();
  }
}
