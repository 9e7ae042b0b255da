/**
 * Issue 15 point 6: on a fresh demo (the seed `npm start` runs on an empty database) the demo's
 * heads have inbox items and action items. The seeder writes the domain events its history would
 * have written (seeds/demo-events.ts), oldest first, each valid against its type's JSON Schema.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionItemsDocument, InboxDocument } from '../generated/graphql';
import { DomainEvent } from '../../src/common/events';
import { addMonths, monthOf } from '../../src/common/month';
import { mayReadEvent } from '../../src/common/policy';
import { Department } from '../../src/modules/departments/department.entity';
import { monthName } from '../../src/modules/notifications/summary';
import { invalidEvents } from '../support/event-schemas';
import { engines, Role, startServer, type TestServer } from '../support/server';

describe.each(engines())('the demo’s inbox on a fresh start (%s)', (engine) => {
  let s: TestServer;
  const now = new Date();

  beforeAll(async () => {
    s = await startServer(engine, { seed: 'all' });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('writes the seeded history’s events, oldest first, each valid for its type', async () => {
    const events = await s.app.orm.em.fork().find(DomainEvent, {}, { orderBy: { seq: 'asc' } });
    const types = new Set(events.map((e) => e.type));
    for (const t of [
      'agreement.awaiting_approval',
      'agreement.activated',
      'report.submitted',
      'report.disputed',
      'report.acknowledged',
      'exclusion.requested',
      'exclusion.decided',
      'amendment.proposed',
      'amendment.decided',
      'escalation.opened',
      'escalation.resolved',
      'month.closed',
    ]) {
      expect([t, types.has(t)]).toEqual([t, true]);
    }
    const invalid = invalidEvents(events);
    expect(invalid).toEqual([]);
    // The history in order; the ledger's closes (at the seeding instant) after it.
    const history = events.filter((e) => e.type !== 'month.closed');
    expect(history.every((e, i) => i === 0 || history[i - 1].occurredAt.getTime() <= e.occurredAt.getTime())).toBe(true);
    expect(history.every((e) => e.occurredAt.getTime() <= now.getTime() + 60_000)).toBe(true);
    // One dispute: Customer Service's of a Sales → Customer Service report.
    expect(events.filter((e) => e.type === 'report.disputed').map((e) => [e.agreementKey, e.payload.reason])).toEqual([
      ['SALES-CS', 'Three handovers in week 2 took three days; the CRM timestamps show it.'],
    ]);
  });

  it('gives every demo head a non-empty inbox (what mayReadEvent lets it read), and Marketing, Sales and Finance something to do', async () => {
    const em = s.app.orm.em.fork();
    const all = await em.find(DomainEvent, {});
    const withItems: string[] = [];
    for (const code of ['MKT', 'SALES', 'CS', 'IT', 'FIN']) {
      const department = await em.findOneOrFail(Department, { code });
      const head = s.as(await s.tokenFor(Role.HEAD, code));
      const inbox = (await head.data(InboxDocument, { first: 5 })).inbox;
      const expected = all.filter((e) =>
        mayReadEvent({ role: Role.HEAD, departmentIds: [department.id] }, { providerId: e.providerDepartmentId ?? null, customerId: e.customerDepartmentId ?? null }),
      ).length;
      expect([code, inbox.totalCount, inbox.unreadCount]).toEqual([code, expected, expected]);
      expect(inbox.edges.length).toBe(5);
      const items = (await head.data(ActionItemsDocument, {})).actionItems;
      if (items.length) withItems.push(code);
      if (code === 'FIN') {
        // Finance never sent the report of the month three months back: overdue.
        expect(items.filter((i) => i.kind === 'SUBMIT_REPORT').map((i) => [i.agreementKey, i.month, i.overdue])).toEqual([['FIN-SALES', addMonths(monthOf(now), -3), true]]);
      }
      // Marketing and Sales each have the other party's proposal to decide.
      // (Early in a month last month's reports also await acknowledgement, so only this kind is exact.)
      const decide = items.filter((i) => i.kind === 'DECIDE_AMENDMENT').map((i) => [i.agreementKey, i.month]);
      if (code === 'MKT') expect(decide).toEqual([['IT-MKT', addMonths(monthOf(now), 1)]]);
      if (code === 'SALES') expect(decide).toEqual([['SALES-CS', addMonths(monthOf(now), 1)]]);
      if (code !== 'MKT' && code !== 'SALES') expect(decide).toEqual([]);
      // Each proposal is in the inbox of both parties, as its newest amendment event.
      if (code === 'MKT' || code === 'SALES') {
        const proposals = (await head.data(InboxDocument, { filter: { types: ['amendment.proposed'] } })).inbox.edges.map((e) => e.node.summary);
        expect(proposals[0]).toBe(
          code === 'MKT'
            ? `IT-MKT: an amendment from ${monthName(addMonths(monthOf(now), 1))} was proposed: IT staffed a second service desk shift: first response within 6 hours`
            : `SALES-CS: an amendment from ${monthName(addMonths(monthOf(now), 1))} was proposed: Customer Service needs handovers within a day and a half for the new onboarding flow`,
        );
      }
    }
    expect(withItems).toEqual(expect.arrayContaining(['MKT', 'SALES', 'FIN']));
  });
});
