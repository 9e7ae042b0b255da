import { randomUUID } from 'node:crypto';
import { isUUID } from 'class-validator';
import { groupBy } from '../../common/collections';
import { assertAsOf, breathe } from '../../common/bounds';
import { type EntityManager, type FilterQuery, wrap } from '@mikro-orm/core';
import { paginate, type Page } from '../../common/connection';
import { normalizeCode } from '../../common/codes';
import { rowLock } from '../../common/locks';
import { compareMonths, monthOf, monthRange, type Month } from '../../common/month';
import { assertVersion, runCreate, runMutation, type MutationResult } from '../../common/mutation';
import { UserError, UserErrorCode, UserErrorsException, userError } from '../../common/user-error';
import { assertValidInput } from '../../common/validation';
import { acceptanceDue, endOfLocalDay, localDateOf, monthEndsAt, nthWorkingDayAfter, reportDue, workingDaysLate } from '../../common/working-time';
import type { Context } from '../../common/context';
import { loadersOver, shareLoaders } from '../../common/wiring';
import type { Loaders } from '../../db/request-loaders';
import { touchLedger } from '../../common/ledger-touch';
import { emitEvent } from '../../common/events';
import { Agreement, AgreementStatus, AgreementVersion, Tier } from '../agreements/agreement.entity';
import { idOfRef } from '../../common/lookup';
import { activeInMonth, agreementParties, agreementRef, objectiveKey, objectiveRef, versionAt } from '../agreements/agreement.rules';
import { chainAt, type LoadedObjective, prefetchChain } from '../agreements/agreement.queries';
import { effectiveObjectives } from '../agreements/inheritance';
import { principalOf } from '../../common/authorization';
import { Metric, MetricSource, UNIT_DEFAULTS } from '../catalog/metric.entity';
import { DisputeRuling, type FrictionItem, frictionItemsOf, Report, type ReportDraft, ReportRevision, ReportStatus } from './report.entity';
import { assertMay } from '../../common/policy';
import { measuredInMonth } from '../../scoring/measured';
import type { DisputeReportInput, ReportDecisionInput, ReportFilter, ReportValueInput, SaveReportDraftInput, SettleDisputeInput, SubmitReportInput } from './report.inputs';
import { findDirectly, loadManyOrThrow, readDirectly } from '../../common/loaders';
import { asDate, bool, sqlOf } from '../../common/sql';
import type { OverdueReport } from './report.types';
import { writeSubmission } from './submission.write';

/** An effective objective of an agreement-month with its metric. */
export interface MonthObjective {
  objective: LoadedObjective['objective'];
  metric: Metric;
  inheritedFrom: string | null;
  /** The objective's stable key: its defining agreement's key and its metric's code (`objectiveKey`). */
  key: string;
}

/** What a write about one agreement-month needs to know: the agreement, its terms then, its objectives. */
export interface AgreementMonth {
  agreement: Agreement;
  month: Month;
  version: AgreementVersion;
  objectives: MonthObjective[];
  /** Loaders over the write's own transaction, for further reads in it. */
  loaders: Loaders;
}

/**
 * Loads and checks an agreement-month for a provider's write, `action` (admins act for either
 * party): the month has
 * ended in the agreement's time zone, the agreement is a measured one (CUSTOMER or SERVICE, no ACTIVE agreement
 * under it in the month) and was ACTIVE in it. The agreement row is locked FOR UPDATE on
 * PostgreSQL, so writes about one agreement run one after the other (SQLite has one writer).
 */
export async function loadAgreementMonth(
  em: EntityManager,
  ctx: Context,
  agreementId: string,
  month: Month,
  action: 'report:draft' | 'report:submit' | 'exclusion:request',
  verb: string,
  now: Date,
): Promise<AgreementMonth> {
  const lockMode = rowLock(em, 'update');
  // The write's transaction is fresh: its loaders may read the terms with plain statements.
  readDirectly(em);
  const loaders = loadersOver(em);
  // By id or by key: a head types `SALES-CS`, a client keeps the id.
  const ref = agreementRef(agreementId);
  const found = await findDirectly(em, Agreement, ref.where, { forUpdate: true });
  const agreement = found ? (found[0] ?? null) : await em.findOne(Agreement, ref.where, lockMode ? { lockMode, refresh: true } : {});
  if (!agreement) userError('agreementId', UserErrorCode.NOT_FOUND, `no agreement has ${ref.by} ${agreementId}`);
  assertMay(ctx, action, agreementParties(agreement), (p) => `A ${p.role} principal may not ${verb} for agreement ${agreement.key}: only admins and the provider's head (provider department) do`);
  if (agreement.tier === Tier.CORPORATE) {
    userError('agreementId', UserErrorCode.INVALID, `agreement ${agreement.key} is CORPORATE: its results are roll-ups of the agreements under it, which are reported on`);
  }
  // Through the loaders (the locked row primed into them): the effective objectives below, and the
  // ledger sync this write's transaction ends with, read these rows from there instead of again.
  loaders.agreementById.prime(agreement.id, agreement);
  const [versions, allChildren] = await Promise.all([prefetchChain({ loaders }, agreement, month), loaders.agreementChildren.load(agreement.id)]);
  // DESIGN §4 rule 0 and §5: a month is reported on once it has ended, in the agreement's zone.
  const calendar = (versionAt(versions, month) ?? versions[0])?.calendar ?? { timeZone: 'UTC' };
  const endsAt = monthEndsAt(calendar, month);
  if (now.getTime() < endsAt.getTime()) {
    userError('month', UserErrorCode.INVALID, `month: ${month} has not ended; it ends at ${endsAt.toISOString()} (${calendar.timeZone}), and can be reported on from then`);
  }
  if (!activeInMonth(agreement, versions, month)) {
    userError('month', UserErrorCode.INVALID, `month: agreement ${agreement.key} was not ACTIVE in ${month}`);
  }
  const children = allChildren.filter((c) => c.state !== AgreementStatus.DRAFT);
  if (children.length) {
    const childVersions = await loadManyOrThrow(
      loaders.versionsByAgreement,
      children.map((c) => c.id),
    );
    const active = children.filter((c, i) => activeInMonth(c, childVersions[i], month));
    if (active.length) {
      userError('agreementId', UserErrorCode.INVALID, `agreement ${agreement.key} had ACTIVE agreements under it in ${month} (${active.map((c) => c.key).join(', ')}); report on those`);
    }
  }
  const version = versionAt(versions, month) as AgreementVersion;
  return { agreement, month, version, objectives: await objectivesAt({ loaders }, agreement, month), loaders };
}

