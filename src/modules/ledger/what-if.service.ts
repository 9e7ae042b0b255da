/**
 * What-if (issue 16, "set a good base number"): an agreement's last months re-scored under
 * proposed terms, from the score ledger's stored inputs (the values each month was scored with)
 * and the pure rules of src/scoring, writing nothing. Each month is evaluated at the instant its
 * stored result was (its close, or its last computation), so with the terms as they are the
 * proposed outcome equals the actual one, and any difference is the proposal's alone.
 */
import { isUUID } from 'class-validator';
import type { Context } from '../../common/context';
import { BadUserInputError, NotFoundError } from '../../common/errors';
import { addMonths, monthOf, type Month } from '../../common/month';
import { bool, sqlOf } from '../../common/sql';
import { normalizeCode } from '../../common/codes';
import { evaluateLedgerMonth, type LedgerMonthInput } from '../../scoring/ledger';
import { warningProblem } from '../../scoring';
import type { AgreementMonthResult, Direction } from '../../scoring/types';
import { Agreement, type Amendment } from '../agreements/agreement.entity';
import { agreementRef } from '../agreements/agreement.rules';
import { recordFromRows, type LedgerRecord } from './ledger.rows';

/** At most this many months are re-scored. */
export const MAX_WHAT_IF_MONTHS = 36;

/** Proposed terms of the objective on one metric; a field left out keeps the month's own. */
export interface ProposedObjective {
  /** The metric: its code or its id. */
  metric: string;
  target?: number | null;
  /** `null` removes the warning; undefined keeps it. */
  warning?: number | null;
  weight?: number | null;
  creditPercent?: number | null;
}

/** A proposal: objective terms by metric, objectives dropped (by metric id), and month terms. */
export interface Proposal {
  objectives: ProposedObjective[];
  removedMetricIds?: string[];
  terms?: { complianceTarget?: number; creditCapPercent?: number; monthlyCharge?: number };
}

/** One objective of one month: its value, its terms and status now, and under the proposal. */
export interface WhatIfObjectiveRow {
  metricCode: string;
  value: number | null;
  actualTarget: number;
  proposedTarget: number | null;
  actualStatus: string;
  /** Null when the proposal removes the objective. */
  proposedStatus: string | null;
}

/** A month's outcome: status, score, compliance and credit. */
export interface WhatIfOutcome {
  status: string | null;
  score: number | null;
  evaluated: number;
  breaches: number;
  complianceRate: number | null;
  creditPercent: number;
  creditAmount: number;
}

export interface WhatIfMonthRow {
  month: Month;
  actual: WhatIfOutcome;
  proposed: WhatIfOutcome;
  objectives: WhatIfObjectiveRow[];
}

export interface WhatIfResult {
  agreement: Agreement;
  from: Month;
  to: Month;
  months: WhatIfMonthRow[];
  actual: WhatIfOutcome;
  proposed: WhatIfOutcome;
}

const outcomeOf = (r: AgreementMonthResult): WhatIfOutcome => ({
  status: r.status,
  score: r.score,
  evaluated: r.compliance.evaluated,
  breaches: r.compliance.breaches,
  complianceRate: r.compliance.rate,
  creditPercent: r.credit.percent,
  creditAmount: r.credit.amount,
});

/** Totals over months: evaluated, breaches and credit summed, the rate pooled; no month status or score. */
function total(outcomes: WhatIfOutcome[]): WhatIfOutcome {
  const evaluated = outcomes.reduce((n, o) => n + o.evaluated, 0);
  const breaches = outcomes.reduce((n, o) => n + o.breaches, 0);
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return {
    status: null,
    score: null,
    evaluated,
    breaches,
    complianceRate: evaluated ? round((evaluated - breaches) / evaluated) : null,
    creditPercent: round(outcomes.reduce((n, o) => n + o.creditPercent, 0)),
    creditAmount: round(outcomes.reduce((n, o) => n + o.creditAmount, 0)),
  };
}

/** The agreement an argument names (id or key), NOT_FOUND naming the argument otherwise. */
export async function agreementNamed(ctx: Context, argument: string, ref: string): Promise<Agreement> {
  const r = agreementRef(ref);
  const found = await ctx.em.findOne(Agreement, r.where);
  if (!found) throw new NotFoundError('Agreement', `${r.by} ${ref} (${argument})`);
  return found;
}

/**
 * The agreement's stored ledger months from `from` to `to` (not deleted), oldest first: two
 * statements, reads only.
 */
async function storedMonths(ctx: Context, agreementId: string, from: Month, to: Month): Promise<LedgerRecord[]> {
  const sql = sqlOf(ctx.em);
  const months = await sql.rows<Record<string, unknown>>('select * from ledger_month where agreement_id = ? and month >= ? and month <= ? and deleted = ? order by month', [
    agreementId,
    from,
    to,
    bool(sql, false),
  ]);
  if (!months.length) return [];
  const objectives = await sql.rows<Record<string, unknown>>('select * from ledger_objective where agreement_id = ? and month >= ? and month <= ? and deleted = ?', [
    agreementId,
    from,
    to,
    bool(sql, false),
  ]);
  return months.map((m) =>
    recordFromRows(
      m,
      objectives.filter((o) => String(o.month) === String(m.month)),
    ),
  );
}

