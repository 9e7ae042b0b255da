/**
 * E-mail (issue 15 point 4, docs/notifications.md): durable, and sent once.
 *
 * 1. {@link queueActionEmails}, an outbox consumer (`consumeOutbox(em, 'email', …)`), maps each
 *    event that makes an action for someone to its recipients and writes one QUEUED
 *    `email_message` per (event, recipient) in the transaction that advances its cursor: a crash
 *    either keeps both or neither.
 * 2. {@link queueDigests} writes one digest per (user, local date) once it is 08:00 in the user's
 *    zone, listing its action items (a SKIPPED row when there are none, so the day is decided once).
 * 3. {@link sendQueuedEmails} sends the QUEUED rows that are due through SMTP and marks them SENT,
 *    or schedules another attempt with exponential backoff (FAILED after the last).
 *
 * The unique indexes (event, recipient) and (recipient, digest date) make a second queuing of the
 * same mail impossible; each message carries a stable Message-ID (`<row id@tiered-sla>`), so the
 * one window left (SMTP accepted, then the process died before its commit) shows as a duplicate
 * receivers can recognise.
 */
import type { EntityManager } from '@mikro-orm/core';
import type { Transporter } from 'nodemailer';
import { newId } from '../../common/ids';
import type { Config } from '../../common/config';
import { consumeOutbox, type OutboxEvent } from '../../common/outbox';
import { Role } from '../../common/role';
import { sqlOf } from '../../common/sql';
import { localDateOf } from '../../common/working-time';
import { Agreement, AgreementVersion, Tier } from '../agreements/agreement.entity';
import { User } from '../auth/user.entity';
import { actionItemsOf, type ActionItemValue } from './action-items';
import { preferencesOf } from './preferences.service';
import { summaryOf } from './summary';

/** What the e-mail jobs need: the settings and an SMTP transport. */
export interface Mailer {
  settings: NonNullable<Config['mail']>;
  transport: Transporter;
}

/**
 * The mailer of each ORM (keyed by its configuration, which every fork shares): the jobs are
 * listed once for every app (src/jobs/scheduler.ts), and each app has its own SMTP settings.
 */
const mailers = new WeakMap<object, Mailer>();

/**
 * Gives the e-mail jobs of `em`'s ORM their settings (createApp does, when SMTP_URL is set).
 * nodemailer is loaded here, not at start: a server without SMTP_URL never needs it (issue 19 goal 4).
 */
export async function provideMailer(em: EntityManager, settings: NonNullable<Config['mail']>): Promise<Mailer> {
  const { createTransport } = await import('nodemailer');
  const mailer = { settings, transport: createTransport(settings.smtpUrl) };
  mailers.set(em.config, mailer);
  return mailer;
}

function mailerOf(em: EntityManager): Mailer | undefined {
  return mailers.get(em.config);
}

/** Who an event concerns: the heads of a party, or the admins. */
type Audience = 'PROVIDER' | 'CUSTOMER' | 'BOTH' | 'OTHER' | 'ADMINS';

/**
 * Which events make an action, and for whom (the issue's list). OTHER: the parties' heads other
 * than the actor's department; an amendment's, a reopening request's or a lifecycle request's
 * "other party" is read from its `proposedBy` or `requestedBy`.
 * Time-driven types are named by string: they join EVENT_TYPES as the scheduler learns them.
 */
export const EMAIL_AUDIENCES: Readonly<Record<string, readonly Audience[]>> = {
  'report.submitted': ['CUSTOMER'],
  'report.disputed': ['PROVIDER', 'ADMINS'],
  'exclusion.requested': ['CUSTOMER'],
  'amendment.proposed': ['OTHER'],
  'agreement.awaiting_approval': ['BOTH'],
  'escalation.opened': ['PROVIDER'],
  'month.reopened': ['OTHER'],
  'reopening.requested': ['OTHER'],
  // Issue 16: a party's request to suspend, resume or terminate is the other party's call.
  'agreement.suspension_requested': ['OTHER'],
  'agreement.resumption_requested': ['OTHER'],
  'agreement.termination_requested': ['OTHER'],
  'report.due_soon': ['PROVIDER'],
  'report.overdue': ['PROVIDER'],
  'escalation.deadline_near': ['PROVIDER'],
  'escalation.deadline_missed': ['PROVIDER'],
  'agreement.review_due': ['BOTH'],
};