/** The effective objectives of an agreement in a month, with their metrics (DESIGN §3). */
export async function objectivesAt(ctx: Pick<Context, 'loaders'>, agreement: Agreement, month: Month): Promise<MonthObjective[]> {
  const chain = await chainAt(ctx, agreement, month);
  const keys = new Map(chain.map((level) => [level.agreementId, level.agreementKey]));
  const effective = effectiveObjectives(chain);
  const metrics = await loadManyOrThrow(
    ctx.loaders.metricById,
    effective.map((e) => e.objective.metricId),
    'Metric',
  );
  return effective.map((e, i) => ({
    objective: e.objective.objective,
    metric: metrics[i],
    inheritedFrom: e.inheritedFrom,
    key: objectiveKey(keys.get(e.inheritedFrom ?? agreement.id) ?? agreement.key, metrics[i].code),
  }));
}

/**
 * The effective objective of an agreement-month that `ref` names: by id, by key
 * (`MKT-SALES/LEAD_VOLUME`, the same in every version) or by metric code alone; undefined when
 * none of the month's objectives is the one named.
 */
export function objectiveNamed(objectives: readonly MonthObjective[], ref: string): MonthObjective | undefined {
  const r = objectiveRef(ref);
  if ('id' in r) return objectives.find((o) => o.objective.id === r.id);
  return objectives.find((o) => o.metric.code === r.metricCode && (r.agreementKey === null || o.key === objectiveKey(r.agreementKey, r.metricCode)));
}

/**
 * The report of an agreement-month, locked FOR UPDATE on PostgreSQL and read fresh: a customer's
 * verdict committed meanwhile is seen (and refused against), never overwritten.
 */
async function lockedReport(em: EntityManager, m: AgreementMonth): Promise<Report | null> {
  const direct = await findDirectly(em, Report, { agreement: m.agreement.id, month: m.month }, { forUpdate: true });
  if (direct) return direct[0] ?? null;
  const lockMode = rowLock(em, 'update');
  return em.findOne(Report, { agreement: m.agreement.id, month: m.month }, lockMode ? { lockMode, refresh: true } : {});
}

/**
 * The report's latest revision, or null before the first submission: the one already loaded in
 * `em`, else read with one plain statement where the write reads directly (`readDirectly`, issue
 * 19 goal 2: a correction read it through the ORM's query builder), else as `em.findOneOrFail`.
 */
async function latestRevisionOf(em: EntityManager, report: Report): Promise<ReportRevision | null> {
  if (!report.latestRevision) return null;
  const id = report.latestRevision.id;
  const loaded = em.getUnitOfWork().getById<ReportRevision>(ReportRevision.name, id);
  if (loaded && wrap(loaded).isInitialized()) return loaded;
  const direct = await findDirectly(em, ReportRevision, { id });
  return direct?.[0] ?? em.findOneOrFail(ReportRevision, id);
}

/**
 * Refuses a provider's write to a report that is ACKNOWLEDGED at `now`, by the customer or by its
 * silence (the acceptance window passed, recorded or not yet by the scheduler): the month is closed.
 */
async function assertOpen(em: EntityManager, report: Report, key: string, now: Date): Promise<void> {
  const latest = await latestRevisionOf(em, report);
  const at = reportStatusAt(report, latest, now);
  if (at.status !== ReportStatus.ACKNOWLEDGED) return;
  const why = at.deemed ? `was deemed acknowledged when the customer's acceptance window ended at ${(latest?.acceptanceDueAt as Date).toISOString()}` : 'is ACKNOWLEDGED';
  userError('month', UserErrorCode.ILLEGAL_TRANSITION, `the report of ${key} for ${report.month} ${why}; it is closed`);
}

/** The content of a submission or draft, after merging a submission with the saved draft. */
interface Content {
  values: Array<{ objectiveId: string; value: number }>;
  narrative: string | null;
  frictionItems: ReportDraft['frictionItems'];
}

