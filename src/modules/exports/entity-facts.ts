/**
 * The entity fact tables of issue 16 ("BI for every entity"), one definition each: columns
 * (entity-fact-columns.ts), GraphQL names, and the rows (a keyset source, or the score ledger for
 * the scorecards). docs/bi.md describes each table's grain, keys and update semantics.
 */
import { snapshotInstant } from '../../common/read-route';
import { sqlOf, asDate, dateOrNull, isTrue } from '../../common/sql';
import type { Context } from '../../common/context';
import type { Month } from '../../common/month';
import { windowMonths } from '../../common/month-window';
import { cursorCodec } from '../../common/connection';
import { loadManyOrThrow } from '../../common/loaders';
import { clean } from '../../scoring';
import type { Agreement } from '../agreements/agreement.entity';
import type { ReportStatus } from '../reports/report.entity';
import { reportStatusAt } from '../reports/report.service';
import { isDisputed, measuredMonths, type ScoredMonth, scoreMonths } from '../scorecards/scorecard.service';
import {
  AGREEMENT_VERSION_FACT_COLUMNS,
  AMENDMENT_FACT_COLUMNS,
  CREDIT_FACT_COLUMNS,
  ESCALATION_FACT_COLUMNS,
  EXCLUSION_FACT_COLUMNS,
  REPORT_REVISION_FACT_COLUMNS,
  SCORECARD_FACT_COLUMNS,
  type ScorecardFact,
} from './entity-fact-columns';
import type { FactColumns } from './fact-columns';
import { factTable, type FactPage, type FactTable, MAX_FACT_PAGE } from './fact-table';
import { type FactFilter, holdsAt, ledgerMonthConditions } from './facts.service';
import { agreementColumns, entityRows, isDeleted, type KeysetSource, later, readKeyset, type Row } from './keyset-facts';

