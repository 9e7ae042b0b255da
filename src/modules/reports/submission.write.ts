import { newId } from '../../common/ids';
import { type EntityManager, helper, OptimisticLockError } from '@mikro-orm/core';
import { actorOf } from '../../common/actor';
import { managedFromRow } from '../../common/loaders';
import { bool, sqlOf } from '../../common/sql';
import { type FrictionItem, Report, ReportRevision, ReportStatus } from './report.entity';

/** One submission as `submitReport` decided it: the revision, its values, and the report it joins. */
export interface Submission {
  agreementId: string;
  month: string;
  /** The month's report (locked), or null for the first write about the month. */
  existing: Report | null;
  /** The first submission's instant and lateness; null when the report was submitted before. */
  first: { at: Date; lateByWorkingDays: number } | null;
  narrative: string;
  frictionItems: FrictionItem[];
  submittedAt: Date;
  submittedByUserId: string;
  acceptanceDueAt: Date;
  values: Array<{ objectiveId: string; metricId: string; value: number }>;
}

/** An audit entry as the audit subscriber (src/modules/audit/audit.subscriber.ts) writes it. */
interface Audited {
  entityType: string;
  entityId: string;
  action: 'create' | 'update';
  before: Record<string, unknown> | null;
  after: Record<string, unknown>;
}

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/**
 * Writes a submission with plain statements in the write's transaction (issue 19, goal 2): the
 * report (inserted, or updated under its optimistic version), the revision, its values, and their
 * audit entries, the same rows, versions and audit payloads the ORM's unit of work wrote (keys in
 * the same order, JSON properties as JSON text, dates as ISO strings; test/integration/report-rows
 * compares them), in 4–5 statements, without the change-set computation and query building that
 * cost more than half of a submission's CPU. The report and revision come back as managed entities
 * of `em`, as loaded, so the rest of the transaction and the reply read them as they now are.
 */