/**
 * Checks report content against the agreement-month (DESIGN §5 and the reports issue): each value
 * names a MANUAL effective objective of the version in force, once, within its metric's bounds;
 * friction items only where a friction objective is in force. `complete` adds what a submission
 * needs: every manual objective has a value and the narrative is not blank.
 */
export function contentProblems(m: AgreementMonth, c: Content, complete: boolean): UserError[] {
  const errors: UserError[] = [];
  const byId = new Map(m.objectives.map((o) => [o.objective.id, o]));
  const seen = new Set<string>();
  c.values.forEach((v, i) => {
    const at = `values[${i}]`;
    const o = byId.get(v.objectiveId);
    if (!o) {
      errors.push(
        new UserError(
          `${at}.objectiveId`,
          UserErrorCode.INVALID,
          `objective ${v.objectiveId} is not in force for ${m.agreement.key} in ${m.month} (version ${m.version.number}); read effectiveObjectives(at: "${m.month}")`,
        ),
      );
      return;
    }
    if (o.metric.source !== MetricSource.MANUAL) {
      errors.push(new UserError(`${at}.objectiveId`, UserErrorCode.INVALID, `objective ${o.metric.code} is measured automatically (AUTOMATED metric); reports do not carry it`));
      return;
    }
    if (seen.has(v.objectiveId)) errors.push(new UserError(`${at}.objectiveId`, UserErrorCode.INVALID, `objective ${o.metric.code} has a value already; one value per objective`));
    seen.add(v.objectiveId);
    const metric = o.metric;
    // The unit's own limits hold whatever the catalog says (a percentage 0–100, a count whole).
    const unit = UNIT_DEFAULTS[metric.unit];
    const min = Math.max(metric.minValue ?? -Infinity, unit.min ?? -Infinity);
    const max = Math.min(metric.maxValue ?? Infinity, unit.max ?? Infinity);
    if (!Number.isFinite(v.value) || v.value < min || v.value > max) {
      errors.push(
        new UserError(
          `${at}.value`,
          UserErrorCode.INVALID,
          `value: expected ${metric.code} (${metric.unit}) from ${Number.isFinite(min) ? min : '−∞'} to ${Number.isFinite(max) ? max : '∞'}, received ${v.value}`,
        ),
      );
    } else if ((metric.integerOnly || unit.integer) && !Number.isInteger(v.value)) {
      errors.push(new UserError(`${at}.value`, UserErrorCode.INVALID, `value: ${metric.code} (${metric.unit}) takes whole numbers, received ${v.value}`));
    }
  });
  if (c.frictionItems.length && !m.objectives.some((o) => o.metric.collectsFrictionItems)) {
    errors.push(new UserError('frictionItems', UserErrorCode.INVALID, `frictionItems: ${m.agreement.key} carries no customer-friction objective in ${m.month}`));
  }
  if (complete) {
    for (const o of m.objectives) {
      if (o.metric.source === MetricSource.MANUAL && !seen.has(o.objective.id) && !c.values.some((v) => v.objectiveId === o.objective.id)) {
        errors.push(new UserError('values', UserErrorCode.REQUIRED, `values: no value for objective ${o.metric.code} (objectiveId ${o.objective.id}); every MANUAL objective needs one`));
      }
    }
    if (!c.narrative?.trim()) errors.push(new UserError('narrative', UserErrorCode.REQUIRED, 'narrative: expected some text, not only spaces'));
  }
  return errors;
}

/**
 * The values of the input by objective id: each names its objective by id or by metric code
 * (exactly one; a code is looked up among the month's effective objectives). Problems are user
 * errors on the value's fields.
 */
function valuesOf(m: AgreementMonth, values: ReportValueInput[]): Content['values'] {
  const errors: UserError[] = [];
  const byCode = new Map(m.objectives.map((o) => [o.metric.code, o.objective.id]));
  const out = values.map((v, i) => {
    if ((v.objectiveId ? 1 : 0) + (v.metric ? 1 : 0) !== 1) {
      errors.push(new UserError(`values[${i}]`, UserErrorCode.INVALID, `values[${i}]: expected exactly one of objectiveId or metric (a metric code)`));
      return { objectiveId: '', value: v.value };
    }
    // An id is kept as given (an unknown one is reported with the others); a key is looked up.
    if (v.objectiveId && isUUID(v.objectiveId.trim())) return { objectiveId: v.objectiveId.trim().toLowerCase(), value: v.value };
    if (v.objectiveId) {
      const named = objectiveNamed(m.objectives, v.objectiveId);
      if (!named) {
        errors.push(
          new UserError(
            `values[${i}].objectiveId`,
            UserErrorCode.NOT_FOUND,
            `objective ${v.objectiveId} is not in force for ${m.agreement.key} in ${m.month} (version ${m.version.number}); read effectiveObjectives(at: "${m.month}")`,
          ),
        );
      }
      return { objectiveId: named?.objective.id ?? '', value: v.value };
    }
    const id = byCode.get(normalizeCode(v.metric as string));
    if (!id) {
      errors.push(
        new UserError(
          `values[${i}].metric`,
          UserErrorCode.NOT_FOUND,
          `metric ${v.metric} has no objective in force for ${m.agreement.key} in ${m.month} (version ${m.version.number}); read effectiveObjectives(at: "${m.month}")`,
        ),
      );
    }
    return { objectiveId: id ?? '', value: v.value };
  });
  if (errors.length) throw new UserErrorsException(errors);
  return out;
}

