import type { FilterQuery } from '@mikro-orm/core';
import { paginate, type Page } from '../../common/connection';
import { rowLock } from '../../common/locks';
import { assertVersion, runCreate, runMutation, type MutationResult } from '../../common/mutation';
import { UserErrorCode, userError } from '../../common/user-error';
import { assertValidInput } from '../../common/validation';
import type { Context } from '../../common/context';
import { Agreement } from '../agreements/agreement.entity';
import { idOfRef } from '../../common/lookup';
import { agreementParties } from '../agreements/agreement.rules';
import { principalOf } from '../../common/authorization';
import { assertMay } from '../../common/policy';
import { Exclusion, ExclusionStatus } from '../reports/report.entity';
import type { ExclusionDecisionInput, ExclusionFilter, RequestExclusionInput } from '../reports/report.inputs';
import { loadAgreementMonth, objectiveNamed } from '../reports/report.service';
import { scoreMonths } from '../scorecards/scorecard.service';
import { touchLedger } from '../../common/ledger-touch';
import { emitEvent } from '../../common/events';
import { decisionNote } from '../../common/decision';

/**
 * The provider's head (or an admin) asks for a BREACHED or NO_DATA objective-month to be excused,
 * with a reason code and an explanation (DESIGN §5). One open or approved request per
 * objective-month; a rejected one may be asked again with new grounds.
 */
export function requestExclusion(ctx: Context, input: RequestExclusionInput, now = ctx.request.now): Promise<MutationResult<Exclusion>> {
  return runCreate(ctx, 'requestExclusion', input, Exclusion, async (em) => {
    const m = await loadAgreementMonth(em, ctx, input.agreementId, input.month, 'exclusion:request', 'request exclusions', now);
    const o = objectiveNamed(m.objectives, input.objectiveId);
    if (!o) userError('objectiveId', UserErrorCode.INVALID, `objective ${input.objectiveId} is not in force for ${m.agreement.key} in ${m.month}; read effectiveObjectives(at: "${m.month}")`);
    const objectiveId = o.objective.id;
    // Scored as the scorecards score it: the latest revision's value, or the measured one for
    // AUTOMATED metrics (read inside this transaction).
    const [scored] = await scoreMonths({ loaders: m.loaders }, [{ agreement: m.agreement, month: m.month, version: m.version }], now);
    const status = scored.objectives.find((x) => x.objective.id === objectiveId)?.result.status;
    if (status !== 'BREACHED' && status !== 'NO_DATA') {
      userError('objectiveId', UserErrorCode.INVALID, `objective ${o.metric.code} of ${m.agreement.key} is ${status} in ${m.month}; only BREACHED or NO_DATA objective-months can be excused`);
    }
    const open = await em.findOne(Exclusion, { agreement: m.agreement.id, month: m.month, objective: objectiveId, status: { $in: [ExclusionStatus.REQUESTED, ExclusionStatus.APPROVED] } });
    if (open) userError('objectiveId', UserErrorCode.TAKEN, `objective ${o.metric.code} of ${m.agreement.key} in ${m.month} already has a ${open.status} exclusion (${open.id})`);
    const exclusion = em.create(Exclusion, {
      agreement: m.agreement,
      month: m.month,
      objective: o.objective,
      metric: o.metric,
      reasonCode: input.reasonCode,
      explanation: input.explanation.trim(),
      evidenceUrl: input.evidenceUrl?.trim() || null,
      statusWhenRequested: status,
      requestedByUserId: principalOf(ctx).userId,
    });
    await em.flush();
    await emitEvent(em, {
      type: 'exclusion.requested',
      occurredAt: now,
      agreement: m.agreement,
      payload: { exclusionId: exclusion.id, month: m.month, objectiveId: o.objective.id, metricCode: o.metric.code, reasonCode: input.reasonCode, statusWhenRequested: status, status: 'REQUESTED' },
    });
    return exclusion;
  });
}

/** REQUESTED → APPROVED | REJECTED by the customer's head or an admin; a rejection says why. */
export function decideExclusion(ctx: Context, input: ExclusionDecisionInput, approve: boolean, now = ctx.request.now): Promise<MutationResult<Exclusion>> {
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    const lockMode = rowLock(em, 'update');
    const exclusion = await em.findOne(Exclusion, input.exclusionId, lockMode ? { lockMode, refresh: true } : {});
    if (!exclusion) userError('exclusionId', UserErrorCode.NOT_FOUND, `no exclusion has id ${input.exclusionId}`);
    const agreement = await em.findOneOrFail(Agreement, exclusion.agreement.id);
    assertMay(ctx, 'exclusion:decide', agreementParties(agreement), (p) => `A ${p.role} principal may not decide exclusions of ${agreement.key}: only admins and the customer's head do`);
    assertVersion(exclusion, input.expectedVersion);
    const note = decisionNote(exclusion.status, approve, input.note, 'exclusionId', 'exclusion');
    exclusion.status = approve ? ExclusionStatus.APPROVED : ExclusionStatus.REJECTED;
    exclusion.decidedAt = now;
    exclusion.decidedByUserId = principalOf(ctx).userId;
    exclusion.decisionNote = note;
    await em.flush();
    if (approve) touchLedger(em, now, { agreementId: agreement.id, months: [exclusion.month] });
    await emitEvent(em, {
      type: 'exclusion.decided',
      occurredAt: now,
      agreement,
      payload: {
        exclusionId: exclusion.id,
        month: exclusion.month,
        objectiveId: exclusion.objective.id,
        statusBefore: 'REQUESTED',
        statusAfter: approve ? 'APPROVED' : 'REJECTED',
        note: note ?? null,
      },
    });
    return exclusion;
  });
}

/** The exclusions connection, by month then id. */
export async function listExclusions(ctx: Context, filter: ExclusionFilter | undefined, page: { first?: number | null; after?: string | null }): Promise<Page<Exclusion>> {
  const agreement = await idOfRef(ctx.em, Agreement, 'Agreement', 'filter.agreementId', filter?.agreementId, 'key');
  const where: FilterQuery<Exclusion>[] = [];
  if (agreement) where.push({ agreement });
  if (filter?.month) where.push({ month: filter.month });
  if (filter?.status) where.push({ status: filter.status });
  return paginate(
    ctx.em,
    Exclusion,
    { $and: where },
    [
      ['month', 'asc'],
      ['id', 'asc'],
    ],
    page,
  );
}
