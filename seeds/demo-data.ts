import { Role } from '../src/common/role';
import { MeasurementAggregation, MetricDirection, MetricFeed, MetricSource, MetricUnit } from '../src/modules/catalog/metric.entity';

/** The demo company of DESIGN §9: departments (parent by code), in creation order. */
export const DEMO_DEPARTMENTS: Array<{ code: string; name: string; parent: string | null }> = [
  { code: 'EXEC', name: 'Executive', parent: null },
  { code: 'MKT', name: 'Marketing', parent: 'EXEC' },
  { code: 'SALES', name: 'Sales', parent: 'EXEC' },
  { code: 'CS', name: 'Customer Service', parent: 'EXEC' },
  { code: 'IT', name: 'IT', parent: 'EXEC' },
  { code: 'FIN', name: 'Finance', parent: 'EXEC' },
  { code: 'HR', name: 'HR', parent: 'EXEC' },
];

/** Each department's service catalog. */
export const DEMO_SERVICES: Array<{ code: string; name: string; provider: string; description: string }> = [
  { code: 'LEAD-GEN', name: 'Lead generation', provider: 'MKT', description: 'Qualified leads passed to Sales, with campaign context.' },
  { code: 'CUSTOMER-HANDOVER', name: 'Customer handover', provider: 'SALES', description: 'Closed customers handed to Customer Service with a complete account record.' },
  { code: 'FRICTION-REPORT', name: 'Customer friction report', provider: 'CS', description: 'Monthly report of what customers stumbled over, for Sales and Marketing.' },
  { code: 'CRM', name: 'CRM platform', provider: 'IT', description: 'The CRM used by Sales and Marketing: availability, incidents, changes.' },
  { code: 'MARTECH', name: 'Marketing technology', provider: 'IT', description: 'Marketing automation and web analytics tools.' },
  { code: 'IT-HELPDESK', name: 'IT helpdesk', provider: 'IT', description: 'Tickets for laptops, accounts and access.' },
  { code: 'DEAL-DESK', name: 'Deal desk and commissions', provider: 'FIN', description: 'Pricing approvals and monthly commission statements for Sales.' },
  { code: 'RECRUITING', name: 'Recruiting', provider: 'HR', description: 'Hiring for open positions.' },
];