/**
 * The content of a draft or submission: each part from the input, else the saved draft's. Friction
 * items (issue 16, docs/decisions.md "Friction reports"): a list in the input (even `[]`) replaces,
 * an omitted or null one is the draft's, else the latest revision's (`previous`), so a corrected
 * revision carries its items forward.
 */
function contentOf(m: AgreementMonth, input: SaveReportDraftInput | SubmitReportInput, draft: ReportDraft | null | undefined, previous: FrictionItem[] = []): Content {
  return {
    values: input.values ? valuesOf(m, input.values) : (draft?.values ?? []),
    narrative: input.narrative ?? draft?.narrative ?? null,
    frictionItems: withItemIds(input.frictionItems ?? draft?.frictionItems ?? previous, previous),
  };
}

/**
 * Problems named by the field the client sent: a value given by metric code (`values[i].metric`)
 * is named so, not by the objective id it was looked up as (a typed value for an AUTOMATED metric
 * such as FRICTION_REPORT_DELIVERED is refused on the field the head wrote).
 */
function asSent(errors: UserError[], input: SaveReportDraftInput | SubmitReportInput): UserError[] {
  return errors.map((e) => {
    const at = /^values\[(\d+)\]\.objectiveId$/.exec(e.field ?? '');
    return at && input.values?.[Number(at[1])]?.metric ? new UserError(`values[${at[1]}].metric`, e.code, e.message) : e;
  });
}

/** What makes two friction items the same item: all they say. */
const frictionKey = (f: Omit<FrictionItem, 'id'>) => JSON.stringify([f.category, f.description.trim(), f.customersAffected, f.severity]);

/**
 * Friction items with stable ids: an item that has one keeps it (carried forward, or from the
 * draft); one sent again unchanged takes the id of the previous revision's same item; a new one
 * gets a new id.
 */
function withItemIds(items: Array<Omit<FrictionItem, 'id'> & { id?: string }>, previous: FrictionItem[]): FrictionItem[] {
  const unused = new Map<string, string[]>();
  for (const p of previous) if (p.id) unused.set(frictionKey(p), [...(unused.get(frictionKey(p)) ?? []), p.id]);
  const taken = new Set(items.map((f) => f.id).filter((id): id is string => !!id));
  return items.map((f) => {
    let id = f.id;
    while (!id) {
      const candidate = unused.get(frictionKey(f))?.shift();
      if (candidate === undefined) id = randomUUID();
      else if (!taken.has(candidate)) id = candidate;
    }
    taken.add(id);
    return { id, category: f.category, description: f.description.trim(), customersAffected: f.customersAffected, severity: f.severity };
  });
}

/** The latest revision's friction items, with their ids: what an omitted list carries forward. */
async function previousItems(em: EntityManager, report: Report | null): Promise<FrictionItem[]> {
  const latest = report && (await latestRevisionOf(em, report));
  if (!latest) return [];
  return frictionItemsOf(latest.id, latest.frictionItems);
}

/**
 * Saves the provider's draft of a month's report (creating the report row on the first save).
 * The draft is checked for what it holds, not for completeness; it changes no status and is
 * never scored. Refused once the report is ACKNOWLEDGED.
 */
export function saveReportDraft(ctx: Context, input: SaveReportDraftInput, now = ctx.request.now): Promise<MutationResult<Report>> {
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    const m = await loadAgreementMonth(em, ctx, input.agreementId, input.month, 'report:draft', 'save a report draft', now);
    let report = await lockedReport(em, m);
    if (report) {
      if (input.expectedVersion == null)
        userError('expectedVersion', UserErrorCode.REQUIRED, `expectedVersion: the report of ${m.agreement.key} for ${m.month} exists (version ${report.version}); pass the version you read`);
      assertVersion(report, input.expectedVersion);
      await assertOpen(em, report, m.agreement.key, now);
    }
    const content = contentOf(m, input, null, await previousItems(em, report));
    const problems = asSent(contentProblems(m, content, false), input);
    if (problems.length) throw new UserErrorsException(problems);
    report ??= em.create(Report, { agreement: m.agreement, month: m.month, status: ReportStatus.DRAFT });
    report.draft = content;
    report.draftSavedAt = now;
    await em.flush();
    return report;
  });
}

/**
 * Submits a whole revision of a month's report: the input's values, narrative and friction items,
 * or the saved draft's where the input leaves them out. The first submission fixes lateness
 * against the due date (DESIGN §5); a submission after a dispute is the corrected revision.
 */