const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const intOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
/** A rounded number (9 decimals, as the scoring rules round), or null. */
const rounded = (v: unknown): number | null => (v === null || v === undefined ? null : clean(Number(v)));
/** A JSON column: parsed by the PostgreSQL driver, text on SQLite. */
const json = <T>(v: unknown, fallback: T): T => (v === null || v === undefined ? fallback : typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

/** Declares a keyset fact table: the definition and its reader in one. */
function keysetTable<C extends FactColumns>(names: Pick<FactTable, 'file' | 'query' | 'type'> & { descriptions: FactTable['descriptions'] }, columns: C, source: Omit<KeysetSource<C>, 'cursor'>) {
  const full: KeysetSource<C> = { ...source, cursor: names.query };
  return factTable({
    file: names.file,
    query: names.query,
    type: names.type,
    descriptions: names.descriptions,
    columns,
    read: (ctx, filter, first, after) => readKeyset(ctx, full, filter, first, after),
  });
}

/** The description of a keyset connection query. */
const byUpdatedAt = (what: string) =>
  `${what} as flat rows for BI, by (updatedAt, id), up to the snapshot instant \`asOf\`; \`first\` up to ${MAX_FACT_PAGE}. Pull increments with \`filter.updatedSince\` = the last pull’s \`asOf\`.`;

export const REPORT_REVISION_FACTS = keysetTable(
  {
    file: 'reports',
    query: 'reportRevisionFacts',
    type: 'ReportRevisionFact',
    descriptions: {
      row: 'One submitted revision of a report, with the report’s status, flat, for a warehouse.',
      connection: 'A page of report revision facts.',
      query: byUpdatedAt('Report revisions (one row per submission, with the report’s status)'),
    },
  },
  REPORT_REVISION_FACT_COLUMNS,
  {
    from: () => 'report_revision rv join report r on r.id = rv.report_id left join report_revision lr on lr.id = r.latest_revision_id',
    agreementId: 'r.agreement_id',
    id: 'rv.id',
    month: 'r.month',
    // The report's row changes with its status and latest revision, which every revision shows.
    updatedAt: (sql) => later(sql, 'rv.updated_at', 'r.updated_at'),
    select: [
      'r.id as "report_id"',
      'rv.number as "number"',
      'r.latest_revision_id as "latest_revision_id"',
      'r.status as "report_status"',
      'lr.acceptance_due_at as "latest_acceptance_due_at"',
      'lr.deemed as "latest_deemed"',
      'r.late_by_working_days as "late_by_working_days"',
      'rv.submitted_at as "submitted_at"',
      'rv.acceptance_due_at as "acceptance_due_at"',
      'rv.acknowledged_at as "acknowledged_at"',
      'rv.disputed_at as "disputed_at"',
      'rv.dispute_reason as "dispute_reason"',
      'rv.ruling as "ruling"',
      'rv.ruled_at as "ruled_at"',
      'rv.friction_items as "friction_items"',
      'rv.narrative as "narrative"',
    ],
    map: (r, ctx) => {
      const at = reportStatusAt(
        { status: str(r.report_status) as ReportStatus },
        r.latest_revision_id == null ? null : { acceptanceDueAt: dateOrNull(r.latest_acceptance_due_at), deemed: isTrue(r.latest_deemed) },
        ctx.request.now,
      );
      return {
        id: str(r.id),
        reportId: str(r.report_id),
        month: str(r.month),
        ...agreementColumns(r),
        revision: Number(r.number),
        latest: r.latest_revision_id === r.id,
        reportStatus: at.status,
        deemedAcknowledged: at.deemed,
        lateByWorkingDays: intOrNull(r.late_by_working_days),
        submittedAt: asDate(r.submitted_at),
        acceptanceDueAt: dateOrNull(r.acceptance_due_at),
        acknowledgedAt: dateOrNull(r.acknowledged_at),
        disputedAt: dateOrNull(r.disputed_at),
        disputeReason: strOrNull(r.dispute_reason),
        ruling: strOrNull(r.ruling),
        ruledAt: dateOrNull(r.ruled_at),
        frictionItems: json<unknown[]>(r.friction_items, []).length,
        narrative: str(r.narrative),
        updatedAt: asDate(r.row_updated_at),
      };
    },
  },
);

export const EXCLUSION_FACTS = keysetTable(
  {
    file: 'exclusions',
    query: 'exclusionFacts',
    type: 'ExclusionFact',
    descriptions: {
      row: 'A request to excuse an objective-month, flat, for a warehouse.',
      connection: 'A page of exclusion facts.',
      query: byUpdatedAt('Exclusions (excused-breach requests, decided or not)'),
    },
  },
  EXCLUSION_FACT_COLUMNS,
  {
    ...entityRows('exclusion'),
    from: () => 'exclusion x join metric mt on mt.id = x.metric_id',
    select: [
      'mt.code as "metric"',
      'x.status as "status"',
      'x.reason_code as "reason_code"',
      'x.status_when_requested as "status_when_requested"',
      'x.explanation as "explanation"',
      'x.evidence_url as "evidence_url"',
      'x.created_at as "created_at"',
      'x.decided_at as "decided_at"',
      'x.decision_note as "decision_note"',
    ],
    map: (r) => ({
      id: str(r.id),
      month: str(r.month),
      ...agreementColumns(r),
      metric: str(r.metric),
      status: str(r.status),
      reasonCode: str(r.reason_code),
      statusWhenRequested: str(r.status_when_requested),
      explanation: str(r.explanation),
      evidenceUrl: strOrNull(r.evidence_url),
      requestedAt: asDate(r.created_at),
      decidedAt: dateOrNull(r.decided_at),
      decisionNote: strOrNull(r.decision_note),
      updatedAt: asDate(r.row_updated_at),
    }),
  },
);

export const AMENDMENT_FACTS = keysetTable(
  {
    file: 'amendments',
    query: 'amendmentFacts',
    type: 'AmendmentFact',
    descriptions: {
      row: 'A proposed change of an agreement’s terms, flat, for a warehouse.',
      connection: 'A page of amendment facts.',
      query: byUpdatedAt('Amendments (every status, withdrawn ones included)'),
    },
  },
  AMENDMENT_FACT_COLUMNS,
  {
    ...entityRows('amendment', 'effective_month'),
    from: () => 'amendment x left join agreement_version rv on rv.id = x.resulting_version_id',
    select: [
      'x.status as "status"',
      'x.proposed_by as "proposed_by"',
      'x.reason as "reason"',
      'x.created_at as "created_at"',
      'x.provider_approved_at as "provider_approved_at"',
      'x.customer_approved_at as "customer_approved_at"',
      'x.decided_at as "decided_at"',
      'x.rejection_reason as "rejection_reason"',
      'rv.number as "resulting_version"',
      'x.changes as "changes"',
    ],
    map: (r) => {
      const changes = json<{ addObjectives?: unknown[]; changeObjectives?: unknown[]; removeObjectives?: unknown[] }>(r.changes, {});
      return {
        id: str(r.id),
        month: str(r.month),
        ...agreementColumns(r),
        status: str(r.status),
        proposedBy: str(r.proposed_by),
        reason: str(r.reason),
        proposedAt: asDate(r.created_at),
        providerApprovedAt: dateOrNull(r.provider_approved_at),
        customerApprovedAt: dateOrNull(r.customer_approved_at),
        decidedAt: dateOrNull(r.decided_at),
        rejectionReason: strOrNull(r.rejection_reason),
        resultingVersion: intOrNull(r.resulting_version),
        objectivesAdded: changes.addObjectives?.length ?? 0,
        objectivesChanged: changes.changeObjectives?.length ?? 0,
        objectivesRemoved: changes.removeObjectives?.length ?? 0,
        updatedAt: asDate(r.row_updated_at),
      };
    },
  },
);

export const AGREEMENT_VERSION_FACTS = keysetTable(
  {
    file: 'agreement-versions',
    query: 'agreementVersionFacts',
    type: 'AgreementVersionFact',
    descriptions: {
      row: 'One version of an agreement’s terms, flat, for a warehouse.',
      connection: 'A page of agreement version facts.',
      query: byUpdatedAt('Agreement versions (the terms in force from a month on)'),
    },
  },
  AGREEMENT_VERSION_FACT_COLUMNS,
  {
    ...entityRows('agreement_version', 'effective_month'),
    select: [
      'x.number as "number"',
      'x.effective_from as "effective_from"',
      'x.effective_to as "effective_to"',
      'x.compliance_target as "compliance_target"',
      'x.monthly_charge as "monthly_charge"',
      'x.credit_cap_percent as "credit_cap_percent"',
      'x.report_due_working_days as "report_due_working_days"',
      'x.acceptance_working_days as "acceptance_working_days"',
      'x.review_cadence_months as "review_cadence_months"',
      'x.next_review_date as "next_review_date"',
      'x.calendar as "calendar"',
      'x.created_at as "created_at"',
    ],
    map: (r) => ({
      id: str(r.id),
      month: str(r.month),
      ...agreementColumns(r),
      number: Number(r.number),
      effectiveFrom: str(r.effective_from),
      effectiveTo: strOrNull(r.effective_to),
      complianceTarget: Number(r.compliance_target),
      monthlyCharge: Number(r.monthly_charge),
      creditCapPercent: Number(r.credit_cap_percent),
      reportDueWorkingDays: Number(r.report_due_working_days),
      acceptanceWorkingDays: Number(r.acceptance_working_days),
      reviewCadenceMonths: Number(r.review_cadence_months),
      nextReviewDate: strOrNull(r.next_review_date),
      timeZone: json<{ timeZone?: string }>(r.calendar, {}).timeZone ?? 'UTC',
      createdAt: asDate(r.created_at),
      updatedAt: asDate(r.row_updated_at),
    }),
  },
);

export const ESCALATION_FACTS = keysetTable(
  {
    file: 'escalations',
    query: 'escalationFacts',
    type: 'EscalationFact',
    descriptions: {
      row: 'An escalation with its response and resolution clocks, flat, for a warehouse.',
      connection: 'A page of escalation facts.',
      query: byUpdatedAt('Escalations'),
    },
  },
  ESCALATION_FACT_COLUMNS,
  {
    ...entityRows('escalation'),
    select: [
      'x.severity as "severity"',
      'x.status as "status"',
      'x.title as "title"',
      'x.opened_at as "opened_at"',
      'x.acknowledged_at as "acknowledged_at"',
      'x.resolved_at as "resolved_at"',
      'x.response_target_hours as "response_target_hours"',
      'x.resolution_target_hours as "resolution_target_hours"',
      'x.response_hours as "response_hours"',
      'x.resolution_hours as "resolution_hours"',
    ],
    map: (r) => {
      const response = rounded(r.response_hours);
      const resolution = rounded(r.resolution_hours);
      const responseTarget = Number(r.response_target_hours);
      const resolutionTarget = Number(r.resolution_target_hours);
      return {
        id: str(r.id),
        month: str(r.month),
        ...agreementColumns(r),
        severity: str(r.severity),
        status: str(r.status),
        title: str(r.title),
        openedAt: asDate(r.opened_at),
        acknowledgedAt: dateOrNull(r.acknowledged_at),
        resolvedAt: dateOrNull(r.resolved_at),
        responseTargetHours: responseTarget,
        resolutionTargetHours: resolutionTarget,
        responseHours: response,
        resolutionHours: resolution,
        // As the Escalation type's responseMet / resolutionMet decide it.
        responseMet: r.response_hours == null ? null : Number(r.response_hours) <= responseTarget,
        resolutionMet: r.resolution_hours == null ? null : Number(r.resolution_hours) <= resolutionTarget,
        updatedAt: asDate(r.row_updated_at),
      };
    },
  },
);

export const CREDIT_FACTS = keysetTable(
  {
    file: 'credits',
    query: 'creditFacts',
    type: 'CreditFact',
    descriptions: {
      row: 'A posting of the credit ledger (or, in incremental pulls, a tombstone of one taken back), flat, for a warehouse.',
      connection: 'A page of credit ledger facts.',
      query: byUpdatedAt('Credit ledger entries (append-only; incremental pulls include tombstones, `deleted: true`, of entries taken back)'),
    },
  },
  CREDIT_FACT_COLUMNS,
  {
    ...entityRows('credit_entry'),
    // The entries, and the tombstones of those taken back, as one set of rows.
    from: (sql) => {
      const [no, yes] = sql.pg ? ['false', 'true'] : ['0', '1'];
      return `(select id, agreement_id, month, kind, percent, amount, delta, objectives, posted_at, reason, recorded_at as changed_at, ${no} as deleted from credit_entry
        union all select id, agreement_id, month, null, null, null, null, null, null, null, deleted_at, ${yes} from credit_tombstone) x`;
    },
    updatedAt: () => 'x.changed_at',
    deleted: 'x.deleted',
    select: ['x.kind as "kind"', 'x.percent as "percent"', 'x.amount as "amount"', 'x.delta as "delta"', 'x.objectives as "objectives"', 'x.posted_at as "posted_at"', 'x.reason as "reason"'],
    map: (r) => ({
      id: str(r.id),
      month: str(r.month),
      ...agreementColumns(r),
      kind: strOrNull(r.kind),
      percent: rounded(r.percent),
      amount: rounded(r.amount),
      delta: rounded(r.delta),
      objectives: r.objectives == null ? null : json<string[]>(r.objectives, []).join(' '),
      postedAt: dateOrNull(r.posted_at),
      reason: strOrNull(r.reason),
      updatedAt: asDate(r.row_updated_at),
      deleted: isDeleted(r),
    }),
  },
);

/** The scorecard facts' cursor: the snapshot instant, then the last row's agreement key and month. */
const SCORECARD_CURSOR = cursorCodec('scorecardFacts', ['date', 'string', 'month']);

/**
 * One page of agreement-month scorecards from the score ledger, in the measurement facts' order
 * (agreement key, month) and with their rules (ledgerMonthConditions): a snapshot instant, tombstones
 * in incremental pulls only, and rows whose stored evaluation no longer holds at the request's
 * instant scored live, as the scorecards do.
 */
async function scorecardFacts(ctx: Context, filter: FactFilter, first: number, after?: string | null): Promise<FactPage<ScorecardFact>> {
  const cursor = after ? SCORECARD_CURSOR.decode(after) : null;
  windowMonths(filter.from, filter.to);
  const asOf = cursor?.[0] ?? (await snapshotInstant(ctx));
  const t = ctx.request.now.getTime();
  const sql = sqlOf(ctx.em, { read: true });
  const { where, params } = ledgerMonthConditions(ctx, filter, asOf);
  if (cursor) {
    where.push('(m.agreement_key, m.month) > (?, ?)');
    params.push(cursor[1], cursor[2]);
  }
  const found = await sql.rows<Row>(
    `select m.*, pd.code as "provider_code", cd.code as "customer_code", sv.code as "service_code"
    from ledger_month m join agreement a on a.id = m.agreement_id
    left join department pd on pd.id = m.provider_id
    left join department cd on cd.id = m.customer_id
    left join service sv on sv.id = a.service_id
    where ${where.join(' and ')}
    order by m.agreement_key, m.month
    limit ?`,
    [...params, first + 1],
  );
  const page = found.slice(0, first);
  const live = await scoredLive(
    ctx,
    page.filter((r) => !holdsAt(r, t)),
  );
  const rows = page.map((r): ScorecardFact => {
    const agreementId = str(r.agreement_id);
    const month = str(r.month);
    const deleted = isTrue(r.deleted);
    const closedAt = dateOrNull(r.closed_at);
    const closed = isTrue(r.closed) && closedAt !== null && closedAt.getTime() <= t;
    const validUntil = dateOrNull(r.valid_until);
    let updatedAt = asDate(r.updated_at).getTime();
    if (!deleted && !isTrue(r.closed) && validUntil && validUntil.getTime() <= t) updatedAt = Math.max(updatedAt, validUntil.getTime());
    const sm = deleted ? undefined : live.get(`${agreementId}|${month}`);
    const evaluated = sm ? sm.result.compliance.evaluated : Number(r.evaluated);
    const met = sm ? sm.result.compliance.met : Number(r.met);
    return {
      id: `${agreementId}:${month}`,
      month,
      agreementKey: str(r.agreement_key),
      tier: str(r.tier) as ScorecardFact['tier'],
      provider: strOrNull(r.provider_code),
      customer: strOrNull(r.customer_code),
      service: strOrNull(r.service_code),
      versionNumber: sm ? sm.version.number : Number(r.version_number),
      phase: sm ? sm.phase : closed ? 'CLOSED' : str(r.phase),
      status: sm ? sm.result.status : strOrNull(r.status),
      score: rounded(sm ? sm.result.score : r.score),
      evaluated,
      met,
      breaches: sm ? sm.result.compliance.breaches : Number(r.breaches),
      complianceRate: evaluated ? clean(met / evaluated) : null,
      creditPercent: rounded(sm ? sm.result.credit.percent : r.credit_percent) ?? 0,
      creditAmount: rounded(sm ? sm.result.credit.amount : r.credit_amount) ?? 0,
      monthlyCharge: Number(r.monthly_charge),
      reportStatus: sm ? (sm.report?.status ?? null) : strOrNull(r.report_status),
      reportRevision: sm ? (sm.report?.revisionCount ?? null) : intOrNull(r.report_revision),
      disputed: sm ? isDisputed(sm) : !closed && isTrue(r.disputed),
      closedAt: sm ? sm.closedAt : closed ? closedAt : null,
      updatedAt: new Date(updatedAt),
      deleted,
    };
  });
  const last = page[page.length - 1];
  return {
    rows,
    hasNextPage: found.length > first,
    endCursor: last ? SCORECARD_CURSOR.encode([asOf, str(last.agreement_key), str(last.month)]) : (after ?? null),
    asOf,
  };
}

/** The months whose stored evaluation does not hold at the request's instant, scored from the facts (keyed `agreementId|month`). */
async function scoredLive(ctx: Context, stale: Row[]): Promise<Map<string, ScoredMonth>> {
  const out = new Map<string, ScoredMonth>();
  if (!stale.length) return out;
  const agreements = (await loadManyOrThrow(ctx.loaders.agreementById, [...new Set(stale.map((r) => str(r.agreement_id)))])).filter((a): a is Agreement => a !== null);
  const wanted = new Set(stale.map((r) => `${str(r.agreement_id)}|${str(r.month)}`));
  const months = [...new Set(stale.map((r) => str(r.month) as Month))].sort();
  const items = (await measuredMonths(ctx, agreements, months)).filter((i) => wanted.has(`${i.agreement.id}|${i.month}`));
  for (const sm of await scoreMonths(ctx, items, ctx.request.now)) out.set(`${sm.agreement.id}|${sm.month}`, sm);
  return out;
}

export const SCORECARD_FACTS = factTable({
  file: 'scorecards',
  query: 'scorecardFacts',
  type: 'ScorecardFact',
  descriptions: {
    row: 'One agreement-month of the score ledger (status, score, compliance, credit), flat, for a warehouse.',
    connection: 'A page of agreement-month scorecard facts.',
    query: `Agreement-month scorecards as flat rows for BI, by (agreement key, month); \`first\` up to ${MAX_FACT_PAGE}. Pull increments with \`filter.updatedSince\` (they include tombstones, \`deleted: true\`). Months after the score ledger’s horizon (next month) are not facts yet.`,
  },
  columns: SCORECARD_FACT_COLUMNS,
  read: scorecardFacts,
});
