import { describe, expect, it } from 'vitest';
import { objectiveNews } from '../../src/scoring/ledger';
import { OBJECTIVE_STATUSES, type ObjectiveStatus } from '../../src/scoring/types';

// Every move of an objective-month's status, and what people hear of it (objective.* events).
// Rows: the status before (null: none stored); columns, the status after, in OBJECTIVE_STATUSES order.
const AFTER = OBJECTIVE_STATUSES; // BREACHED, NO_DATA, AT_RISK, MET, PENDING, EXCUSED
const _ = null;
const TABLE: Array<[ObjectiveStatus | null, Array<'AT_RISK' | 'BREACHED' | 'RECOVERED' | null>]> = [
  [null, ['BREACHED', _, 'AT_RISK', _, _, _]],
  ['BREACHED', [_, _, 'AT_RISK', 'RECOVERED', _, 'RECOVERED']],
  ['NO_DATA', ['BREACHED', _, 'AT_RISK', _, _, _]],
  ['AT_RISK', ['BREACHED', _, _, 'RECOVERED', _, 'RECOVERED']],
  ['MET', ['BREACHED', _, 'AT_RISK', _, _, _]],
  ['PENDING', ['BREACHED', _, 'AT_RISK', _, _, _]],
  ['EXCUSED', ['BREACHED', _, 'AT_RISK', _, _, _]],
];

describe('the news of an objective-month’s status moving', () => {
  const cells = TABLE.flatMap(([before, row]) => AFTER.map((after, i) => [before, after, row[i]] as const));
  it.each(cells)('%s → %s: %s', (before, after, expected) => {
    expect(objectiveNews(before, after)).toBe(expected);
  });
});