/**
 * Re-scores the last `months` months before the request's month (default 12) of an agreement
 * under a proposal. Proposed objectives name metrics the agreement's months have an objective on
 * (its own or inherited); BAD_USER_INPUT naming `objectives[i]` otherwise, or when the proposed
 * warning is on the wrong side of the target.
 */
export async function whatIf(ctx: Context, agreement: Agreement, proposal: Proposal, months = 12, argument = 'objectives', lenient = false): Promise<WhatIfResult> {
  if (!Number.isInteger(months) || months < 1 || months > MAX_WHAT_IF_MONTHS)
    throw new BadUserInputError(`months: expected a whole number from 1 to ${MAX_WHAT_IF_MONTHS}, received ${months}`, 'months');
  const to = addMonths(monthOf(ctx.request.now), -1);
  const from = addMonths(to, -(months - 1));
  const records = await storedMonths(ctx, agreement.id, from, to);
  // Metrics by code and id, as the months know them.
  const metricOf = new Map<string, string>();
  for (const r of records) for (const o of r.objectives) metricOf.set(o.metricId, o.metricCode);
  // An amendment (lenient) may change a metric the months have no objective on: nothing to re-score.
  const proposed = proposal.objectives.flatMap((p, i) => {
    const ref = p.metric.trim();
    const code = isUUID(ref) ? metricOf.get(ref.toLowerCase()) : [...metricOf.values()].find((c) => c === normalizeCode(ref));
    if (!code && lenient) return [];
    if (!code) throw new BadUserInputError(`${argument}[${i}].metric: ${agreement.key} has no objective on metric ${ref} from ${from} to ${to}`, `${argument}[${i}].metric`);
    return [{ ...p, code, index: i }];
  });
  // One set of terms per metric: a second one would silently lose to the first.
  const firstOf = new Map<string, number>();
  for (const p of proposed) {
    const first = firstOf.get(p.code);
    if (first !== undefined)
      throw new BadUserInputError(`${argument}[${p.index}].metric: metric ${p.code} is proposed twice (${argument}[${first}] too); send one set of terms per metric`, `${argument}[${p.index}].metric`);
    firstOf.set(p.code, p.index);
  }
  const removed = new Set((proposal.removedMetricIds ?? []).map((id) => metricOf.get(id.toLowerCase())).filter((c): c is string => !!c));
  const rows: WhatIfMonthRow[] = records.map((r) => {
    const at = r.closed ? (r.closedAt ?? r.computedAt) : r.computedAt;
    const kept: number[] = [];
    const objectives: LedgerMonthInput['objectives'] = [];
    r.input.objectives.forEach((o, i) => {
      const code = r.objectives[i].metricCode;
      if (removed.has(code)) return;
      const p = proposed.find((x) => x.code === code);
      const next = p
        ? {
            ...o,
            target: p.target ?? o.target,
            warning: p.warning === undefined ? o.warning : p.warning,
            weight: p.weight ?? o.weight,
            creditPercent: p.creditPercent ?? o.creditPercent,
          }
        : o;
      const problem = p ? warningProblem(o.direction as Direction, next.target, next.warning) : null;
      if (problem) throw new BadUserInputError(`${argument}[${proposed.indexOf(p as (typeof proposed)[number])}].${problem}`, argument);
      kept.push(i);
      objectives.push(next);
    });
    const input: LedgerMonthInput = { ...r.input, ...proposal.terms, objectives };
    const result = evaluateLedgerMonth(input, at);
    return {
      month: r.month,
      actual: outcomeOf(r.result),
      proposed: outcomeOf(result),
      objectives: r.input.objectives.map((o, i) => {
        const j = kept.indexOf(i);
        return {
          metricCode: r.objectives[i].metricCode,
          value: o.value,
          actualTarget: o.target,
          proposedTarget: j < 0 ? null : objectives[j].target,
          actualStatus: r.result.objectives[i].status,
          proposedStatus: j < 0 ? null : result.objectives[j].status,
        };
      }),
    };
  });
  return { agreement, from, to, months: rows, actual: total(rows.map((m) => m.actual)), proposed: total(rows.map((m) => m.proposed)) };
}

/**
 * The proposal of an amendment (its changed and removed objectives, its compliance target, credit
 * cap and charge), for `Amendment.whatIf`. Objectives it adds have no stored values to re-score
 * and are left out; so are months before or after: the same last months as `whatIf`.
 */
export function amendmentProposal(amendment: Amendment): Proposal {
  const c = amendment.changes;
  const terms: Proposal['terms'] = {};
  for (const name of ['complianceTarget', 'creditCapPercent', 'monthlyCharge'] as const) {
    const v = c.terms?.[name];
    if (typeof v === 'number') terms[name] = v;
  }
  return {
    objectives: (c.changeObjectives ?? []).map((o) => ({ metric: o.metricId, target: o.target, warning: o.warning, weight: o.weight, creditPercent: o.creditPercent })),
    removedMetricIds: c.removeObjectives ?? [],
    terms,
  };
}