export async function writeSubmission(em: EntityManager, s: Submission): Promise<{ report: Report; revision: ReportRevision }> {
  const sql = sqlOf(em);
  const run = async (statement: string, params: unknown[]): Promise<Array<Record<string, unknown>>> => {
    try {
      return await sql.rows<Record<string, unknown>>(statement, params);
    } catch (e) {
      // As the ORM reports them (a unique violation is one `runMutation` knows).
      throw em.getDriver().convertException(e as Error);
    }
  };
  const stamp = new Date();
  const existing = s.existing;
  const reportId = existing?.id ?? newId();
  const revisionId = newId();
  const revisionCount = (existing?.revisionCount ?? 0) + 1;
  const audited: Audited[] = [];

  if (!existing) {
    const first = s.first as NonNullable<Submission['first']>;
    // The latest revision is set once it exists (the two rows point at each other), as the ORM did.
    await run(
      'insert into "report" ("id", "created_at", "updated_at", "agreement_id", "month", "status", "revision_count", "draft", "draft_saved_at", "first_submitted_at", "late_by_working_days") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [reportId, sql.date(stamp), sql.date(stamp), s.agreementId, s.month, ReportStatus.SUBMITTED, revisionCount, null, null, sql.date(first.at), first.lateByWorkingDays],
    );
    audited.push({
      entityType: 'Report',
      entityId: reportId,
      action: 'create',
      before: null,
      after: {
        id: reportId,
        createdAt: iso(stamp),
        updatedAt: iso(stamp),
        agreement: s.agreementId,
        month: s.month,
        status: ReportStatus.SUBMITTED,
        revisionCount,
        latestRevision: revisionId,
        draft: null,
        draftSavedAt: null,
        firstSubmittedAt: iso(first.at),
        lateByWorkingDays: first.lateByWorkingDays,
      },
    });
  }

  const items = JSON.stringify(s.frictionItems);
  const [revisionRow] = await run(
    'insert into "report_revision" ("id", "created_at", "updated_at", "report_id", "number", "narrative", "friction_items", "submitted_at", "submitted_by_user_id", "acceptance_due_at", "deemed") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning *',
    [revisionId, sql.date(stamp), sql.date(stamp), reportId, revisionCount, s.narrative, items, sql.date(s.submittedAt), s.submittedByUserId, sql.date(s.acceptanceDueAt), bool(sql, false)],
  );
  const revisionAudit: Audited = {
    entityType: 'ReportRevision',
    entityId: revisionId,
    action: 'create',
    before: null,
    after: {
      id: revisionId,
      createdAt: iso(stamp),
      updatedAt: iso(stamp),
      report: reportId,
      number: revisionCount,
      narrative: s.narrative,
      frictionItems: items,
      submittedAt: iso(s.submittedAt),
      submittedByUserId: s.submittedByUserId,
      acceptanceDueAt: iso(s.acceptanceDueAt),
      deemed: false,
    },
  };

  const values = s.values.map((v, position) => ({ id: newId(), position, ...v }));
  if (values.length) {
    await run(
      `insert into "report_value" ("id", "created_at", "updated_at", "revision_id", "objective_id", "metric_id", "position", "value") values ${values.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      values.flatMap((v) => [v.id, sql.date(stamp), sql.date(stamp), revisionId, v.objectiveId, v.metricId, v.position, v.value]),
    );
  }
  const valueAudits: Audited[] = values.map((v) => ({
    entityType: 'ReportValue',
    entityId: v.id,
    action: 'create',
    before: null,
    after: { id: v.id, createdAt: iso(stamp), updatedAt: iso(stamp), revision: revisionId, objective: v.objectiveId, metric: v.metricId, position: v.position, value: v.value },
  }));

  let reportRow: Record<string, unknown> | undefined;
  if (!existing) {
    [reportRow] = await run('update "report" set "latest_revision_id" = ?, "updated_at" = ?, "version" = "version" + 1 where "id" = ? returning *', [revisionId, sql.date(stamp), reportId]);
  } else {
    // The properties that change, in the entity's order, then `updatedAt`: what the ORM's change
    // set held, and the audit entry's before and after.
    const original = helper(existing).__originalEntityData as Record<string, unknown>;
    const changes: Array<[property: string, column: string, value: unknown, shown: unknown]> = [];
    const change = (property: string, column: string, value: unknown, shown: unknown = value) => changes.push([property, column, value, shown]);
    if (original.status !== ReportStatus.SUBMITTED) change('status', 'status', ReportStatus.SUBMITTED);
    change('revisionCount', 'revision_count', revisionCount);
    change('latestRevision', 'latest_revision_id', revisionId);
    if (original.draft != null) change('draft', 'draft', null);
    if (original.draftSavedAt != null) change('draftSavedAt', 'draft_saved_at', null);
    if (s.first) {
      change('firstSubmittedAt', 'first_submitted_at', sql.date(s.first.at), iso(s.first.at));
      change('lateByWorkingDays', 'late_by_working_days', s.first.lateByWorkingDays);
    }
    change('updatedAt', 'updated_at', sql.date(stamp), iso(stamp));
    const dates = new Set(['draftSavedAt', 'firstSubmittedAt', 'updatedAt']);
    const before = (k: string) => {
      const v = original[k];
      return v === null || v === undefined ? null : dates.has(k) ? new Date(v as string | number).toISOString() : v;
    };
    [reportRow] = await run(`update "report" set ${changes.map(([, column]) => `"${column}" = ?`).join(', ')}, "version" = "version" + 1 where "id" = ? and "version" = ? returning *`, [
      ...changes.map(([, , value]) => value),
      reportId,
      existing.version,
    ]);
    if (!reportRow) throw OptimisticLockError.lockFailed(existing);
    audited.push({
      entityType: 'Report',
      entityId: reportId,
      action: 'update',
      before: Object.fromEntries(changes.map(([k]) => [k, before(k)])),
      after: Object.fromEntries(changes.map(([k, , , shown]) => [k, shown])),
    });
  }
  audited.push(revisionAudit, ...valueAudits);

  const actor = actorOf(em);
  const at = sql.date(new Date());
  await run(
    `insert into "audit_entry" ("id", "at", "actor_user_id", "actor_role", "request_id", "entity_type", "entity_id", "action", "before", "after") values ${audited.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    audited.flatMap((a) => [newId(), at, actor.userId, actor.role, actor.requestId, a.entityType, a.entityId, a.action, a.before && JSON.stringify(a.before), JSON.stringify(a.after)]),
  );
  return { report: managedFromRow(em, Report, reportRow as Record<string, unknown>, true), revision: managedFromRow(em, ReportRevision, revisionRow, true) };
}
