/**
 * Issue 15 point 4: e-mail, against a real SMTP server started here (smtp-server on 127.0.0.1).
 * Action e-mails come from the outbox consumer, digests at 08:00 in the user's zone (the zone of
 * its department's agreements: Europe/Berlin, UTC+1 in March), and a refused send is retried.
 *
 * MP provides MPC to MC from January 2026 on a Berlin calendar. The scheduler is driven by hand
 * (`tick(now)`); every user starts with the digest off, so each step mails only what it tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateDepartmentDocument,
  DepartmentDocument,
  DisputeReportDocument,
  MetricDocument,
  MyEmailPreferencesDocument,
  OpenEscalationDocument,
  ReportableObjectivesDocument,
  RequestExclusionDocument,
  SetEmailPreferencesDocument,
  SubmitReportDocument,
} from '../generated/graphql';
import { EmailMessage } from '../../src/modules/notifications/notification.entity';
import { activateAgreement } from '../support/agreements';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';
import { startSmtp, type TestSmtp } from '../support/smtp';

describe.each(engines())('e-mail through a real SMTP server (%s)', (engine) => {
  let smtp: TestSmtp;
  let s: TestServer;
  let provider: Client;
  let customer: Client;
  let agreementId: string;
  let objective: string;
  let reportId: string;
  /**
   * Ticks the scheduler at `at` until the e-mail consumer has read the whole outbox, summing what
   * each job did. On PostgreSQL a consumer reads only transactions older than every running one
   * on the server (src/common/outbox.ts), and other test files share the server: a tick may have
   * to wait for them.
   */
  const tick = async (at: string): Promise<Record<string, number>> => {
    const sum: Record<string, number> = {};
    for (let i = 0; i < 450; i++) {
      const r = await s.app.scheduler.tick(new Date(at));
      for (const [k, v] of Object.entries(r)) sum[k] = (sum[k] ?? 0) + (typeof v === 'number' ? v : 0);
      const conn = s.app.orm.em.fork().getConnection();
      const [cursor] = await conn.execute<Array<{ tx: string; seq: number }>>(`select "tx", "seq" from "outbox_cursor" where "consumer" = 'email'`);
      if (!cursor) return sum;
      const [left] = await conn.execute<Array<{ n: number | string }>>('select count(*) as "n" from "domain_event" where "tx" > ? or ("tx" = ? and "seq" > ?)', [cursor.tx, cursor.tx, cursor.seq]);
      if (Number(left.n) === 0) return sum;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the e-mail consumer did not reach the outbox's end at ${at}`);
  };
  const rows = async () => (await s.app.orm.em.fork().find(EmailMessage, {}, { orderBy: { createdAt: 'asc', toAddress: 'asc' } })).map((m) => ({ ...m }));

  beforeAll(async () => {
    smtp = await startSmtp();
    s = await startServer(engine, { seed: true, env: { SMTP_URL: smtp.url, MAIL_FROM: 'SLA desk <sla@example.com>', DASHBOARD_URL: 'https://sla.example.com/' } });
    // The consumer's first run places it at the outbox's end, before anything here happens.
    await tick('2026-01-01T00:00:00Z');
    for (const code of ['MP', 'MC']) expect((await s.data(CreateDepartmentDocument, { input: { code, name: code } })).createDepartment.userErrors).toEqual([]);
    const [mp, mc] = [(await s.data(DepartmentDocument, { code: 'MP' })).department.id, (await s.data(DepartmentDocument, { code: 'MC' })).department.id];
    const leads = (await s.data(MetricDocument, { code: 'QUALIFIED_LEADS' })).metric.id;
    const calendar = { timeZone: 'Europe/Berlin', workingDays: [1, 2, 3, 4, 5], dayStart: '09:00', dayEnd: '17:00', holidays: [] };
    const charter = await activateAgreement(s, { key: 'MCH', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01', calendar }, objectives: [] });
    agreementId = await activateAgreement(s, {
      key: 'MPC',
      tier: 'CUSTOMER',
      title: 'Leads',
      providerId: mp,
      customerId: mc,
      parentId: charter,
      terms: { effectiveFrom: '2026-01', calendar },
      objectives: [{ metricId: leads, target: 400 }],
    });
    objective = (await s.data(ReportableObjectivesDocument, { key: 'MPC', at: '2026-02' })).agreement.effectiveObjectives[0].id;
    // The setup's events concern the admin (its own acts) and heads that did not exist yet: no mail.
    expect(await tick('2026-03-03T04:00:00Z')).toMatchObject({ 'email-actions': 0, 'email-digests': 0, 'email-send': 0 });
    expect(smtp.mails).toEqual([]);
    provider = s.as(await s.tokenFor(Role.HEAD, 'MP'));
    customer = s.as(await s.tokenFor(Role.HEAD, 'MC'));
    for (const c of [s as Client, provider, customer]) expect((await c.data(SetEmailPreferencesDocument, { input: { dailyDigest: false } })).setEmailPreferences.userErrors).toEqual([]);
  });
  afterAll(async () => {
    await s?.close();
    await smtp?.close();
  });

  it('sends one e-mail to each recipient of an action, once', async () => {
    const submitted = await provider
      .at('2026-03-03T09:00:00Z')
      .data(SubmitReportDocument, { input: { agreementId, month: '2026-02', narrative: 'February', values: [{ objectiveId: objective, value: 300 }] } });
    reportId = submitted.submitReport.report!.id;
    expect(await tick('2026-03-03T09:01:00Z')).toMatchObject({ 'email-actions': 1, 'email-send': 1 });
    expect(smtp.mails.map((m) => [m.to, m.subject])).toEqual([[['head.3@test.example'], '[SLA] MPC: the February 2026 report was submitted: acknowledge or dispute it']]);

    expect((await customer.at('2026-03-04T09:00:00Z').data(DisputeReportDocument, { input: { reportId, revision: 1, reason: 'Webinar leads are missing' } })).disputeReport.userErrors).toEqual([]);
    expect(await tick('2026-03-04T09:01:00Z')).toMatchObject({ 'email-actions': 2, 'email-send': 2 });
    // The provider's head and the admin (who settles disputes); never the customer, who disputed.
    const dispute = smtp.mails.slice(1).sort((a, b) => a.to[0].localeCompare(b.to[0]));
    expect(dispute.map((m) => [m.from, m.to, m.subject])).toEqual([
      ['sla@example.com', ['admin.1@test.example'], '[SLA] MPC: the February 2026 report was disputed: Webinar leads are missing'],
      ['sla@example.com', ['head.2@test.example'], '[SLA] MPC: the February 2026 report was disputed: Webinar leads are missing'],
    ]);
    expect(dispute[1].text).toBe(
      'Hello HEAD 2,\n\nMPC: the February 2026 report was disputed: Webinar leads are missing\n\n' +
        'Provider: correct the report. Admins: settle the dispute (UPHELD or REJECTED).\n\nOpen it: https://sla.example.com/agreements/MPC\n\n(report.disputed at 2026-03-04T09:00:00.000Z)\n',
    );
    expect(dispute[1].html).toContain('<a href="https://sla.example.com/agreements/MPC">Open MPC</a>');
    expect(dispute[1].html).toContain('<strong>MPC: the February 2026 report was disputed: Webinar leads are missing</strong>');
    const stored = (await rows()).filter((r) => r.toAddress === 'head.2@test.example' && r.kind === 'ACTION');
    expect(stored.map((r) => [r.kind, r.status, r.attempts])).toEqual([['ACTION', 'SENT', 1]]);
    expect(dispute[1].messageId).toBe(`<${stored[0].id}@tiered-sla>`);

    // Once: later ticks send nothing again.
    expect(await tick('2026-03-04T09:05:00Z')).toMatchObject({ 'email-actions': 0, 'email-send': 0 });
    expect(smtp.mails.length).toBe(3);
  });

  it('sends no action e-mail to a user who switched them off', async () => {
    expect((await provider.data(SetEmailPreferencesDocument, { input: { actions: false } })).setEmailPreferences.emailPreferences).toEqual({ actions: false, dailyDigest: false });
    const opened = await customer.at('2026-03-04T10:00:00Z').data(OpenEscalationDocument, { input: { agreementId, severity: 'HIGH', title: 'Leads stopped', description: 'No leads since Monday' } });
    expect(opened.openEscalation.userErrors).toEqual([]);
    expect(await tick('2026-03-04T10:01:00Z')).toMatchObject({ 'email-actions': 0, 'email-send': 0 });
    expect(smtp.mails.length).toBe(3);
  });

  it('sends the digest once a day at 08:00 in the zone of the user’s department', async () => {
    expect((await provider.data(SetEmailPreferencesDocument, { input: { dailyDigest: true } })).setEmailPreferences.emailPreferences).toEqual({ actions: false, dailyDigest: true });
    // 07:59 in Berlin: not yet.
    expect(await tick('2026-03-05T06:59:00Z')).toMatchObject({ 'email-digests': 0, 'email-send': 0 });
    // 08:00 in Berlin: the digest of what awaits the provider's head.
    expect(await tick('2026-03-05T07:00:00Z')).toMatchObject({ 'email-digests': 1, 'email-send': 1 });
    const digest = smtp.mails[3];
    expect([digest.to, digest.subject]).toEqual([['head.2@test.example'], '[SLA] 3 action items for 2026-03-05']);
    expect(digest.text).toBe(
      'Hello HEAD 2,\n\nWhat awaits you on 2026-03-05:\n\n' +
        '- Submit the January 2026 report of MPC (due 2026-02-06, overdue) (by 2026-02-06T23:00:00.000Z, OVERDUE)\n  https://sla.example.com/agreements/MPC\n' +
        '- Correct the disputed February 2026 report of MPC: Webinar leads are missing\n  https://sla.example.com/agreements/MPC\n' +
        '- Answer the HIGH escalation on MPC: Leads stopped (by 2026-03-04T14:00:00.000Z, OVERDUE)\n  https://sla.example.com/agreements/MPC\n',
    );
    expect(digest.html).toContain('<li><a href="https://sla.example.com/agreements/MPC">MPC</a>: Correct the disputed February 2026 report of MPC: Webinar leads are missing</li>');
    // Later the same day, and again: nothing more.
    expect(await tick('2026-03-05T07:30:00Z')).toMatchObject({ 'email-digests': 0, 'email-send': 0 });
    expect(await tick('2026-03-05T20:00:00Z')).toMatchObject({ 'email-digests': 0, 'email-send': 0 });
    expect(smtp.mails.length).toBe(4);
    // The next morning, the next one.
    expect(await tick('2026-03-06T06:59:00Z')).toMatchObject({ 'email-digests': 0 });
    expect(await tick('2026-03-06T07:00:00Z')).toMatchObject({ 'email-digests': 1, 'email-send': 1 });
    expect(smtp.mails.map((m) => m.subject).slice(3)).toEqual(['[SLA] 3 action items for 2026-03-05', '[SLA] 3 action items for 2026-03-06']);
    // Users with the digest off, or with nothing to do, have the day decided without a mail.
    const digests = (await rows()).filter((r) => r.kind === 'DIGEST');
    // The earlier days (digest off for all) were each decided once, without a mail.
    expect(digests.filter((r) => r.digestDate! < '2026-03-05').map((r) => `${r.toAddress} ${r.digestDate} ${r.status}`)).toHaveLength(6);
    expect(digests.filter((r) => r.digestDate! < '2026-03-05').every((r) => r.status === 'SKIPPED')).toBe(true);
    expect(
      digests
        .filter((r) => r.digestDate! >= '2026-03-05')
        .map((r) => [r.toAddress, r.digestDate, r.status])
        .sort(),
    ).toEqual(
      [
        ['admin.1@test.example', '2026-03-05', 'SKIPPED'],
        ['admin.1@test.example', '2026-03-06', 'SKIPPED'],
        ['head.2@test.example', '2026-03-05', 'SENT'],
        ['head.2@test.example', '2026-03-06', 'SENT'],
        ['head.3@test.example', '2026-03-05', 'SKIPPED'],
        ['head.3@test.example', '2026-03-06', 'SKIPPED'],
      ].sort(),
    );
  });

  it('retries a send the SMTP server refused, and sends it once', async () => {
    const me = (await customer.data(MyEmailPreferencesDocument, {})).me;
    expect(me.emailPreferences).toEqual({ actions: true, dailyDigest: false });
    smtp.failNext(1);
    const requested = await provider
      .at('2026-03-06T09:00:00Z')
      .data(RequestExclusionDocument, { input: { agreementId, month: '2026-02', objectiveId: objective, reasonCode: 'CUSTOMER_DEPENDENCY', explanation: 'The campaign paused' } });
    expect(requested.requestExclusion.userErrors).toEqual([]);
    expect(await tick('2026-03-06T09:01:00Z')).toMatchObject({ 'email-actions': 1, 'email-send': 0 });
    const [failed] = (await rows()).filter((r) => r.eventId && r.toAddress === 'head.3@test.example' && r.subject.includes('exclusion'));
    expect([failed.status, failed.attempts, failed.nextAttemptAt.toISOString()]).toEqual(['QUEUED', 1, '2026-03-06T09:02:00.000Z']);
    expect(failed.lastError).toContain('451');
    // Not before its next attempt; then once.
    expect(await tick('2026-03-06T09:01:30Z')).toMatchObject({ 'email-send': 0 });
    expect(await tick('2026-03-06T09:02:00Z')).toMatchObject({ 'email-send': 1 });
    expect(await tick('2026-03-06T09:10:00Z')).toMatchObject({ 'email-send': 0 });
    const exclusionMails = smtp.mails.filter((m) => m.subject.includes('exclusion'));
    expect(exclusionMails.map((m) => [m.to, m.subject])).toEqual([
      [['head.3@test.example'], '[SLA] MPC: an exclusion of QUALIFIED_LEADS in February 2026 was requested (CUSTOMER_DEPENDENCY): approve or reject it'],
    ]);
    const [sent] = (await rows()).filter((r) => r.id === failed.id);
    expect([sent.status, sent.attempts, sent.sentAt?.toISOString(), sent.lastError]).toEqual(['SENT', 2, '2026-03-06T09:02:00.000Z', null]);
  });
});
