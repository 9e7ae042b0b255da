import { ChangeSetType, type EventSubscriber, type FlushEventArgs } from '@mikro-orm/core';
import { actorOf } from '../../common/actor';
import { AuditEntry } from './audit.entity';

/** Entities whose changes are state changes worth recording. */
const AUDITED = new Set([
  'Department',
  'Service',
  'Metric',
  'User',
  'ApiToken',
  'Agreement',
  'AgreementVersion',
  'Objective',
  'Amendment',
  'AgreementLifecycleRequest',
  'Report',
  'ReportRevision',
  'ReportValue',
  'Exclusion',
  'HandoffBatch',
  'MeasurementBatch',
  'EscalationBatch',
  'Escalation',
]);

/** A field set to a time names a transition better than "update". */
const TRANSITIONS: Record<string, string> = { archivedAt: 'archive', revokedAt: 'revoke', deactivatedAt: 'deactivate' };

/**
 * Records every create, update and delete of an audited entity in the same flush, so the entry
 * commits or rolls back with the change: no path can change state without a record, and no
 * service has to remember to write one. Hidden properties (a token's hash) are never copied.
 */
export class AuditSubscriber implements EventSubscriber {
  async onFlush({ em, uow }: FlushEventArgs): Promise<void> {
    const actor = actorOf(em);
    for (const cs of uow.getChangeSets()) {
      if (!AUDITED.has(cs.name)) continue;
      const hidden = new Set(cs.meta.props.filter((p) => p.hidden).map((p) => p.name as string));
      // Payloads hold database values: SQLite's dates are epoch milliseconds. Record ISO strings.
      const dates = new Set(cs.meta.props.filter((p) => p.runtimeType === 'Date' || p.type === 'Date').map((p) => p.name as string));
      const visible = (data: Record<string, unknown> | undefined) =>
        data
          ? Object.fromEntries(
              Object.entries(data)
                .filter(([k]) => !hidden.has(k))
                .map(([k, v]) => [k, dates.has(k) && v !== null && v !== undefined ? new Date(v as string | number).toISOString() : v]),
            )
          : null;
      const payload = visible(cs.payload as Record<string, unknown>) ?? {};
      let action: string = cs.type === ChangeSetType.CREATE ? 'create' : cs.type === ChangeSetType.DELETE ? 'delete' : 'update';
      let before: Record<string, unknown> | null = null;
      let after: Record<string, unknown> | null = payload;
      if (cs.type === ChangeSetType.UPDATE || cs.type === ChangeSetType.UPDATE_EARLY) {
        const original = visible(cs.originalEntity as Record<string, unknown>) ?? {};
        before = Object.fromEntries(Object.keys(payload).map((k) => [k, original[k] ?? null]));
        const named = Object.keys(payload).find((k) => k in TRANSITIONS && payload[k] !== null);
        if (named) action = TRANSITIONS[named];
      } else if (cs.type !== ChangeSetType.CREATE) {
        before = visible(cs.originalEntity as Record<string, unknown>);
        after = null;
      }
      const entry = em.create(AuditEntry, {
        at: new Date(),
        actorUserId: actor.userId,
        actorRole: actor.role,
        requestId: actor.requestId,
        entityType: cs.name,
        entityId: String(cs.getPrimaryKey()),
        action,
        before,
        after,
      });
      uow.computeChangeSet(entry);
    }
  }
}