export function submitReport(ctx: Context, input: SubmitReportInput, now = ctx.request.now): Promise<MutationResult<ReportRevision>> {
  return runCreate(ctx, 'submitReport', input, ReportRevision, async (em) => {
    const m = await loadAgreementMonth(em, ctx, input.agreementId, input.month, 'report:submit', 'submit a report', now);
    const existing = await lockedReport(em, m);
    if (existing) await assertOpen(em, existing, m.agreement.key, now);
    const content = contentOf(m, input, existing?.draft, await previousItems(em, existing));
    const problems = asSent(contentProblems(m, content, true), input);
    if (problems.length) throw new UserErrorsException(problems);
    const statusBefore = existing?.status ?? null;
    const first = existing?.firstSubmittedAt ? null : { at: now, lateByWorkingDays: workingDaysLate(m.version.calendar, dueFor(m.agreement, m.version, m.month).dueDate, now) };
    const objectives = new Map(m.objectives.map((o) => [o.objective.id, o]));
    // Plain statements, the same rows and audit entries as the unit of work wrote (submission.write.ts).
    const { report, revision } = await writeSubmission(em, {
      agreementId: m.agreement.id,
      month: m.month,
      existing,
      first,
      narrative: (content.narrative as string).trim(),
      frictionItems: content.frictionItems,
      submittedAt: now,
      submittedByUserId: principalOf(ctx).userId,
      acceptanceDueAt: acceptanceDueFor(m.version, now),
      values: content.values.map((v) => ({ objectiveId: v.objectiveId, metricId: (objectives.get(v.objectiveId) as MonthObjective).metric.id, value: v.value })),
    });
    // The terms read above stay as they were in this write: the ledger sync reads them from there.
    shareLoaders(em, m.loaders);
    touchLedger(em, now, { agreementId: m.agreement.id, months: [m.month] });
    await emitEvent(em, {
      type: 'report.submitted',
      occurredAt: now,
      agreement: m.agreement,
      payload: {
        reportId: report.id,
        month: m.month,
        revision: revision.number,
        statusBefore,
        statusAfter: 'SUBMITTED',
        revisionId: revision.id,
        correction: revision.number > 1,
        lateByWorkingDays: report.lateByWorkingDays ?? 0,
      },
    });
    return revision;
  });
}

/**
 * A report by id, locked FOR UPDATE on PostgreSQL (decisions and rulings on one report run one
 * after the other), with its agreement; NOT_FOUND on `reportId` when there is none.
 */
async function lockReportById(em: EntityManager, reportId: string): Promise<{ report: Report; agreement: Agreement }> {
  const lockMode = rowLock(em, 'update');
  const report = await em.findOne(Report, reportId, lockMode ? { lockMode, refresh: true } : {});
  if (!report) userError('reportId', UserErrorCode.NOT_FOUND, `no report has id ${reportId}`);
  return { report, agreement: await em.findOneOrFail(Agreement, report.agreement.id) };
}

/** Loads a report for the customer's decision on its latest revision. */
async function loadForDecision(
  em: EntityManager,
  ctx: Context,
  input: ReportDecisionInput,
  verb: 'acknowledge' | 'dispute',
): Promise<{ report: Report; revision: ReportRevision; agreement: Agreement }> {
  const { report, agreement } = await lockReportById(em, input.reportId);
  assertMay(ctx, `report:${verb}`, agreementParties(agreement), (p) => `A ${p.role} principal may not ${verb} reports of ${agreement.key}: only admins and the customer's head do`);
  if (report.status !== ReportStatus.SUBMITTED) {
    // Someone else decided on the very revision this principal named (two customer heads at
    // once, or one deciding after another had): a CONFLICT, the verdict it read is gone. The
    // principal's own earlier verdict, or a revision not awaiting one, is an illegal transition.
    if (input.revision === report.revisionCount && report.latestRevision) {
      const latest = await em.findOneOrFail(ReportRevision, report.latestRevision.id);
      const decided = latest.acknowledgedAt ? 'acknowledged' : latest.disputedAt ? 'disputed' : null;
      if (latest.deemed) {
        userError(
          'reportId',
          UserErrorCode.ILLEGAL_TRANSITION,
          `the report of ${agreement.key} for ${report.month} was deemed acknowledged when its acceptance window ended at ${(latest.acceptanceDueAt as Date).toISOString()}; it can no longer be ${verb === 'acknowledge' ? 'acknowledged' : 'disputed'}`,
        );
      }
      if (decided && latest.decidedByUserId !== principalOf(ctx).userId) {
        userError(
          'revision',
          UserErrorCode.CONFLICT,
          `revision: revision ${latest.number} of the report of ${agreement.key} for ${report.month} was already ${decided} by someone else; read the report again`,
        );
      }
    }
    userError(
      'reportId',
      UserErrorCode.ILLEGAL_TRANSITION,
      `the report of ${agreement.key} for ${report.month} is ${report.status}; only a SUBMITTED report can be ${verb === 'acknowledge' ? 'acknowledged' : 'disputed'}`,
    );
  }
  // The verdict is on the revision the customer read: a newer one is a CONFLICT, never judged unseen.
  if (input.revision !== report.revisionCount) {
    userError('revision', UserErrorCode.CONFLICT, `revision: expected the latest revision, ${report.revisionCount}, received ${input.revision}; read the new revision first`);
  }
  const revision = await em.findOneOrFail(ReportRevision, { report: report.id, number: report.revisionCount });
  // Silence past the acceptance window is an acknowledgement already (the scheduler may not have
  // recorded it yet): a verdict after it is too late.
  if (reportStatusAt(report, revision, ctx.request.now).deemed) {
    userError(
      'reportId',
      UserErrorCode.ILLEGAL_TRANSITION,
      `the report of ${agreement.key} for ${report.month} was deemed acknowledged when its acceptance window ended at ${(revision.acceptanceDueAt as Date).toISOString()}; it can no longer be ${verb === 'acknowledge' ? 'acknowledged' : 'disputed'}`,
    );
  }
  return { report, revision, agreement };
}

