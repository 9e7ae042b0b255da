/**
 * Reopening a closed month (DESIGN §5): one party's head asks with a reason, the other party's
 * head (or an admin) approves; an admin's own request takes effect at once. Reopening takes the
 * close back (kept, marked reopened) and recomputes the month from every fact, late ones
 * included; it closes again at once when its report stands acknowledged (or it has no MANUAL
 * objective), posting the difference as an ADJUSTMENT entry, or when the corrected revision is.
 */
import type { EntityManager, FilterQuery } from '@mikro-orm/core';
import { type Page, paginate } from '../../common/connection';
import { BadUserInputError } from '../../common/errors';
import { rowLock } from '../../common/locks';
import { compareMonths } from '../../common/month';
import { assertVersion, runCreate, runMutation, type MutationResult } from '../../common/mutation';
import { sqlOf } from '../../common/sql';
import { UserErrorCode, userError } from '../../common/user-error';
import { assertValidInput } from '../../common/validation';
import type { Context } from '../../common/context';
import { acceptanceDue } from '../../common/working-time';
import { Agreement, AgreementVersion } from '../agreements/agreement.entity';
import { Department } from '../departments/department.entity';
import { idOfRef } from '../../common/lookup';
import { agreementParties, versionAt } from '../agreements/agreement.rules';
import { bool } from '../../common/sql';
import { principalOf } from '../../common/authorization';
import { type ActingSide, assertMay, sideIn } from '../../common/policy';
import { CreditEntry, MonthReopening, ReopeningStatus } from './ledger.entity';
import type { CreditLedgerFilter, MonthReopeningDecisionInput, RequestMonthReopeningInput } from './ledger.inputs';
import { touchLedger } from '../../common/ledger-touch';
import { emitEvent } from '../../common/events';
import { syncLedger } from './ledger.service';
import { decisionNote } from '../../common/decision';

/** Takes back the close in force of a month and recomputes it in this transaction. */
async function reopen(em: EntityManager, reopening: MonthReopening, now: Date): Promise<void> {
  const sql = sqlOf(em);
  // The month's report goes back under review: its latest revision awaits the customer's verdict
  // again, with a fresh acceptance window from now, so the provider may send a correction and the
  // customer acknowledge (or let the window pass) before the month closes again.
  const version = versionAt(await em.find(AgreementVersion, { agreement: reopening.agreement.id }), reopening.month);
  if (version) {
    const due = acceptanceDue(version.calendar, now, version.acceptanceWorkingDays);
    await sql.run(
      `update report_revision set acknowledged_at = null, deemed = ?, decided_by_user_id = null, acceptance_due_at = ?
        where id = (select latest_revision_id from report where agreement_id = ? and month = ? and status in (?, ?))`,
      [bool(sql, false), sql.date(due), reopening.agreement.id, reopening.month, 'ACKNOWLEDGED', 'SUBMITTED'],
    );
    // SUBMITTED too: a month closed by silence before the scheduler recorded the deemed acknowledgement.
    await sql.run('update report set status = ?, version = version + 1, updated_at = ? where agreement_id = ? and month = ? and status in (?, ?)', [
      'SUBMITTED',
      sql.date(new Date()),
      reopening.agreement.id,
      reopening.month,
      'ACKNOWLEDGED',
      'SUBMITTED',
    ]);
  }
  await sql.run('update month_close set reopened_at = ?, reopening_id = ? where agreement_id = ? and month = ? and reopened_at is null', [
    sql.date(now),
    reopening.id,
    reopening.agreement.id,
    reopening.month,
  ]);
  touchLedger(em, now, { agreementId: reopening.agreement.id, months: [reopening.month] });
  await emitEvent(em, {
    type: 'month.reopened',
    occurredAt: now,
    agreement: await em.findOneOrFail(Agreement, reopening.agreement.id),
    payload: { month: reopening.month, reopeningId: reopening.id, reason: reopening.reason },
  });
}