/** What the recipient is asked to do, per type. */
const ASKS: Readonly<Record<string, string>> = {
  'report.submitted': 'Acknowledge or dispute the report before its acceptance window ends; silence counts as acknowledgement.',
  'report.disputed': 'Provider: correct the report. Admins: settle the dispute (UPHELD or REJECTED).',
  'exclusion.requested': 'Approve or reject the exclusion.',
  'amendment.proposed': 'Approve or reject the amendment.',
  'agreement.awaiting_approval': 'Review and approve the draft agreement.',
  'escalation.opened': 'Acknowledge the escalation before its response deadline.',
  'month.reopened': 'The month is open again: review its report and exclusions.',
  'reopening.requested': 'Approve or reject the reopening.',
  'agreement.suspension_requested': 'Approve or reject the suspension (approveLifecycleRequest / rejectLifecycleRequest).',
  'agreement.resumption_requested': 'Approve or reject the resumption (approveLifecycleRequest / rejectLifecycleRequest).',
  'agreement.termination_requested': 'Approve or reject the termination (approveLifecycleRequest / rejectLifecycleRequest).',
  'report.due_soon': 'Submit the report before it falls due.',
  'report.overdue': 'Submit the overdue report.',
  'escalation.deadline_near': 'Acknowledge the escalation: its response deadline is near.',
  'escalation.deadline_missed': 'Acknowledge the escalation: its response deadline passed.',
  'agreement.review_due': 'Review the agreement: its review date has come.',
};

interface Recipient {
  id: string;
  email: string;
  name: string;
  role: string;
  departmentId: string | null;
}

