import { groupBy } from '../../common/collections';
import type { EntityManager } from '@mikro-orm/core';
import { compareMonths, type Month } from '../../common/month';
import { Agreement, AgreementStatus, AgreementVersion, Objective } from './agreement.entity';
import { type ChainLevel, type ChainObjective, type TightenViolation, tightenViolations } from './inheritance';

/** A violation and the first month it would hold in. */
export interface DatedViolation extends TightenViolation {
  month: Month;
}

/**
 * Tighten-only (DESIGN §3) for a change to one agreement, in every month it could matter: the
 * agreement's new objectives, from `fromMonth` on, against its ancestors', and every live
 * descendant's against them. Terms change only where a version begins, so the months checked are
 * `fromMonth` and each later first month of a version anywhere in the tree. Returns each
 * violation once, with the first month it appears.
 */
export async function tightenAcrossMonths(
  em: EntityManager,
  subject: { id: string | null; key: string; parentId: string | null },
  proposed: ChainObjective[],
  fromMonth: Month,
): Promise<DatedViolation[]> {
  // The tree around the subject: ancestors up, live descendants down.
  const ancestors: Agreement[] = [];
  for (let id = subject.parentId; id;) {
    const a: Agreement | null = await em.findOne(Agreement, id);
    if (!a) break;
    ancestors.push(a);
    id = a.parent?.id ?? null;
  }
  const descendants: Agreement[] = [];
  const live = { $in: [AgreementStatus.DRAFT, AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED] };
  for (let layer = subject.id ? [subject.id] : []; layer.length;) {
    const below = await em.find(Agreement, { parent: { $in: layer }, state: live }, { orderBy: { key: 'asc' } });
    descendants.push(...below);
    layer = below.map((a) => a.id);
  }
  const involved = [...ancestors, ...descendants];
  const versions = involved.length ? await em.find(AgreementVersion, { agreement: { $in: involved.map((a) => a.id) } }) : [];
  const objectives = versions.length ? await em.find(Objective, { agreementVersion: { $in: versions.map((v) => v.id) } }, { populate: ['metric'], orderBy: { position: 'asc' } }) : [];
  const byVersion = new Map<string, ChainObjective[]>();
  for (const o of objectives) {
    const m = o.metric.getEntity();
    const list = byVersion.get(o.agreementVersion.id) ?? [];
    list.push({ metricId: m.id, metricCode: m.code, direction: m.direction, target: o.target, inheritance: o.inheritance });
    byVersion.set(o.agreementVersion.id, list);
  }
  const versionsOf = groupBy(versions, (v) => v.agreement.id);
  const levelAt = (a: Agreement, month: Month): ChainLevel<ChainObjective> => {
    let best: AgreementVersion | null = null;
    for (const v of versionsOf.get(a.id) ?? []) {
      if (compareMonths(v.effectiveMonth, month) <= 0 && (!best || compareMonths(v.effectiveMonth, best.effectiveMonth) > 0 || (v.effectiveMonth === best.effectiveMonth && v.number > best.number)))
        best = v;
    }
    return { agreementId: a.id, agreementKey: a.key, objectives: best ? (byVersion.get(best.id) ?? []) : [] };
  };
  const months = [...new Set([fromMonth, ...versions.map((v) => v.effectiveMonth).filter((m) => compareMonths(m, fromMonth) > 0)])].sort(compareMonths);
  const own: ChainLevel<ChainObjective> = { agreementId: subject.id ?? '', agreementKey: subject.key, objectives: proposed };
  const parentOf = new Map(involved.map((a) => [a.id, a.parent?.id ?? null]));
  const seen = new Set<string>();
  const out: DatedViolation[] = [];
  const add = (v: TightenViolation, month: Month) => {
    const key = `${v.childKey}|${v.parentKey}|${v.metricCode}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ ...v, month });
  };
  for (const month of months) {
    const up = ancestors.map((a) => levelAt(a, month));
    for (const v of tightenViolations(own, up)) add(v, month);
    for (const d of descendants) {
      // D's chain up to the subject (with the proposed objectives), then the ancestors.
      const chain: ChainLevel<ChainObjective>[] = [];
      for (let id: string | null = d.id; id && id !== subject.id; id = parentOf.get(id) ?? null) {
        const a = descendants.find((x) => x.id === id) as Agreement;
        chain.push(levelAt(a, month));
      }
      for (const v of tightenViolations(chain[0], [...chain.slice(1), own, ...up])) {
        if (v.parentKey === subject.key) add(v, month);
      }
    }
  }
  return out;
}