/**
 * Whether the month is closed at `now`. Its ledger row is brought up to `now` first: a month whose
 * close instant has passed is closed to every reader (DESIGN §8), whether or not the scheduler has
 * recorded it yet, and a reopening of it must not be refused as "not closed".
 */
async function isClosed(em: EntityManager, agreementId: string, month: string, now: Date): Promise<boolean> {
  await syncLedger(em, [{ agreementId, months: [month] }], now, { markLate: false });
  const [row] = await sqlOf(em).rows<{ n: number | string }>('select count(*) as n from month_close where agreement_id = ? and month = ? and reopened_at is null', [agreementId, month]);
  return Number(row?.n ?? 0) > 0;
}

export function requestMonthReopening(ctx: Context, input: RequestMonthReopeningInput, now = ctx.request.now): Promise<MutationResult<MonthReopening>> {
  return runCreate(ctx, 'requestMonthReopening', input, MonthReopening, async (em) => {
    const lockMode = rowLock(em, 'update');
    const agreement = await em.findOne(Agreement, input.agreementId.toLowerCase(), lockMode ? { lockMode, refresh: true } : {});
    if (!agreement) userError('agreementId', UserErrorCode.NOT_FOUND, `no agreement has id ${input.agreementId}`);
    const parties = agreementParties(agreement);
    assertMay(ctx, 'reopening:request', parties, (p) => `A ${p.role} principal may not reopen months of ${agreement.key}: only admins and the parties' heads do`);
    const side = sideIn(principalOf(ctx), parties) as ActingSide;
    if (!(await isClosed(em, agreement.id, input.month, now))) {
      userError('month', UserErrorCode.ILLEGAL_TRANSITION, `${input.month} of ${agreement.key} is not closed; only a closed month can be reopened`);
    }
    const open = await em.findOne(MonthReopening, { agreement: agreement.id, month: input.month, status: ReopeningStatus.REQUESTED });
    if (open) userError('month', UserErrorCode.TAKEN, `${input.month} of ${agreement.key} already has a reopening awaiting a decision (${open.id})`);
    const reopening = em.create(MonthReopening, { agreement, month: input.month, reason: input.reason.trim(), requestedBySide: side, requestedByUserId: principalOf(ctx).userId });
    if (side === 'ADMIN') {
      reopening.status = ReopeningStatus.APPROVED;
      reopening.decidedAt = now;
      reopening.decidedByUserId = principalOf(ctx).userId;
    }
    await em.flush();
    if (side === 'ADMIN') await reopen(em, reopening, now);
    else {
      await emitEvent(em, {
        type: 'reopening.requested',
        occurredAt: now,
        agreement,
        payload: { month: reopening.month, reopeningId: reopening.id, reason: reopening.reason, requestedBy: side, status: 'REQUESTED' },
      });
    }
    return reopening;
  });
}

function decide(ctx: Context, input: MonthReopeningDecisionInput, approve: boolean, now: Date): Promise<MutationResult<MonthReopening>> {
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    const lockMode = rowLock(em, 'update');
    const reopening = await em.findOne(MonthReopening, input.id.toLowerCase(), lockMode ? { lockMode, refresh: true } : {});
    if (!reopening) userError('id', UserErrorCode.NOT_FOUND, `no reopening has id ${input.id}`);
    const agreement = await em.findOneOrFail(Agreement, reopening.agreement.id);
    // The other party decides: a provider's request goes to the customer's head and back.
    assertMay(
      ctx,
      'reopening:decide',
      { ...agreementParties(agreement), requestedBy: reopening.requestedBySide as ActingSide },
      (p) => `A ${p.role} principal may not decide this reopening of ${agreement.key}: the other party's head or an admin does`,
    );
    assertVersion(reopening, input.expectedVersion);
    const note = decisionNote(reopening.status, approve, input.note, 'id', 'reopening');
    reopening.status = approve ? ReopeningStatus.APPROVED : ReopeningStatus.REJECTED;
    reopening.decidedAt = now;
    reopening.decidedByUserId = principalOf(ctx).userId;
    reopening.note = note;
    await em.flush();
    if (approve) {
      if (!(await isClosed(em, agreement.id, reopening.month, now))) userError('id', UserErrorCode.ILLEGAL_TRANSITION, `${reopening.month} of ${agreement.key} is not closed any more`);
      await reopen(em, reopening, now);
    } else {
      await emitEvent(em, {
        type: 'reopening.rejected',
        occurredAt: now,
        agreement,
        payload: { month: reopening.month, reopeningId: reopening.id, note: note ?? '', statusBefore: 'REQUESTED', statusAfter: 'REJECTED' },
      });
    }
    return reopening;
  });
}

