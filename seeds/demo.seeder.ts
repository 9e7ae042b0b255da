import { rebuildLedger } from '../src/modules/ledger/ledger.service';
import type { EntityManager } from '@mikro-orm/core';
import { Seeder } from '@mikro-orm/seeder';
import { issueToken } from '../src/modules/auth/auth.service';
import { generateToken } from '../src/modules/auth/tokens';
import { User } from '../src/modules/auth/user.entity';
import { Metric, UNIT_DEFAULTS } from '../src/modules/catalog/metric.entity';
import { Service } from '../src/modules/catalog/service.entity';
import { Department } from '../src/modules/departments/department.entity';
import { seedDemoAgreements } from './demo-agreements';
import { seedDemoReports } from './demo-reports';
import { seedDemoHandoffs } from './demo-handoffs';
import { seedDemoMeasurements } from './demo-measurements';
import { seedDemoEvents, seedDemoProposals } from './demo-events';
import { DEMO_DEPARTMENTS, DEMO_METRICS, DEMO_SERVICES, DEMO_USERS } from './demo-data';

/** Secrets of the demo tokens created by one seeding, by principal key (`ADMIN`, `HEAD_MKT`, …). */
export type DemoTokens = Record<string, string>;

/**
 * Seeds the demo company of DESIGN §9 (catalogs, principals, agreements). Idempotent: rows are matched by code (users by e-mail);
 * missing ones are created, existing ones left as they are (edits survive a re-run). With
 * `principals`, demo users get one token each; the secrets of the tokens created now are returned
 * (they are stored only as hashes, so they cannot be printed later).
 */
export async function seedDemo(em: EntityManager, options: { principals: boolean; agreements?: boolean; now?: Date }): Promise<DemoTokens> {
  const departments = new Map((await em.find(Department, {})).map((d) => [d.code, d]));
  for (const d of DEMO_DEPARTMENTS) {
    if (departments.has(d.code)) continue;
    const parent = d.parent ? (departments.get(d.parent) ?? null) : null;
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
    em.create(Metric, { ...m, minValue: bounds.min, maxValue: bounds.max, integerOnly: defaults.integer, collectsFrictionItems: m.collectsFrictionItems ?? false });
  }
  const tokens: DemoTokens = {};
  if (options.principals) {
    const users = new Set((await em.find(User, {}, { fields: ['email'] })).map((u) => u.email));
    for (const u of DEMO_USERS) {
      if (users.has(u.email)) continue;
      const user = em.create(User, { name: u.name, email: u.email, role: u.role, department: u.department ? departments.get(u.department) : null });
      tokens[u.key] = generateToken();
      issueToken(em, user, 'demo token', tokens[u.key], null);
    }
  }
  await em.flush();
  if (options.agreements !== false) {
    await seedDemoAgreements(em, options.now);
    await seedDemoReports(em, options.now);
    await seedDemoHandoffs(em, options.now);
    await seedDemoMeasurements(em, options.now);
    await em.flush();
    // Two pending proposals, and the domain events of that history, so the demo's heads find an
    // inbox and something to decide (docs/notifications.md).
    await seedDemoProposals(em, options.now ?? new Date());
    await seedDemoEvents(em, options.now ?? new Date());
    // The demo's facts were written directly: its score ledger is built from them once.
    await rebuildLedger(em, options.now ?? new Date());
  }
  return tokens;
}

/**
 * {@link seedDemo} in one transaction: the whole demo company or nothing. A crash or an error
 * part-way rolls everything back, so the next run finds the database as it was and seeds it all
 * (`seedDemo` alone, killed half-way, leaves departments without users, users whose token secrets
 * were never shown, or part of the handoff events; its "skip once any exists" checks then never
 * complete them). The handoff ingest's own transactions become savepoints inside this one.
 *
 * `beforeCommit` runs inside the transaction, after the last write, with the secrets of the tokens
 * created: the embedded demo writes its token file there, so a crash can leave a token file whose
 * users were rolled back (the next start seeds again and replaces the file) but never demo users
 * whose secrets are lost.
 */
export async function seedDemoAtomically(em: EntityManager, options: Parameters<typeof seedDemo>[1], beforeCommit?: (tokens: DemoTokens) => void | Promise<void>): Promise<DemoTokens> {
  return em.transactional(async (tem) => {
    const tokens = await seedDemo(tem, options);
    await tem.flush();
    await beforeCommit?.(tokens);
    return tokens;
  });
}

/** MikroORM's seeder entry point (catalogs and principals; the token secrets are not kept). */
export class DemoSeeder extends Seeder {
  async run(em: EntityManager): Promise<void> {
    await seedDemoAtomically(em, { principals: true });
  }
}

/**
 * Whether a database is new: no departments and no users (then `npm start` seeds the demo
 * company). A database where `create-admin` made the first admin is a real installation, not a
 * demo, and never gets demo principals.
 */
export async function isEmpty(em: EntityManager): Promise<boolean> {
  return (await em.count(Department, {})) === 0 && (await em.count(User, {})) === 0;
}
