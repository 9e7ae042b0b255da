/**
 * Time-driven notices (DESIGN §10, issue 15): the events nobody's write causes, written by the
 * scheduler when their instant has passed, each exactly once (src/common/notices.ts):
 *
 * - `report.due_soon`: a month with MANUAL objectives has ended, its report is not submitted, and at
 *   most {@link DUE_SOON_WORKING_DAYS} working days of the agreement's calendar remain after today
 *   before its due date;
 * - `report.overdue`: its due instant passed with no report submitted;
 * - `agreement.review_due`: a live agreement's review date came (the `reviewsDue` rule);
 * - `escalation.deadline_near`: 75 % of an OPEN escalation's response target has passed on its
 *   clock; `escalation.deadline_missed`: the whole target, still OPEN.
 *
 * A notice whose moment passed while the scheduler was down fires on its next tick, unless a later
 * one of the same thing replaces it (a report already overdue is not also "due soon"; a missed
 * deadline is not also "near").
 */
import type { EntityManager } from '@mikro-orm/core';
import { emitEvents, type AnyEventInput, type EventAgreement } from '../common/events';
import { takeNotices } from '../common/notices';
import { bool, asDate, sqlOf } from '../common/sql';
import { loadersOver } from '../common/wiring';
import { isWorkingDay, localDateOf, type BusinessCalendar } from '../common/working-time';
import { Agreement, AgreementVersion } from '../modules/agreements/agreement.entity';
import { versionAt } from '../modules/agreements/agreement.rules';
import { reviewsDueAt } from '../modules/agreements/review.service';
import { Escalation, EscalationStatus } from '../modules/escalations/escalation.entity';
import { deadline } from '../modules/escalations/escalation.service';

/** A report is "due soon" when at most this many working days remain after today before its due date. */
export const DUE_SOON_WORKING_DAYS = 2;

/** The share of the response target after which an OPEN escalation's deadline is "near" (ServiceNow's 75 %). */
export const DEADLINE_NEAR_FRACTION = 0.75;

/** Candidates looked at per kind and tick: a backlog takes several ticks, none is starved (fired ones drop out). */
const BATCH = 2_000;

/** A notice found due: its once-only key and the event it gives. */
interface Due {
  key: string;
  event: AnyEventInput;
}

export async function fireNotices(em: EntityManager, now: Date, batch = BATCH): Promise<number> {
  const due = [...(await reportNotices(em, now, batch)), ...(await reviewNotices(em, now)), ...(await escalationNotices(em, now, batch))];
  if (!due.length) return 0;
  const taken = await takeNotices(
    em,
    due.map((d) => d.key),
    now,
  );
  const events = due.filter((d) => taken.has(d.key)).map((d) => d.event);
  await emitEvents(em, events);
  return events.length;
}

const partiesOf = (id: string, key: string, providerId: string | null, customerId: string | null): EventAgreement => ({
  id,
  key,
  provider: providerId ? { id: providerId } : null,
  customer: customerId ? { id: customerId } : null,
});

/** The calendar of each agreement's version in force in a month, for the agreements named. */
async function calendars(em: EntityManager, wanted: Array<{ agreementId: string; month: string }>): Promise<(agreementId: string, month: string) => BusinessCalendar | null> {
  const ids = [...new Set(wanted.map((w) => w.agreementId))];
  const versions = new Map<string, AgreementVersion[]>();
  for (let i = 0; i < ids.length; i += 500) {
    for (const v of await em.find(AgreementVersion, { agreement: { $in: ids.slice(i, i + 500) } })) {
      const list = versions.get(v.agreement.id) ?? [];
      list.push(v);
      versions.set(v.agreement.id, list);
    }
  }
  return (agreementId, month) => versionAt(versions.get(agreementId) ?? [], month)?.calendar ?? null;
}

/** The working days of `cal` after the local date `today`, up to and including `dueDate`. */
function workingDaysLeft(cal: BusinessCalendar, today: string, dueDate: string): number {
  let n = 0;
  for (let d = new Date(`${today}T00:00:00Z`); ;) {
    d = new Date(d.getTime() + 86_400_000);
    const day = d.toISOString().slice(0, 10);
    if (day > dueDate) return n;
    if (isWorkingDay(cal, day)) n++;
  }
}

interface MonthRow {
  agreement_id: string;
  agreement_key: string;
  provider_id: string | null;
  customer_id: string | null;
  month: string;
  due_at: unknown;
  due_date: string;
}