export const approveMonthReopening = (ctx: Context, input: MonthReopeningDecisionInput, now = ctx.request.now) => decide(ctx, input, true, now);
export const rejectMonthReopening = (ctx: Context, input: MonthReopeningDecisionInput, now = ctx.request.now) => decide(ctx, input, false, now);

/** Reopenings of an agreement (or all), newest first. */
export async function listReopenings(ctx: Context, agreementId: string | null | undefined, page: { first?: number | null; after?: string | null }): Promise<Page<MonthReopening>> {
  const agreement = await idOfRef(ctx.em, Agreement, 'Agreement', 'agreementId', agreementId, 'key');
  return paginate(
    ctx.em,
    MonthReopening,
    agreement ? { agreement } : {},
    [
      ['createdAt', 'desc'],
      ['id', 'desc'],
    ],
    page,
  );
}

/** The credit ledger's entries, in the order they were posted. */
export async function listCreditEntries(ctx: Context, filter: CreditLedgerFilter | undefined, page: { first?: number | null; after?: string | null }): Promise<Page<CreditEntry>> {
  const agreement = await idOfRef(ctx.em, Agreement, 'Agreement', 'filter.agreementId', filter?.agreementId, 'key');
  const department = await idOfRef(ctx.em, Department, 'Department', 'filter.departmentId', filter?.departmentId);
  if (filter?.from && filter.to && compareMonths(filter.to, filter.from) < 0) throw new BadUserInputError(`filter.to: expected ${filter.from} or later, received ${filter.to}`, 'filter.to');
  const where: FilterQuery<CreditEntry>[] = [];
  if (agreement) where.push({ agreementId: agreement });
  if (department) where.push({ $or: [{ providerId: department }, { customerId: department }] });
  if (filter?.from) where.push({ month: { $gte: filter.from } });
  if (filter?.to) where.push({ month: { $lte: filter.to } });
  // A month closed and reopened at one instant posts its CLOSE and its ADJUSTMENT at that instant:
  // the CLOSE comes first ('CLOSE' > 'ADJUSTMENT'), not whichever random id sorts first.
  return paginate(
    ctx.em,
    CreditEntry,
    { $and: where },
    [
      ['postedAt', 'asc'],
      ['kind', 'desc'],
      ['id', 'asc'],
    ],
    page,
  );
}

/** What each provider department owes in credits for the months of a charging period. */
export async function creditTotals(ctx: Context, from: string, to: string): Promise<Array<{ departmentId: string; amount: number; entries: number; months: number }>> {
  if (compareMonths(to, from) < 0) throw new BadUserInputError(`to: expected ${from} or later, received ${to}`, 'to');
  const rows = await sqlOf(ctx.em, { read: true }).rows<{ provider_id: string; amount: number | string | null; entries: number | string; months: number | string }>(
    `select provider_id, sum(delta) as amount, count(*) as entries, count(distinct agreement_id || '|' || month) as months from credit_entry where month >= ? and month <= ? group by provider_id order by provider_id`,
    [from, to],
  );
  return rows.map((r) => ({ departmentId: String(r.provider_id), amount: Math.round(Number(r.amount ?? 0) * 1e9) / 1e9, entries: Number(r.entries), months: Number(r.months) }));
}
