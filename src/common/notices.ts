import { Entity, type EntityManager, PrimaryKey, Property } from '@mikro-orm/core';
import { sqlOf } from './sql';

/**
 * A time-driven notice the scheduler has given (`report.overdue|<agreement>|<month>`, …): its key
 * is taken once, so a notice fires exactly once however many ticks or instances see it due.
 */
@Entity({ tableName: 'fired_notice' })
export class FiredNotice {
  @PrimaryKey({ type: 'string', length: 200 })
  key!: string;

  @Property({ type: 'Date' })
  firedAt!: Date;
}

/**
 * Takes the keys not taken before, in `em`'s transaction, and returns them: the notices to give now.
 * One statement per 500 keys; a key taken by a transaction that rolls back is free again.
 */
export async function takeNotices(em: EntityManager, keys: readonly string[], now: Date): Promise<Set<string>> {
  const sql = sqlOf(em);
  const taken = new Set<string>();
  for (let i = 0; i < keys.length; i += 500) {
    const batch = keys.slice(i, i + 500);
    const rows = await sql.rows<{ key: string }>(
      `insert into "fired_notice" ("key", "fired_at") values ${batch.map(() => '(?, ?)').join(', ')} on conflict ("key") do nothing returning "key"`,
      batch.flatMap((key) => [key, sql.date(now)]),
    );
    for (const r of rows) taken.add(r.key);
  }
  return taken;
}