/** The metric catalog: what the demo agreements measure. */
export const DEMO_METRICS: Array<{
  code: string;
  name: string;
  unit: MetricUnit;
  direction: MetricDirection;
  source: MetricSource;
  feed?: MetricFeed;
  aggregation?: MeasurementAggregation;
  description: string;
  collectsFrictionItems?: boolean;
}> = [
  {
    code: 'HANDOFF_VOLUME',
    name: 'Items handed off',
    unit: MetricUnit.COUNT,
    direction: MetricDirection.HIGHER_IS_BETTER,
    source: MetricSource.AUTOMATED,
    feed: MetricFeed.HANDOFF_VOLUME,
    description: 'Handoff events in the month the customer has not rejected (accepted or still undecided), e.g. qualified leads passed to Sales.',
  },
  {
    code: 'HANDOFF_ACCEPTANCE_RATE',
    name: 'Handoffs accepted',
    unit: MetricUnit.PERCENT,
    direction: MetricDirection.HIGHER_IS_BETTER,
    source: MetricSource.AUTOMATED,
    feed: MetricFeed.HANDOFF_ACCEPTANCE_RATE,
    description: 'Share of handed-off items the receiving department accepted.',
  },
  {
    code: 'HANDOFF_RESPONSE_MEDIAN',
    name: 'Median handoff response time',
    unit: MetricUnit.HOURS,
    direction: MetricDirection.LOWER_IS_BETTER,
    source: MetricSource.AUTOMATED,
    feed: MetricFeed.HANDOFF_RESPONSE_MEDIAN,
    description: 'Median working hours from handoff to first response.',
  },
  {
    code: 'HANDOFF_RESPONSE_P90',
    name: '90th percentile handoff response time',
    unit: MetricUnit.HOURS,
    direction: MetricDirection.LOWER_IS_BETTER,
    source: MetricSource.AUTOMATED,
    feed: MetricFeed.HANDOFF_RESPONSE_P90,
    description: '90th percentile of working hours from handoff to first response.',
  },
  {
    code: 'HANDOFF_CONVERSION_RATE',
    name: 'Handoffs converted',
    unit: MetricUnit.PERCENT,
    direction: MetricDirection.HIGHER_IS_BETTER,
    source: MetricSource.AUTOMATED,
    feed: MetricFeed.HANDOFF_CONVERSION_RATE,
    description: 'Share of handed-off items that converted (lead to opportunity, deal to customer).',
  },
  {
    code: 'HANDOFF_QUALITY',
    name: 'Handoff quality score',
    unit: MetricUnit.SCORE,
    direction: MetricDirection.HIGHER_IS_BETTER,
    source: MetricSource.AUTOMATED,
    feed: MetricFeed.HANDOFF_QUALITY,
    description: 'Mean quality score (0–100) given by the receiving department.',
  },
  {
    code: 'ESCALATION_RESPONSE_ON_TIME',
    name: 'Escalations answered on time',
    unit: MetricUnit.PERCENT,
    direction: MetricDirection.HIGHER_IS_BETTER,
    source: MetricSource.AUTOMATED,
    feed: MetricFeed.ESCALATION_RESPONSE_ON_TIME,
    description: 'Share of escalations with a first response within the policy target.',
  },
  {
    code: 'ESCALATION_RESPONSE_P90',
    name: '90th percentile escalation response time',
    unit: MetricUnit.HOURS,
    direction: MetricDirection.LOWER_IS_BETTER,
    source: MetricSource.AUTOMATED,
    feed: MetricFeed.ESCALATION_RESPONSE_P90,
    description: 'Working hours to first response, 90th percentile.',
  },
  {
    code: 'ESCALATION_MTTR',
    name: 'Mean time to resolve escalations',
    unit: MetricUnit.HOURS,
    direction: MetricDirection.LOWER_IS_BETTER,
    source: MetricSource.AUTOMATED,
    feed: MetricFeed.ESCALATION_MTTR,
    description: 'Mean working hours from opening to resolution.',
  },
  {
    code: 'REPORT_DAYS_LATE',
    name: 'Report days late',
    unit: MetricUnit.DAYS,
    direction: MetricDirection.LOWER_IS_BETTER,
    source: MetricSource.AUTOMATED,
    feed: MetricFeed.REPORT_DAYS_LATE,
    description: 'Working days after the due date that the monthly report was first submitted.',
  },
  {
    code: 'SYSTEM_AVAILABILITY',
    name: 'System availability',
    unit: MetricUnit.PERCENT,
    direction: MetricDirection.HIGHER_IS_BETTER,
    source: MetricSource.AUTOMATED,
    feed: MetricFeed.EXTERNAL,
    aggregation: MeasurementAggregation.TIME_WEIGHTED,
    description: 'Share of the measured time the system was up, from the monitoring’s up (100) and down (0) intervals (recordMeasurements), weighted by duration.',
  },
  {
    code: 'MTTR',
    name: 'Mean time to restore',
    unit: MetricUnit.HOURS,
    direction: MetricDirection.LOWER_IS_BETTER,
    source: MetricSource.MANUAL,
    description: 'Mean hours from an outage starting to service restored.',
  },
  {
    code: 'HANDOVER_DAYS',
    name: 'Customer handover time',
    unit: MetricUnit.DAYS,
    direction: MetricDirection.LOWER_IS_BETTER,
    source: MetricSource.MANUAL,
    description: 'Working days from deal closed to the customer handed to Customer Service.',
  },
  {
    code: 'FRICTION_REPORT_DELIVERED',
    name: 'Friction report delivered',
    unit: MetricUnit.BOOLEAN,
    direction: MetricDirection.HIGHER_IS_BETTER,
    source: MetricSource.AUTOMATED,
    feed: MetricFeed.FRICTION_REPORT_DELIVERED,
    description: 'Whether the monthly customer friction report was delivered with its items by the due date (1) or not (0); computed from the reports.',
    collectsFrictionItems: true,
  },
  {
    code: 'QUALIFIED_LEADS',
    name: 'Qualified leads',
    unit: MetricUnit.COUNT,
    direction: MetricDirection.HIGHER_IS_BETTER,
    source: MetricSource.MANUAL,
    description: 'Marketing-qualified leads delivered in the month, as reported.',
  },
  {
    code: 'STATEMENT_ACCURACY',
    name: 'Commission statement accuracy',
    unit: MetricUnit.PERCENT,
    direction: MetricDirection.HIGHER_IS_BETTER,
    source: MetricSource.MANUAL,
    description: 'Share of commission statements issued without a correction.',
  },
  {
    code: 'TICKET_FIRST_RESPONSE',
    name: 'Ticket first response time',
    unit: MetricUnit.HOURS,
    direction: MetricDirection.LOWER_IS_BETTER,
    source: MetricSource.MANUAL,
    description: 'Mean working hours to the first response on a helpdesk ticket.',
  },
];

/** Demo principals: an admin, a head per department, an analyst, and the CRM's integration user. */
export const DEMO_USERS: Array<{ key: string; name: string; email: string; role: Role; department: string | null }> = [
  { key: 'ADMIN', name: 'Ada Admin', email: 'admin@demo.example', role: Role.ADMIN, department: null },
  ...DEMO_DEPARTMENTS.map((d) => ({ key: `HEAD_${d.code}`, name: `Head of ${d.name}`, email: `head.${d.code.toLowerCase()}@demo.example`, role: Role.HEAD, department: d.code })),
  { key: 'ANALYST', name: 'Ann Analyst', email: 'analyst@demo.example', role: Role.ANALYST, department: null },
  { key: 'INTEGRATION_CRM', name: 'CRM integration', email: 'crm@demo.example', role: Role.INTEGRATION, department: 'SALES' },
];