/** Active heads of `departmentIds` and (if asked) admins, one statement. */
async function recipientsOf(em: EntityManager, departmentIds: string[], admins: boolean): Promise<Recipient[]> {
  const or: object[] = [];
  if (departmentIds.length) or.push({ role: Role.HEAD, department: { $in: departmentIds } });
  if (admins) or.push({ role: Role.ADMIN });
  if (!or.length) return [];
  const users = await em.find(User, { deactivatedAt: null, $or: or } as never, { disableIdentityMap: true, orderBy: { email: 'asc' } });
  return users.map((u) => ({ id: u.id, email: u.email, name: u.name, role: u.role, departmentId: u.department?.id ?? null }));
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** The agreement page of the dashboard, or its home without an agreement. */
function linkOf(settings: Mailer['settings'], agreementKey: string | null): string {
  return agreementKey ? `${settings.dashboardUrl}/agreements/${encodeURIComponent(agreementKey)}` : settings.dashboardUrl;
}

/** An action e-mail: the event's summary as subject, what to do, and the link. */
export function renderAction(
  settings: Mailer['settings'],
  event: Pick<OutboxEvent, 'type' | 'agreementKey' | 'payload' | 'occurredAt'>,
  name: string,
): { subject: string; text: string; html: string } {
  const summary = summaryOf(event);
  const ask = ASKS[event.type] ?? '';
  const link = linkOf(settings, event.agreementKey);
  const subject = `[SLA] ${summary}`.slice(0, 500).replace(/[\r\n]+/g, ' ');
  const text = `Hello ${name},\n\n${summary}\n\n${ask}\n\nOpen it: ${link}\n\n(${event.type} at ${event.occurredAt.toISOString()})\n`;
  const html = `<p>Hello ${escape(name)},</p><p><strong>${escape(summary)}</strong></p><p>${escape(ask)}</p><p><a href="${escape(link)}">Open ${escape(event.agreementKey ?? 'the dashboard')}</a></p><p style="color:#666">${escape(event.type)} at ${event.occurredAt.toISOString()}</p>`;
  return { subject, text, html };
}

/** A digest e-mail listing action items. */
export function renderDigest(settings: Mailer['settings'], date: string, name: string, items: ActionItemValue[]): { subject: string; text: string; html: string } {
  const line = (i: ActionItemValue) => `${i.title}${i.deadline ? ` (by ${i.deadline.toISOString()}${i.overdue ? ', OVERDUE' : ''})` : ''}`;
  const subject = `[SLA] ${items.length} action item${items.length === 1 ? '' : 's'} for ${date}`;
  const text = `Hello ${name},\n\nWhat awaits you on ${date}:\n\n${items.map((i) => `- ${line(i)}\n  ${linkOf(settings, i.agreementKey)}`).join('\n')}\n`;
  const html = `<p>Hello ${escape(name)},</p><p>What awaits you on ${escape(date)}:</p><ul>${items.map((i) => `<li><a href="${escape(linkOf(settings, i.agreementKey))}">${escape(i.agreementKey)}</a>: ${escape(line(i))}</li>`).join('')}</ul>`;
  return { subject, text, html };
}

/** Writes QUEUED rows, skipping those already there (the unique indexes), one statement per batch. */
async function queue(
  em: EntityManager,
  rows: Array<{ userId: string; toAddress: string; kind: string; eventId: string | null; digestDate: string | null; subject: string; text: string; html: string; status?: string }>,
  now: Date,
): Promise<void> {
  if (!rows.length) return;
  const sql = sqlOf(em);
  for (let i = 0; i < rows.length; i += 200) {
    const batch = rows.slice(i, i + 200);
    const values = batch.flatMap((r) => [newId(), r.userId, r.toAddress, r.kind, r.eventId, r.digestDate, r.subject, r.text, r.html, r.status ?? 'QUEUED', 0, sql.date(now), sql.date(now)]);
    await sql.run(
      `insert into "email_message" ("id", "user_id", "to_address", "kind", "event_id", "digest_date", "subject", "text", "html", "status", "attempts", "next_attempt_at", "created_at") values ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')} on conflict do nothing`,
      values,
    );
  }
}

/** Events handled per consumer step, and steps per run (5,000 events a scheduler tick). */
const EVENT_BATCH = 200;
const MAX_BATCHES = 25;

/**
 * The outbox consumer `email`: an action e-mail per event of {@link EMAIL_AUDIENCES} to each
 * recipient with the `actions` preference on, never to the actor itself. Nothing without SMTP
 * settings; the cursor is made on the first run with them, at the outbox's end, so switching
 * e-mail on never mails history (the demo's seeded events included).
 */
export async function queueActionEmails(em: EntityManager, now: Date): Promise<number> {
  const mailer = mailerOf(em);
  if (!mailer) return 0;
  let queued = 0;
  // Several batches a run (a burst such as a handoff backfill), in the job's one transaction.
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const handled = await consumeOutbox(em, 'email', EVENT_BATCH, now, async (events) => {
      const mapped = events.filter((e) => EMAIL_AUDIENCES[e.type]);
      if (!mapped.length) return;
      const departments = [...new Set(mapped.flatMap((e) => [e.providerDepartmentId, e.customerDepartmentId]).filter((d): d is string => !!d))];
      const anyAdmins = mapped.some((e) => EMAIL_AUDIENCES[e.type].includes('ADMINS') || (!e.providerDepartmentId && !e.customerDepartmentId));
      const people = await recipientsOf(em, departments, anyAdmins);
      // The actors' departments, for "the other party".
      const actorIds = [...new Set(mapped.map((e) => e.actorUserId).filter((a): a is string => !!a))];
      const actors = new Map((actorIds.length ? await em.find(User, { id: { $in: actorIds } }, { disableIdentityMap: true }) : []).map((u) => [u.id, u.department?.id ?? null]));
      const prefs = await preferencesOf(
        em,
        people.map((p) => p.id),
      );
      const rows = [];
      for (const e of mapped) {
        const targets = new Set<string | 'ADMINS'>();
        const parties = [e.providerDepartmentId, e.customerDepartmentId].filter((d): d is string => !!d);
        if (!parties.length) targets.add('ADMINS');
        for (const audience of EMAIL_AUDIENCES[e.type]) {
          if (audience === 'PROVIDER' && e.providerDepartmentId) targets.add(e.providerDepartmentId);
          if (audience === 'CUSTOMER' && e.customerDepartmentId) targets.add(e.customerDepartmentId);
          if (audience === 'BOTH') parties.forEach((d) => targets.add(d));
          if (audience === 'ADMINS') targets.add('ADMINS');
          if (audience === 'OTHER') {
            const by = e.type === 'amendment.proposed' ? e.payload.proposedBy : e.type === 'reopening.requested' || e.type.endsWith('_requested') ? e.payload.requestedBy : null;
            const actorDepartment = e.actorUserId ? actors.get(e.actorUserId) : null;
            if (by === 'PROVIDER' && e.customerDepartmentId) targets.add(e.customerDepartmentId);
            else if (by === 'CUSTOMER' && e.providerDepartmentId) targets.add(e.providerDepartmentId);
            else parties.filter((d) => d !== actorDepartment).forEach((d) => targets.add(d));
          }
        }
        for (const p of people) {
          const wanted = (p.role === Role.ADMIN && targets.has('ADMINS')) || (p.role === Role.HEAD && p.departmentId !== null && targets.has(p.departmentId));
          if (!wanted || p.id === e.actorUserId || !prefs.get(p.id)?.actions) continue;
          rows.push({ userId: p.id, toAddress: p.email, kind: 'ACTION', eventId: e.id, digestDate: null, ...renderAction(mailer.settings, e, p.name) });
        }
      }
      await queue(em, rows, now);
      queued += rows.length;
    });
    if (handled < EVENT_BATCH) break;
  }
  return queued;
}