/** The customer's verdict on the latest revision, in one transaction. */
function decide(ctx: Context, input: ReportDecisionInput, verb: 'acknowledge' | 'dispute', apply: (report: Report, revision: ReportRevision) => void): Promise<MutationResult<Report>> {
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    const { report, revision, agreement } = await loadForDecision(em, ctx, input, verb);
    const statusBefore = report.status;
    apply(report, revision);
    revision.decidedByUserId = principalOf(ctx).userId;
    await em.flush();
    touchLedger(em, ctx.request.now, { agreementId: report.agreement.id, months: [report.month] });
    const base = { reportId: report.id, month: report.month, revision: revision.number, statusBefore };
    if (verb === 'acknowledge') await emitEvent(em, { type: 'report.acknowledged', occurredAt: ctx.request.now, agreement, payload: { ...base, statusAfter: 'ACKNOWLEDGED' } });
    else await emitEvent(em, { type: 'report.disputed', occurredAt: ctx.request.now, agreement, payload: { ...base, statusAfter: 'DISPUTED', reason: revision.disputeReason ?? '' } });
    return report;
  });
}

/** SUBMITTED → ACKNOWLEDGED: the customer accepts the latest revision. */
export function acknowledgeReport(ctx: Context, input: ReportDecisionInput, now = ctx.request.now): Promise<MutationResult<Report>> {
  return decide(ctx, input, 'acknowledge', (report, revision) => {
    report.status = ReportStatus.ACKNOWLEDGED;
    revision.acknowledgedAt = now;
  });
}

/** SUBMITTED → DISPUTED, with the customer's reason; the provider answers with a corrected revision. */
export function disputeReport(ctx: Context, input: DisputeReportInput, now = ctx.request.now): Promise<MutationResult<Report>> {
  return decide(ctx, input, 'dispute', (report, revision) => {
    report.status = ReportStatus.DISPUTED;
    revision.disputedAt = now;
    revision.disputeReason = input.reason.trim();
  });
}

/**
 * An admin's ruling on the dispute of the latest revision (DESIGN §5). UPHELD: the customer is
 * right, the report stays DISPUTED and the provider submits a corrected revision. REJECTED: the
 * disputed revision stands, the report is ACKNOWLEDGED (the month may close). Either way the
 * ruling and its note are kept on the revision, and written to the audit log.
 */
export function settleDispute(ctx: Context, input: SettleDisputeInput, now = ctx.request.now): Promise<MutationResult<Report>> {
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    // Before the report is read, as it always was: the ruling is the admins' whatever the agreement.
    assertMay(ctx, 'dispute:settle', null, () => 'Only admins settle disputes');
    const { report, agreement } = await lockReportById(em, input.reportId);
    // A corrected revision that came first makes the ruling stale: CONFLICT, not an illegal step.
    if (input.revision !== report.revisionCount) {
      userError('revision', UserErrorCode.CONFLICT, `revision: expected the latest revision, ${report.revisionCount}, received ${input.revision}; read the new revision first`);
    }
    if (report.status !== ReportStatus.DISPUTED) {
      userError('reportId', UserErrorCode.ILLEGAL_TRANSITION, `the report of ${agreement.key} for ${report.month} is ${report.status}; only a DISPUTED report can be settled`);
    }
    const revision = await em.findOneOrFail(ReportRevision, { report: report.id, number: report.revisionCount });
    if (revision.ruling) {
      userError(
        'revision',
        UserErrorCode.ILLEGAL_TRANSITION,
        `revision: the dispute of revision ${revision.number} was already settled (${revision.ruling}); the provider answers with a corrected revision`,
      );
    }
    const statusBefore = report.status;
    revision.ruling = input.ruling;
    revision.rulingNote = input.note.trim();
    revision.ruledAt = now;
    revision.ruledByUserId = principalOf(ctx).userId;
    if (input.ruling === DisputeRuling.REJECTED) {
      report.status = ReportStatus.ACKNOWLEDGED;
      revision.acknowledgedAt = now;
    }
    await em.flush();
    touchLedger(em, now, { agreementId: report.agreement.id, months: [report.month] });
    await emitEvent(em, {
      type: 'report.dispute_settled',
      occurredAt: now,
      agreement,
      payload: {
        reportId: report.id,
        month: report.month,
        revision: revision.number,
        statusBefore,
        statusAfter: report.status === ReportStatus.ACKNOWLEDGED ? 'ACKNOWLEDGED' : 'DISPUTED',
        ruling: input.ruling === DisputeRuling.REJECTED ? 'REJECTED' : 'UPHELD',
        note: input.note.trim(),
      },
    });
    return report;
  });
}

