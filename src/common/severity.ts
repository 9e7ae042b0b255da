import { registerEnumType } from 'type-graphql';

/** How bad a friction item or an escalation is: vocabulary of reports and escalations alike. */
export enum Severity {
  LOW = 'LOW',
  MEDIUM = 'MEDIUM',
  HIGH = 'HIGH',
  CRITICAL = 'CRITICAL',
}
registerEnumType(Severity, { name: 'Severity' });
