/**
 * Tier inheritance (DESIGN §3), as pure functions over plain data: no ORM, no GraphQL.
 * A chain of levels runs from an agreement (level 0) up to its root CORPORATE agreement; each
 * level carries the objectives of its version in force in the month considered.
 */

import type { Direction } from '../../scoring/types';

export type InheritanceMode = 'APPLIES' | 'MINIMUM';

export interface ChainObjective {
  metricId: string;
  metricCode: string;
  direction: Direction;
  target: number;
  inheritance: InheritanceMode;
}

export interface ChainLevel<O extends ChainObjective> {
  agreementId: string;
  agreementKey: string;
  objectives: O[];
}

/** An objective in force for an agreement, and the ancestor it came from (null: its own). */
export interface EffectiveObjective<O extends ChainObjective> {
  objective: O;
  inheritedFrom: string | null;
}

/**
 * The effective objectives of the agreement at level 0: its own objectives that are measured
 * (APPLIES), then each ancestor's APPLIES objectives on metrics no lower level defines. MINIMUM
 * objectives are floors, never measured themselves.
 */
export function effectiveObjectives<O extends ChainObjective>(chain: ChainLevel<O>[]): EffectiveObjective<O>[] {
  const taken = new Set<string>();
  const out: EffectiveObjective<O>[] = [];
  chain.forEach((level, depth) => {
    for (const o of level.objectives) {
      if (taken.has(o.metricId)) continue;
      // A level's own definition of a metric hides the ones above, whatever its mode.
      taken.add(o.metricId);
      if (o.inheritance === 'APPLIES') out.push({ objective: o, inheritedFrom: depth === 0 ? null : level.agreementId });
    }
  });
  return out;
}

/** Whether `child` is looser than `parent` for the metric's direction. */
export function isLooser(direction: Direction, child: number, parent: number): boolean {
  return direction === 'HIGHER_IS_BETTER' ? child < parent : child > parent;
}

export interface TightenViolation {
  metricCode: string;
  childKey: string;
  childTarget: number;
  parentKey: string;
  parentTarget: number;
}

/**
 * Objectives of `child` (any mode) that are looser than an objective of an ancestor on the same
 * metric (APPLIES or MINIMUM): an override or anything under a MINIMUM may only tighten.
 */
export function tightenViolations<O extends ChainObjective>(child: ChainLevel<O>, ancestors: ChainLevel<O>[]): TightenViolation[] {
  const out: TightenViolation[] = [];
  for (const o of child.objectives) {
    for (const level of ancestors) {
      const p = level.objectives.find((x) => x.metricId === o.metricId);
      if (p && isLooser(o.direction, o.target, p.target)) {
        out.push({ metricCode: o.metricCode, childKey: child.agreementKey, childTarget: o.target, parentKey: level.agreementKey, parentTarget: p.target });
      }
    }
  }
  return out;
}

/** The message of a violation: names both agreements, the metric and both targets. */
export function violationMessage(v: TightenViolation): string {
  return `${v.childKey} sets ${v.metricCode} to ${v.childTarget}, looser than ${v.parentTarget} in ${v.parentKey}; an objective may only tighten what it inherits`;
}