/** The hour of the digest, local time. */
export const DIGEST_HOUR = 8;

/**
 * The time zone of each department's digest, and of admins' (key null): the calendar zone of the
 * newest agreement version it is a party to, or (admins, and departments without agreements) of
 * the newest CORPORATE version, or UTC. Departments have no zone of their own: their agreements'
 * calendars are where the organisation says what time it is (docs/decisions.md).
 */
async function digestZones(em: EntityManager): Promise<{ of: (departmentId: string | null) => string }> {
  const agreements = await em.find(Agreement, {}, { fields: ['provider', 'customer', 'tier'], disableIdentityMap: true });
  const versions = agreements.length ? await em.find(AgreementVersion, {}, { fields: ['agreement', 'number', 'calendar', 'createdAt'], disableIdentityMap: true }) : [];
  const newest = new Map<string, { at: number; zone: string }>();
  const byAgreement = new Map(agreements.map((a) => [a.id, a]));
  const note = (key: string, at: number, zone: string) => {
    const seen = newest.get(key);
    if (!seen || seen.at < at) newest.set(key, { at, zone });
  };
  for (const v of versions) {
    const a = byAgreement.get(v.agreement.id);
    if (!a) continue;
    const at = v.createdAt.getTime();
    if (a.tier === Tier.CORPORATE) note('', at, v.calendar.timeZone);
    for (const d of [a.provider?.id, a.customer?.id]) if (d) note(d, at, v.calendar.timeZone);
  }
  return { of: (departmentId) => (departmentId ? newest.get(departmentId)?.zone : undefined) ?? newest.get('')?.zone ?? 'UTC' };
}