async function reportNotices(em: EntityManager, now: Date, batch: number): Promise<Due[]> {
  const sql = sqlOf(em);
  // Ended months with MANUAL objectives and no submitted report, due within the next two weeks or
  // past due, whose notice has not been given (the window is wider than any due-soon span).
  const soon = new Date(now.getTime() + 14 * 86_400_000);
  const select = (kind: string, upTo: Date, after: Date | null) =>
    sql.rows<MonthRow>(
      `select "agreement_id", "agreement_key", "provider_id", "customer_id", "month", "due_at", "due_date" from "ledger_month"
       where "deleted" = ? and "closed" = ? and "has_manual" = ? and "report_status" is null and "month_ends_at" <= ? and "due_at" <= ?${after ? ' and "due_at" > ?' : ''}
         and not exists (select 1 from "fired_notice" f where f."key" = cast(? as text) || cast("agreement_id" as text) || '|' || "month")
       order by "due_at", "agreement_id" limit ?`,
      [bool(sql, false), bool(sql, false), bool(sql, true), sql.date(now), sql.date(upTo), ...(after ? [sql.date(after)] : []), `${kind}|`, batch],
    );
  const overdue = await select('report.overdue', now, null);
  const dueSoon = await select('report.due_soon', soon, now);
  const calendarOf = await calendars(
    em,
    dueSoon.map((r) => ({ agreementId: r.agreement_id, month: r.month })),
  );
  const out: Due[] = overdue.map((r) => ({
    key: `report.overdue|${r.agreement_id}|${r.month}`,
    event: {
      type: 'report.overdue',
      occurredAt: now,
      agreement: partiesOf(r.agreement_id, r.agreement_key, r.provider_id, r.customer_id),
      payload: { month: r.month, dueDate: r.due_date, dueAt: asDate(r.due_at).toISOString() },
    },
  }));
  for (const r of dueSoon) {
    const cal = calendarOf(r.agreement_id, r.month);
    if (!cal) continue;
    const left = workingDaysLeft(cal, localDateOf(cal, now), r.due_date);
    if (left > DUE_SOON_WORKING_DAYS) continue;
    out.push({
      key: `report.due_soon|${r.agreement_id}|${r.month}`,
      event: {
        type: 'report.due_soon',
        occurredAt: now,
        agreement: partiesOf(r.agreement_id, r.agreement_key, r.provider_id, r.customer_id),
        payload: { month: r.month, dueDate: r.due_date, dueAt: asDate(r.due_at).toISOString(), workingDaysLeft: left },
      },
    });
  }
  return out;
}

async function reviewNotices(em: EntityManager, now: Date): Promise<Due[]> {
  const rows = await reviewsDueAt({ em, loaders: loadersOver(em) }, now);
  return rows.map(({ agreement: a, reviewDate, basis }) => ({
    key: `agreement.review_due|${a.id}|${reviewDate}`,
    event: {
      type: 'agreement.review_due',
      occurredAt: now,
      agreement: partiesOf(a.id, a.key, a.provider?.id ?? null, a.customer?.id ?? null),
      payload: { reviewDate, basis },
    },
  }));
}

async function escalationNotices(em: EntityManager, now: Date, batch: number): Promise<Due[]> {
  // An escalation told of its missed deadline stays OPEN but has nothing more to tell: it leaves
  // the candidates, so old ignored ones never keep newer ones out of the batch.
  const sql = sqlOf(em);
  const ids = await sql.rows<{ id: string }>(
    `select "id" from "escalation" e where "status" = ?
       and not exists (select 1 from "fired_notice" f where f."key" = cast(? as text) || cast(e."id" as text))
     order by "opened_at", "id" limit ?`,
    [EscalationStatus.OPEN, 'escalation.deadline_missed|', batch],
  );
  if (!ids.length) return [];
  const open = await em.find(Escalation, { id: { $in: ids.map((r) => r.id) } }, { orderBy: { openedAt: 'asc', id: 'asc' } });
  const agreements = new Map((await em.find(Agreement, { id: { $in: [...new Set(open.map((e) => e.agreement.id))] } })).map((a) => [a.id, a]));
  const calendarOf = await calendars(
    em,
    open.map((e) => ({ agreementId: e.agreement.id, month: e.month })),
  );
  const out: Due[] = [];
  for (const e of open) {
    const cal = calendarOf(e.agreement.id, e.month);
    const a = agreements.get(e.agreement.id);
    if (!cal || !a) continue;
    const agreement = partiesOf(a.id, a.key, a.provider?.id ?? null, a.customer?.id ?? null);
    const deadlineAt = deadline(e, cal, e.responseTargetHours);
    const base = { escalationId: e.id, month: e.month, severity: e.severity, deadlineAt: deadlineAt.toISOString() };
    if (deadlineAt.getTime() <= now.getTime()) {
      out.push({ key: `escalation.deadline_missed|${e.id}`, event: { type: 'escalation.deadline_missed', occurredAt: now, agreement, payload: base } });
    } else if (deadline(e, cal, e.responseTargetHours * DEADLINE_NEAR_FRACTION).getTime() <= now.getTime()) {
      out.push({ key: `escalation.deadline_near|${e.id}`, event: { type: 'escalation.deadline_near', occurredAt: now, agreement, payload: { ...base, fraction: DEADLINE_NEAR_FRACTION } } });
    }
  }
  return out;
}