/** The reports connection, by month then id. */
export async function listReports(ctx: Context, filter: ReportFilter | undefined, page: { first?: number | null; after?: string | null }): Promise<Page<Report>> {
  const agreement = await idOfRef(ctx.em, Agreement, 'Agreement', 'filter.agreementId', filter?.agreementId, 'key');
  const where: FilterQuery<Report>[] = [];
  if (agreement) where.push({ agreement });
  if (filter?.month) where.push({ month: filter.month });
  if (filter?.from) where.push({ month: { $gte: filter.from } });
  if (filter?.to) where.push({ month: { $lte: filter.to } });
  // By the status at the request's instant: a SUBMITTED report past its acceptance window is
  // ACKNOWLEDGED (deemed), whether or not the scheduler has recorded it yet.
  const now = ctx.request.now;
  const pastWindow = { latestRevision: { acceptanceDueAt: { $lt: now } } };
  if (filter?.status === ReportStatus.SUBMITTED) {
    where.push({ status: ReportStatus.SUBMITTED, $or: [{ latestRevision: { acceptanceDueAt: null } }, { latestRevision: { acceptanceDueAt: { $gte: now } } }] } as FilterQuery<Report>);
  } else if (filter?.status === ReportStatus.ACKNOWLEDGED) where.push({ $or: [{ status: ReportStatus.ACKNOWLEDGED }, { status: ReportStatus.SUBMITTED, ...pastWindow }] } as FilterQuery<Report>);
  else if (filter?.status) where.push({ status: filter.status });
  return paginate(
    ctx.em,
    Report,
    { $and: where },
    [
      ['month', 'asc'],
      ['id', 'asc'],
    ],
    page,
  );
}

/**
 * When a month's report is due: the Nth working day after the month ends, on the calendar of the
 * version in force (DESIGN §5). For a month that ended before the agreement was activated (terms
 * signed for a period already running), it is the Nth working day after the activation day
 * instead: a report cannot be late before the agreement asking for it existed. Null before the
 * first version.
 */
export function dueOf(agreement: Pick<Agreement, 'activatedAt'>, versions: AgreementVersion[], month: Month): { dueDate: string; dueAt: Date } | null {
  const version = versionAt(versions, month);
  return version ? dueFor(agreement, version, month) : null;
}

/** Due dates by calendar content, month and working days: scores ask for the same ones again and again. */
const calendarKeys = new WeakMap<object, string>();
const dueCache = new Map<string, { dueDate: string; dueAt: Date }>();

function cachedReportDue(version: AgreementVersion, month: Month): { dueDate: string; dueAt: Date } {
  let calendarKey = calendarKeys.get(version.calendar);
  if (calendarKey === undefined) calendarKeys.set(version.calendar, (calendarKey = JSON.stringify(version.calendar)));
  const key = `${calendarKey}|${month}|${version.reportDueWorkingDays}`;
  let due = dueCache.get(key);
  if (!due) {
    if (dueCache.size > 50_000) dueCache.clear();
    dueCache.set(key, (due = reportDue(version.calendar, month, version.reportDueWorkingDays)));
  }
  return due;
}

/** {@link dueOf} for a known version. */
export function dueFor(agreement: Pick<Agreement, 'activatedAt'>, version: AgreementVersion, month: Month): { dueDate: string; dueAt: Date } {
  const due = cachedReportDue(version, month);
  if (!agreement.activatedAt || agreement.activatedAt.getTime() < due.dueAt.getTime()) return due;
  const dueDate = nthWorkingDayAfter(version.calendar, localDateOf(version.calendar, agreement.activatedAt), version.reportDueWorkingDays);
  return { dueDate, dueAt: endOfLocalDay(version.calendar, dueDate) };
}

/**
 * When the customer's acceptance window for a revision submitted at `submittedAt` ends (DESIGN
 * §5): the end of the version's `acceptanceWorkingDays`-th working day after it, on its calendar.
 */
export function acceptanceDueFor(version: Pick<AgreementVersion, 'calendar' | 'acceptanceWorkingDays'>, submittedAt: Date): Date {
  return acceptanceDue(version.calendar, submittedAt, version.acceptanceWorkingDays);
}

/**
 * The status a report has at `now` (DESIGN §5): SUBMITTED becomes ACKNOWLEDGED once the latest
 * revision's acceptance window has passed without a verdict (deemed acknowledgement), whether or
 * not the scheduler has recorded it yet, so every read at `now` sees it.
 */
export function reportStatusAt(report: Pick<Report, 'status'>, latest: Pick<ReportRevision, 'acceptanceDueAt' | 'deemed'> | null, now: Date): { status: ReportStatus; deemed: boolean } {
  const windowPassed = !!latest?.acceptanceDueAt && now.getTime() > latest.acceptanceDueAt.getTime();
  if (report.status === ReportStatus.SUBMITTED && windowPassed) return { status: ReportStatus.ACKNOWLEDGED, deemed: true };
  // Recorded by the scheduler, but read at an instant before the window ended (a test clock).
  if (report.status === ReportStatus.ACKNOWLEDGED && latest?.deemed) return windowPassed ? { status: ReportStatus.ACKNOWLEDGED, deemed: true } : { status: ReportStatus.SUBMITTED, deemed: false };
  return { status: report.status, deemed: false };
}

/**
 * The agreement-months of measured agreements (ACTIVE in the month, no ACTIVE agreement under
 * them) whose report was due before `asOf` and had not been submitted by then, oldest due first.
 * A fixed number of statements, whatever the number of agreements.
 */
export async function overdueReports(ctx: Context, asOf: Date, from?: Month | null): Promise<OverdueReport[]> {
  assertAsOf('asOf', asOf, ctx.request.now);
  return (await overdueFromLedger(ctx, asOf, from)) ?? overdueReportsRescored(ctx, asOf, from);
}

