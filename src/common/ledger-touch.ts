import type { EntityManager } from '@mikro-orm/core';
import { beforeCommit } from './before-commit';
import type { Month } from './month';

/** What a write changed: one agreement's months (all of them, with its ancestors, when omitted). */
export interface LedgerScope {
  agreementId: string;
  months?: Month[];
}

/** Brings the ledger rows of `scopes` up to date at `now`, inside the write's transaction. */
export type LedgerSync = (em: EntityManager, scopes: LedgerScope[], now: Date) => Promise<void>;

/**
 * Every write that changes a score's input (reports, verdicts, exclusions, amendments, lifecycle,
 * handoffs, escalations) says so here; the score ledger, a module above all of them, is synced
 * once per transaction before it commits. The writers stay below the ledger: they name the months
 * they changed, and the ledger's sync is provided by the database wiring (`openOrm`) when it opens
 * the ORM, so a write can never commit without its ledger rows.
 */
let sync: LedgerSync | null = null;

/** Called by `openOrm` with the ledger's sync. */
export function provideLedgerSync(run: LedgerSync): void {
  sync = run;
}

const touched = new WeakMap<EntityManager, { scopes: LedgerScope[]; now: Date }>();

/**
 * Marks agreement-months whose inputs this write changes; the ledger is synced once, at the end of
 * the write's transaction (`runMutation`), at the write's instant.
 */
export function touchLedger(em: EntityManager, now: Date, ...scopes: LedgerScope[]): void {
  let state = touched.get(em);
  if (!state) touched.set(em, (state = { scopes: [], now }));
  state.scopes.push(...scopes);
  beforeCommit(em, 'ledger', async () => {
    const s = touched.get(em);
    touched.delete(em);
    if (!s) return;
    if (!sync) throw new Error('touchLedger: no ledger sync; open the database with openOrm (src/db/orm.ts) first');
    await sync(em, mergeScopes(s.scopes), s.now);
  });
}

/** One scope per agreement: all its months when any scope asked for all, else the union. */
function mergeScopes(scopes: LedgerScope[]): LedgerScope[] {
  const all = new Set(scopes.filter((s) => !s.months).map((s) => s.agreementId));
  const months = new Map<string, Set<Month>>();
  for (const s of scopes) {
    if (!s.months || all.has(s.agreementId)) continue;
    const set = months.get(s.agreementId) ?? new Set<Month>();
    for (const m of s.months) set.add(m);
    months.set(s.agreementId, set);
  }
  return [...[...all].map((agreementId) => ({ agreementId })), ...[...months].map(([agreementId, set]) => ({ agreementId, months: [...set] }))];
}
