/**
 * Issue 13: the ledger follows the measured set when it changes through an agreement tree (DESIGN
 * §3: a container is measured in the months none of its agreements below is ACTIVE). On the demo,
 * an amendment ending IT-SALES-CRM (a SERVICE agreement under IT-SALES) with the current month
 * makes IT-SALES itself measured from next month: the ledger holds that month for IT-SALES at once,
 * equal to a rebuild.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMonths } from '../../src/common/month';
import { compareWithRebuild } from '../../src/modules/ledger/ledger.service';
import { AgreementLockDocument, ApproveAmendmentDocument, ProposeAmendmentDocument } from '../generated/graphql';
import { berlinMonth } from '../support/clock';
import { engines, Role, startServer, type TestServer } from '../support/server';

describe.each(engines())('the ledger of an agreement tree (%s)', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(engine, { seed: 'all' });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('measures the parent from the month after its only child ends, as a rebuild does', async () => {
    const month = berlinMonth(new Date());
    const next = addMonths(month, 1);
    const count = async (key: string, m: string) => {
      const rows = (await s.app.orm.em
        .fork()
        .getConnection()
        .execute(`select count(*) as n from ledger_month where agreement_key = ? and month = ? and deleted = ?`, [key, m, engine === 'postgresql' ? false : 0])) as Array<{ n: number | string }>;
      return Number(rows[0].n);
    };
    expect(await count('IT-SALES', next)).toBe(0);
    const it = s.as(await s.tokenFor(Role.HEAD, 'IT'));
    const sales = s.as(await s.tokenFor(Role.HEAD, 'SALES'));
    const lockVersion = (await s.data(AgreementLockDocument, { key: 'IT-SALES-CRM' })).agreement.lockVersion;
    const id = ((await s.app.orm.em.fork().getConnection().execute(`select id from agreement where key = ?`, ['IT-SALES-CRM'])) as Array<{ id: string }>)[0].id;
    const proposed = await it.data(ProposeAmendmentDocument, {
      input: { agreementId: id, expectedVersion: lockVersion, effectiveMonth: month, reason: 'The CRM is retired', terms: { effectiveTo: month } },
    });
    expect(proposed.proposeAmendment.userErrors).toEqual([]);
    const a = proposed.proposeAmendment.amendment!;
    expect((await sales.data(ApproveAmendmentDocument, { input: { id: a.id, expectedVersion: a.version } })).approveAmendment.userErrors).toEqual([]);
    // The child's months after it end are gone from the ledger; the parent's appear.
    expect(await count('IT-SALES', next)).toBe(1);
    expect(await count('IT-SALES-CRM', next)).toBe(0);
    expect((await compareWithRebuild(s.app.orm.em.fork(), new Date())).differences).toEqual([]);
  });
});