/**
 * {@link overdueReports} read from the score ledger (DESIGN §8 read side): its live rows are the
 * measured agreement-months, each with its report's due instant, so the overdue ones are one
 * statement (those due before `asOf` with no report first submitted by then), then their
 * agreements and versions (for the working days late) in one batch each. Null when the ledger does
 * not reach `asOf`'s month (never built, or the scheduler behind a request clock): the caller
 * derives the list from the facts instead.
 */
async function overdueFromLedger(ctx: Context, asOf: Date, from?: Month | null): Promise<OverdueReport[] | null> {
  const sql = sqlOf(ctx.em);
  const [state] = await sql.rows<{ horizon: string | null }>('select horizon from ledger_state where id = 1');
  const lastMonth = monthOf(asOf);
  if (!state?.horizon || compareMonths(lastMonth, state.horizon) > 0) return null;
  const t = sql.date(asOf);
  const rows = await sql.rows<{ agreement_id: string; month: string; due_date: string; due_at: unknown }>(
    `select l.agreement_id, l.month, l.due_date, l.due_at from ledger_month l
      where l.deleted = ? and l.month >= ? and l.month <= ? and l.due_at < ? and l.tier in (?, ?)
        and not exists (select 1 from report r where r.agreement_id = l.agreement_id and r.month = l.month and r.first_submitted_at is not null and r.first_submitted_at <= ?)
      order by l.month`,
    [bool(sql, false), from ?? '0000-00', lastMonth, t, Tier.CUSTOMER, Tier.SERVICE, t],
  );
  if (!rows.length) return [];
  const ids = [...new Set(rows.map((r) => String(r.agreement_id)))];
  const [agreements, versions] = await Promise.all([loadManyOrThrow(ctx.loaders.agreementById, ids), loadManyOrThrow(ctx.loaders.versionsByAgreement, ids)]);
  const byId = new Map(ids.map((id, i) => [id, { agreement: agreements[i] as Agreement, versions: versions[i] }]));
  const out: OverdueReport[] = [];
  for (const r of rows) {
    const { agreement, versions: vs } = byId.get(String(r.agreement_id)) as { agreement: Agreement; versions: AgreementVersion[] };
    const month = String(r.month);
    const version = versionAt(vs, month) as AgreementVersion;
    const dueDate = String(r.due_date);
    out.push({ agreement, month, dueDate, dueAt: asDate(r.due_at), workingDaysOverdue: workingDaysLate(version.calendar, dueDate, asOf) });
  }
  return out.sort((x, y) => x.dueAt.getTime() - y.dueAt.getTime() || x.agreement.key.localeCompare(y.agreement.key));
}

/**
 * {@link overdueReports} derived from the facts (every agreement's versions and reports, month by
 * month): where the ledger does not reach, and the same-run baseline of `bench/org-lists.ts`.
 */
export async function overdueReportsRescored(ctx: Context, asOf: Date, from?: Month | null): Promise<OverdueReport[]> {
  const em = ctx.em;
  const agreements = await em.find(Agreement, { tier: { $in: [Tier.CUSTOMER, Tier.SERVICE] }, activatedAt: { $ne: null } });
  if (!agreements.length) return [];
  const ids = agreements.map((a) => a.id);
  const [versions, reports] = await Promise.all([
    em.find(AgreementVersion, { agreement: { $in: ids } }),
    em.find(Report, { agreement: { $in: ids }, firstSubmittedAt: { $ne: null, $lte: asOf } }, { fields: ['agreement', 'month'], disableIdentityMap: true }),
  ]);
  const versionsOf = groupBy(versions, (v) => v.agreement.id);
  const childrenOf = groupBy(agreements, (a) => a.parent?.id);
  const submitted = new Set(reports.map((r) => `${r.agreement.id}|${r.month}`));
  const lastMonth = monthOf(asOf);
  const out: OverdueReport[] = [];
  for (const a of agreements) {
    const vs = versionsOf.get(a.id) ?? [];
    if (!vs.length) continue;
    await breathe(ctx.request);
    const first = vs.reduce((m, v) => (compareMonths(v.effectiveFrom, m) < 0 ? v.effectiveFrom : m), vs[0].effectiveFrom);
    const start = from && compareMonths(from, first) > 0 ? from : first;
    const children = (childrenOf.get(a.id) ?? []).map((c) => ({ agreement: c, versions: versionsOf.get(c.id) ?? [] }));
    for (const month of monthRange(start, lastMonth)) {
      await breathe(ctx.request);
      if (submitted.has(`${a.id}|${month}`) || !measuredInMonth(a, vs, children, month)) continue;
      const due = dueOf(a, vs, month) as { dueDate: string; dueAt: Date };
      if (due.dueAt.getTime() >= asOf.getTime()) continue;
      const version = versionAt(vs, month) as AgreementVersion;
      out.push({ agreement: a, month, dueDate: due.dueDate, dueAt: due.dueAt, workingDaysOverdue: workingDaysLate(version.calendar, due.dueDate, asOf) });
    }
  }
  return out.sort((x, y) => x.dueAt.getTime() - y.dueAt.getTime() || x.agreement.key.localeCompare(y.agreement.key));
}
