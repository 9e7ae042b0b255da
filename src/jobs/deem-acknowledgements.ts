import type { EntityManager, LockMode } from '@mikro-orm/core';
import { rowLock } from '../common/locks';
import { emitEvents, type EventInput } from '../common/events';
import { Agreement } from '../modules/agreements/agreement.entity';
import { syncLedger } from '../modules/ledger/ledger.service';
import { Report, ReportRevision, ReportStatus } from '../modules/reports/report.entity';

/** Reports deemed acknowledged per batch: a tick that finds more takes them in several batches. */
const BATCH = 500;

/**
 * DESIGN §5, deemed acknowledgement: every SUBMITTED report whose latest revision's acceptance
 * window ended before `now` becomes ACKNOWLEDGED, the revision marked `deemed` and acknowledged at
 * the instant its window ended (not when the scheduler noticed). Returns how many it changed.
 * Reads already showed these reports as ACKNOWLEDGED (`reportStatusAt`); this makes it the stored
 * state, for filters on other engines' tools and for the audit log.
 */
export async function deemAcknowledgements(em: EntityManager, now: Date): Promise<number> {
  let changed = 0;
  for (;;) {
    // Locked on PostgreSQL: a customer's verdict racing the window waits, and then finds the
    // report ACKNOWLEDGED (or this job finds it decided and leaves it).
    const lockMode = rowLock(em, 'update');
    const due = await em.find(
      Report,
      { status: ReportStatus.SUBMITTED, latestRevision: { acceptanceDueAt: { $lt: now } } },
      { orderBy: { id: 'asc' }, limit: BATCH, ...(lockMode ? { lockMode: lockMode as LockMode.PESSIMISTIC_WRITE } : {}) },
    );
    const revisions = new Map((await em.find(ReportRevision, { id: { $in: due.map((r) => r.latestRevision?.id as string) } })).map((r) => [r.id, r]));
    const agreements = new Map((due.length ? await em.find(Agreement, { id: { $in: [...new Set(due.map((r) => r.agreement.id))] } }) : []).map((a) => [a.id, a]));
    const events: Array<EventInput<'report.deemed_acknowledged'>> = [];
    for (const report of due) {
      const revision = revisions.get(report.latestRevision?.id as string) as ReportRevision;
      report.status = ReportStatus.ACKNOWLEDGED;
      revision.acknowledgedAt = revision.acceptanceDueAt;
      revision.deemed = true;
      revision.decidedByUserId = 'system:acceptance-window';
      events.push({
        type: 'report.deemed_acknowledged',
        occurredAt: now,
        agreement: agreements.get(report.agreement.id) as Agreement,
        payload: {
          reportId: report.id,
          month: report.month,
          revision: revision.number,
          statusBefore: ReportStatus.SUBMITTED,
          statusAfter: 'ACKNOWLEDGED',
          acceptanceDueAt: (revision.acceptanceDueAt as Date).toISOString(),
        },
      });
    }
    await em.flush();
    await emitEvents(em, events);
    // The months whose report was just deemed acknowledged close (their ledger rows).
    await syncLedger(
      em,
      due.map((r) => ({ agreementId: r.agreement.id, months: [r.month] })),
      now,
    );
    changed += due.length;
    if (due.length < BATCH) return changed;
  }
}
