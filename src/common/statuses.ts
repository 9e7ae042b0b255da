import { registerEnumType } from 'type-graphql';

/**
 * The status of an objective-month (DESIGN §4.1) as a GraphQL enum. The pure rules name the same
 * values (`OBJECTIVE_STATUSES` in src/scoring, which imports no GraphQL); it lives here, below the
 * modules, so that every module that shows a status (an exclusion's status when requested, the
 * scorecards, the facts) types it with this one enum.
 */
export enum ObjectiveStatus {
  MET = 'MET',
  AT_RISK = 'AT_RISK',
  BREACHED = 'BREACHED',
  NO_DATA = 'NO_DATA',
  PENDING = 'PENDING',
  EXCUSED = 'EXCUSED',
}
registerEnumType(ObjectiveStatus, {
  name: 'ObjectiveStatus',
  description: 'DESIGN §4.1; for a set, the worst of its objectives (BREACHED, NO_DATA, AT_RISK, MET, then PENDING, EXCUSED).',
  valuesConfig: {
    PENDING: { description: 'No value yet, and the report is not due yet.' },
    NO_DATA: { description: 'No value, and the report is overdue: scored as attainment 0 and a breach.' },
    EXCUSED: { description: 'An APPROVED exclusion covers it: not scored.' },
  },
});