/** The local hour of `at` in `zone`. */
function localHour(zone: string, at: Date): number {
  return Number(new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', hourCycle: 'h23' }).format(at));
}

/**
 * The daily digests due at `now`: for each active head and admin with the `dailyDigest`
 * preference, once its local time has reached 08:00 and no digest of that local date exists, a
 * digest of its action items (or a SKIPPED row when it has none). Users already done today cost
 * nothing but the statement that finds them.
 */
export async function queueDigests(em: EntityManager, now: Date): Promise<number> {
  const mailer = mailerOf(em);
  if (!mailer) return 0;
  const users = await em.find(User, { deactivatedAt: null, role: { $in: [Role.HEAD, Role.ADMIN] } }, { disableIdentityMap: true, orderBy: { email: 'asc' } });
  if (!users.length) return 0;
  const zones = await digestZones(em);
  const due = users
    .map((u) => {
      const zone = zones.of(u.department?.id ?? null);
      return { user: u, date: localDateOf({ timeZone: zone }, now), hour: localHour(zone, now) };
    })
    .filter((d) => d.hour >= DIGEST_HOUR);
  if (!due.length) return 0;
  const sql = sqlOf(em);
  const done = new Set(
    (
      await sql.rows<{ user_id: string; digest_date: string }>(
        `select "user_id", "digest_date" from "email_message" where "kind" = 'DIGEST' and "digest_date" in (${[...new Set(due.map((d) => d.date))].map(() => '?').join(', ')})`,
        [...new Set(due.map((d) => d.date))],
      )
    ).map((r) => `${r.user_id}|${r.digest_date}`),
  );
  const todo = due.filter((d) => !done.has(`${d.user.id}|${d.date}`));
  const prefs = await preferencesOf(
    em,
    todo.map((d) => d.user.id),
  );
  let queued = 0;
  for (const d of todo) {
    const u = d.user;
    const wanted = prefs.get(u.id)?.dailyDigest;
    const items = wanted ? await actionItemsOf(em, { role: u.role, departmentIds: u.department ? [u.department.id] : [] }, now) : [];
    const rendered = items.length ? renderDigest(mailer.settings, d.date, u.name, items) : { subject: '', text: '', html: '' };
    // Switched off or nothing to do: the day is decided all the same (SKIPPED), once.
    await queue(em, [{ userId: u.id, toAddress: u.email, kind: 'DIGEST', eventId: null, digestDate: d.date, ...rendered, status: items.length ? 'QUEUED' : 'SKIPPED' }], now);
    if (items.length) queued++;
  }
  return queued;
}

/** Messages sent per run, and attempts before a message is given up (FAILED). */
const SEND_BATCH = 50;
export const MAX_ATTEMPTS = 8;

/** The wait after the n-th failed attempt: a minute, doubling, at most six hours. */
export function retryDelayMs(attempts: number): number {
  return Math.min(60_000 * 2 ** Math.max(0, attempts - 1), 6 * 3_600_000);
}

interface QueuedRow {
  id: string;
  to_address: string;
  subject: string;
  text: string;
  html: string;
  attempts: number | string;
}

/**
 * Sends the QUEUED messages due at `now` (oldest first, at most a batch): SENT when the SMTP
 * server accepts, else another attempt after {@link retryDelayMs} (FAILED after
 * {@link MAX_ATTEMPTS}). Rows are locked (PostgreSQL, SKIP LOCKED), so two instances never send
 * the same one. Returns how many were sent.
 */
export async function sendQueuedEmails(em: EntityManager, now: Date): Promise<number> {
  const mailer = mailerOf(em);
  if (!mailer) return 0;
  const sql = sqlOf(em);
  const rows = await sql.rows<QueuedRow>(
    `select "id", "to_address", "subject", "text", "html", "attempts" from "email_message" where "status" = 'QUEUED' and "next_attempt_at" <= ? order by "next_attempt_at", "id" limit ?${sql.pg ? ' for update skip locked' : ''}`,
    [sql.date(now), SEND_BATCH],
  );
  let sent = 0;
  for (const row of rows) {
    const attempts = Number(row.attempts) + 1;
    try {
      await mailer.transport.sendMail({ from: mailer.settings.from, to: row.to_address, subject: row.subject, text: row.text, html: row.html, messageId: `<${row.id}@tiered-sla>` });
      await sql.run(`update "email_message" set "status" = 'SENT', "attempts" = ?, "sent_at" = ?, "last_error" = null where "id" = ?`, [attempts, sql.date(now), row.id]);
      sent++;
    } catch (e) {
      const error = (e instanceof Error ? e.message : String(e)).slice(0, 2000);
      const status = attempts >= MAX_ATTEMPTS ? 'FAILED' : 'QUEUED';
      await sql.run(`update "email_message" set "status" = ?, "attempts" = ?, "next_attempt_at" = ?, "last_error" = ? where "id" = ?`, [
        status,
        attempts,
        sql.date(new Date(now.getTime() + retryDelayMs(attempts))),
        error,
        row.id,
      ]);
    }
  }
  return sent;
}
