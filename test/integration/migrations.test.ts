import { afterEach, describe, expect, it } from 'vitest';
import { migrationsFor } from '../../src/db/migrations';
import { migrateUp, openOrm } from '../../src/db/orm';
import { searchTextOf } from '../../src/common/codes';
import { versionAt } from '../../src/modules/agreements/agreement.rules';
import { AgreementVersion } from '../../src/modules/agreements/agreement.entity';
import { acceptanceDue } from '../../src/common/working-time';
import { seedDemo } from '../../seeds/demo.seeder';
import { advanceLedger, compareWithRebuild } from '../../src/modules/ledger/ledger.service';
import { engines, freshDatabase } from '../support/server';

describe.each(engines())('migrations on %s', (engine) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await (cleanups.pop() as () => Promise<void>)();
  });

  /** A new database with the demo written at today's schema, and how to send it raw SQL. */
  async function demoDatabase() {
    const { config, drop } = await freshDatabase(engine);
    cleanups.push(drop);
    const { orm } = await openOrm(config);
    cleanups.push(() => orm.close(true));
    await seedDemo(orm.em.fork(), { principals: false, agreements: true });
    const q = (name: string) => (engine === 'postgresql' ? `"${name}"` : `\`${name}\``);
    const run = (sql: string) => orm.em.getConnection().execute(sql);
    return { orm, q, run };
  }

  it('apply in order on a new database, once, and leave nothing for a schema diff to change', async () => {
    const { config, drop } = await freshDatabase(engine);
    cleanups.push(drop);
    const { orm } = await openOrm(config, { migrate: false });
    cleanups.push(() => orm.close(true));
    const applied = await migrateUp(orm);
    expect(applied).toEqual(migrationsFor(engine).map((m) => m.name));
    expect(await migrateUp(orm)).toEqual([]);
    // The entities and the migrated database agree: the same model on both engines.
    expect((await orm.schema.getUpdateSchemaSQL({ wrap: false })).trim()).toBe('');
  });

  it('upgrades a database written before search_text and acceptance windows, filling them for every existing row', async () => {
    // The demo written at today's schema, then taken back to before the two migrations (their
    // columns dropped, their records removed), as a database of the previous version would be.
    const { orm, q, run } = await demoDatabase();
    for (const table of ['department', 'metric', 'service']) await run(`alter table ${q(table)} drop column ${q('search_text')}`);
    for (const column of ['acceptance_due_at', 'deemed', 'ruling', 'ruling_note', 'ruled_at', 'ruled_by_user_id']) await run(`alter table ${q('report_revision')} drop column ${q(column)}`);
    await run(`alter table ${q('agreement_version')} drop column ${q('acceptance_working_days')}`);
    await run(`delete from ${q('mikro_orm_migrations')} where ${q('name')} like '%search_text%' or ${q('name')} like '%acceptance_and_rulings%'`);

    expect(await migrateUp(orm)).toEqual(
      migrationsFor(engine)
        .map((m) => m.name)
        .filter((n) => /search_text|acceptance_and_rulings/.test(n)),
    );
    expect((await orm.schema.getUpdateSchemaSQL({ wrap: false })).trim()).toBe('');
    for (const table of ['department', 'metric', 'service']) {
      const rows = (await run(`select ${q('code')} as code, ${q('name')} as name, ${q('search_text')} as search_text from ${q(table)}`)) as Array<{ code: string; name: string; search_text: string }>;
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect(r.search_text).toBe(searchTextOf(r));
    }
    const em = orm.em.fork();
    const revisions = (await run(
      `select rr.${q('id')} as id, rr.${q('submitted_at')} as submitted_at, rr.${q('acceptance_due_at')} as due, r.${q('month')} as month, r.${q('agreement_id')} as agreement_id from ${q('report_revision')} rr join ${q('report')} r on r.${q('id')} = rr.${q('report_id')}`,
    )) as Array<{ id: string; submitted_at: unknown; due: unknown; month: string; agreement_id: string }>;
    expect(revisions.length).toBeGreaterThan(50);
    const versions = await em.find(AgreementVersion, {});
    const asDate = (v: unknown) => new Date(typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : (v as string | number | Date));
    for (const r of revisions) {
      const version = versionAt(
        versions.filter((v) => v.agreement.id === r.agreement_id),
        r.month,
      ) as AgreementVersion;
      expect(asDate(r.due).toISOString()).toBe(acceptanceDue(version.calendar, asDate(r.submitted_at), 5).toISOString());
    }
  });

  it('upgrades a database written before the score ledger: the migration builds the ledger from its facts', async () => {
    const { orm, q, run } = await demoDatabase();
    // Before the score ledger, so before the later migrations of its tables too (bi_facts: credit
    // entries' recorded_at, their tombstones, the export links' key).
    for (const table of ['month_reopening', 'credit_entry', 'month_close', 'ledger_state', 'ledger_objective', 'ledger_month', 'credit_tombstone', 'export_link_secret'])
      await run(`drop table ${q(table)}`);
    await run(`delete from ${q('mikro_orm_migrations')} where ${q('name')} like '%score_ledger%' or ${q('name')} like '%bi_facts%'`);

    expect(await migrateUp(orm)).toEqual(
      migrationsFor(engine)
        .map((m) => m.name)
        .filter((n) => /score_ledger|bi_facts/.test(n)),
    );
    expect((await orm.schema.getUpdateSchemaSQL({ wrap: false })).trim()).toBe('');
    const count = async (table: string) => Number(((await run(`select count(*) as n from ${q(table)}`)) as Array<{ n: number | string }>)[0].n);
    // The demo's measured agreement-months, its acknowledged months closed with their credit posted.
    expect(await count('ledger_month')).toBeGreaterThan(50);
    expect(await count('month_close')).toBeGreaterThan(20);
    expect(await count('credit_entry')).toBe(await count('month_close'));
    const check = await compareWithRebuild(orm.em.fork(), new Date());
    expect(check.differences).toEqual([]);
    expect(check.rows).toBeGreaterThan(100);
  });

  it('upgrades a database where FRICTION_REPORT_DELIVERED was typed: the metric becomes AUTOMATED and its open ledger months are re-scored', async () => {
    const { orm, q, run } = await demoDatabase();
    await run(`update ${q('metric')} set ${q('source')} = 'MANUAL' where ${q('code')} = 'FRICTION_REPORT_DELIVERED'`);
    await run(`delete from ${q('mikro_orm_migrations')} where ${q('name')} like '%friction_report_automated%'`);
    const no = engine === 'postgresql' ? 'false' : '0';
    const frictionMonths = `from ${q('ledger_month')} m where m.${q('closed')} = ${no} and exists (select 1 from ${q('ledger_objective')} o where o.${q('agreement_id')} = m.${q('agreement_id')} and o.${q('month')} = m.${q('month')} and o.${q('metric_code')} = 'FRICTION_REPORT_DELIVERED')`;
    const count = async (where = '') => Number(((await run(`select count(*) as n ${frictionMonths}${where}`)) as Array<{ n: number | string }>)[0].n);
    const stale = ` and m.${q('valid_until')} <= ${engine === 'postgresql' ? "timestamptz '1970-01-01T00:00:00Z'" : '0'}`;
    const open = await count();
    expect(open).toBeGreaterThan(0);
    expect(await count(stale)).toBe(0);

    expect(await migrateUp(orm)).toEqual(
      migrationsFor(engine)
        .map((m) => m.name)
        .filter((n) => /friction_report_automated/.test(n)),
    );
    const [metric] = (await run(`select ${q('source')} as source from ${q('metric')} where ${q('code')} = 'FRICTION_REPORT_DELIVERED'`)) as Array<{ source: string }>;
    expect(metric.source).toBe('AUTOMATED');
    // Every open month that measures it is stale, so the scheduler's next tick re-scores it; then the ledger equals a rebuild.
    expect(await count(stale)).toBe(open);
    const now = new Date();
    await orm.em.fork().transactional((tx) => advanceLedger(tx, now));
    expect(await count(stale)).toBe(0);
    expect((await compareWithRebuild(orm.em.fork(), now)).differences).toEqual([]);
  });

  it('keeps the two engines in step: the same migrations, by name', () => {
    expect(migrationsFor('sqlite').map((m) => m.name)).toEqual(migrationsFor('postgresql').map((m) => m.name));
  });
});
