import type { EntityManager } from '@mikro-orm/core';
import { Seeder } from '@mikro-orm/seeder';
import { Metric, UNIT_DEFAULTS } from '../src/modules/catalog/metric.entity';
import { Service } from '../src/modules/catalog/service.entity';
import { Department } from '../src/modules/departments/department.entity';
import { DEMO_DEPARTMENTS, DEMO_METRICS, DEMO_SERVICES } from './demo-data';

/**
 * The demo company of DESIGN §9, as far as the catalogs go. Idempotent: rows are matched by
 * code, missing ones are created and existing ones are left as they are (edits survive a re-run).
 */
export class DemoSeeder extends Seeder {
  async run(em: EntityManager): Promise<void> {
    const departments = new Map((await em.find(Department, {})).map((d) => [d.code, d]));
    for (const d of DEMO_DEPARTMENTS) {
      if (departments.has(d.code)) continue;
      const parent = d.parent ? departments.get(d.parent) ?? null : null;
      departments.set(d.code, em.create(Department, { code: d.code, name: d.name, parent }));
      // One flush per department: inserting a self-referencing batch makes MikroORM insert
      // with a null parent and UPDATE it after, which would start every version at 2.
      await em.flush();
    }
    const services = new Set((await em.find(Service, {}, { fields: ['code'] })).map((s) => s.code));
    for (const s of DEMO_SERVICES) {
      if (services.has(s.code)) continue;
      em.create(Service, { code: s.code, name: s.name, description: s.description, provider: departments.get(s.provider) as Department });
    }
    const metrics = new Set((await em.find(Metric, {}, { fields: ['code'] })).map((m) => m.code));
    for (const m of DEMO_METRICS) {
      if (metrics.has(m.code)) continue;
      const defaults = UNIT_DEFAULTS[m.unit];
      const bounds = m.unit === 'SCORE' ? { min: 0, max: 100 } : { min: defaults.min, max: defaults.max };
      em.create(Metric, { ...m, minValue: bounds.min, maxValue: bounds.max, integerOnly: defaults.integer });
    }
    await em.flush();
  }
}

/** Whether a database has no departments yet (then `npm start` seeds the demo company). */
export async function isEmpty(em: EntityManager): Promise<boolean> {
  return (await em.count(Department, {})) === 0;
}
