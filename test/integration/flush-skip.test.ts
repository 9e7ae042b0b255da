import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntityManager } from '@mikro-orm/core';
import { nothingToFlush } from '../../src/db/entity-manager';
import { Metric } from '../../src/modules/catalog/metric.entity';
import { AgreementVersion } from '../../src/modules/agreements/agreement.entity';
import { MetricDocument } from '../generated/graphql';
import { activateAgreement } from '../support/agreements';
import { engines, startServer, type TestServer } from '../support/server';

/**
 * A flush is skipped only when the ORM's own change sets would be empty (src/db/entity-manager.ts):
 * loaded rows left alone skip it; an assignment, a JSON value changed in place, a new entity, each
 * is flushed.
 */
describe.each(engines())('skipping a flush with nothing to write on %s', (engine) => {
  let s: TestServer;

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    const metric = (await s.data(MetricDocument, { code: 'REPORT_DAYS_LATE' })).metric.id;
    await activateAgreement(s, { key: 'FLUSH', tier: 'CORPORATE', title: 'Flush', terms: { effectiveFrom: '2026-01' }, objectives: [{ metricId: metric, target: 0 }] });
  });
  afterAll(() => s?.close());

  /** The predicate, and whether the ORM's change-set computation finds nothing (it must agree when the predicate says so). */
  const verdicts = (em: EntityManager) => {
    const skip = nothingToFlush(em);
    const uow = em.getUnitOfWork();
    uow.computeChangeSets();
    const empty = uow.getChangeSets().length === 0;
    return { skip, empty };
  };

  const loaded = async () => {
    const em = s.app.orm.em.fork();
    const metric = await em.findOneOrFail(Metric, { code: 'REPORT_DAYS_LATE' });
    const version = await em.findOneOrFail(AgreementVersion, { number: { $gte: 1 } }, { orderBy: { id: 'asc' } });
    return { em, metric, version };
  };

  it('skips a flush of rows only read, and sends no statement for it', async () => {
    const { em } = await loaded();
    expect(verdicts(em)).toEqual({ skip: true, empty: true });
    expect(await s.countStatements(() => em.flush())).toBe(0);
  });

  it('flushes an assigned property, a JSON value changed in place, and a new entity', async () => {
    const cases: Array<(x: Awaited<ReturnType<typeof loaded>>) => void> = [
      ({ metric }) => (metric.description = `${metric.description} (edited)`),
      ({ version }) => (version.calendar.timeZone = version.calendar.timeZone === 'UTC' ? 'Europe/Paris' : 'UTC'),
      ({ em }) => void em.create(Metric, { code: 'FLUSH_SKIP_NEW', name: 'New', unit: 'COUNT', direction: 'HIGHER_IS_BETTER', source: 'MANUAL' } as never),
    ];
    for (const [i, change] of cases.entries()) {
      const x = await loaded();
      change(x);
      expect({ case: i, ...verdicts(x.em) }).toEqual({ case: i, skip: false, empty: false });
    }
  });

  it('flushes what was assigned back and forth by the ORM, as the ORM does', async () => {
    const { em, metric } = await loaded();
    const before = metric.description;
    metric.description = 'changed';
    metric.description = before;
    // Touched: not skipped, and the ORM finds nothing to write.
    expect(verdicts(em)).toEqual({ skip: false, empty: true });
  });
});
