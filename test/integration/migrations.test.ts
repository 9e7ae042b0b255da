import { afterEach, describe, expect, it } from 'vitest';
import { migrationsFor } from '../../src/db/migrations';
import { migrateUp, openOrm } from '../../src/db/orm';
import { engines, freshDatabase } from '../support/server';

describe.each(engines())('migrations on %s', (engine) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await (cleanups.pop() as () => Promise<void>)();
  });

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

  it('keeps the two engines in step: the same migrations, by name', () => {
    expect(migrationsFor('sqlite').map((m) => m.name)).toEqual(migrationsFor('postgresql').map((m) => m.name));
  });
});
