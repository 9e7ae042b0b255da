/* One agreement: tier, parties, terms in force, each objective against target and warning over
 * months, the status strip of months, reports, exclusions, amendments and credits. */
import { gql, type UserError } from '../api';
import { lineChart } from '../chart';
import { badge, h, link, num, pct, replace } from '../dom';
import { addMonths, monthLabel, monthsBetween } from '../months';

interface ObjectiveScore {
  objectiveId: string;
  status: string;
  value: number | null;
  target: number;
  warning: number | null;
  source: string;
  metric: { code: string; name: string; unit: string };
}
interface MonthCard {
  month: string;
  status: string | null;
  phase: string | null;
  closedAt: string | null;
  disputed: boolean;
  score: number | null;
  creditAmount: number;
  objectives: ObjectiveScore[];
}
interface Revision {
  number: number;
  narrative: string;
  submittedAt: string;
  acknowledgedAt: string | null;
  deemed: boolean;
  disputedAt: string | null;
  disputeReason: string | null;
}
interface Report {
  id: string;
  month: string;
  status: string;
  revisionCount: number;
  late: boolean | null;
  latestRevision: Revision | null;
  revisions: Revision[];
}
interface Party {
  code: string;
  name: string;
}
interface AgreementData {
  agreement: {
    id: string;
    key: string;
    title: string;
    tier: string;
    status: string;
    provider: Party | null;
    customer: Party | null;
    service: { code: string; name: string } | null;
    parent: { key: string; title: string } | null;
    version: { number: number; effectiveFrom: string; complianceTarget: number; monthlyCharge: number; creditCapPercent: number; reportDueWorkingDays: number; acceptanceWorkingDays: number } | null;
    compliance: {
      score: number | null;
      rate: number | null;
      met: number;
      evaluated: number;
      breaches: number;
      creditAmount: number;
      errorBudget: { allowed: number; remaining: number; breaches: number } | null;
    };
    reports: Report[];
    exclusions: Array<{ id: string; month: string; status: string; reasonCode: string; explanation: string; metric: { code: string } }>;
    amendments: Array<{ id: string; status: string; effectiveMonth: string; reason: string; objectiveChanges: Array<{ __typename: string }> }>;
  } & Record<string, MonthCard>;
}

const CARD = 'month status phase closedAt disputed score creditAmount objectives { objectiveId status value target warning source metric { code name unit } }';

function query(months: string[]): string {
  const cards = months.map((m, i) => `m${i}: scorecard(month: "${m}") { ${CARD} }`).join('\n    ');
  return `query DashboardAgreement($key: String!, $from: Month!, $to: Month!) {
  agreement(key: $key) {
    id key title tier status
    provider { code name } customer { code name } service { code name } parent { key title }
    version(at: $to) { number effectiveFrom complianceTarget monthlyCharge creditCapPercent reportDueWorkingDays acceptanceWorkingDays }
    compliance(from: $from, to: $to) { score rate met evaluated breaches creditAmount errorBudget { allowed remaining breaches } }
    reports { id month status revisionCount late latestRevision { ...Rev } revisions { ...Rev } }
    exclusions { id month status reasonCode explanation metric { code } }
    amendments { id status effectiveMonth reason objectiveChanges { __typename } }
    ${cards}
  }
}
fragment Rev on ReportRevision { number narrative submittedAt acknowledgedAt deemed disputedAt disputeReason }`;
}

function party(p: Party | null): HTMLElement | string {
  return p ? link(`/departments/${encodeURIComponent(p.code)}`, p.name) : '–';
}

const ACKNOWLEDGE = `mutation DashboardAcknowledge($input: ReportDecisionInput!) { acknowledgeReport(input: $input) { userErrors { field code message } report { status } } }`;
const DISPUTE = `mutation DashboardDispute($input: DisputeReportInput!) { disputeReport(input: $input) { userErrors { field code message } report { status } } }`;

/** The customer's verdict on a submitted revision: acknowledge it, or dispute it with a reason (its userErrors beside the reason). */
function decision(r: Report, done: () => void): HTMLElement {
  const revision = r.latestRevision?.number ?? 0;
  const id = `reason-${r.month}`;
  const reason = h('input', { id, type: 'text', 'aria-describedby': `err-${id}` });
  const error = h('p', { class: 'field-error', id: `err-${id}`, role: 'alert' });
  const send = async (kind: 'acknowledge' | 'dispute') => {
    error.textContent = '';
    try {
      const result =
        kind === 'acknowledge'
          ? (await gql<{ acknowledgeReport: { userErrors: UserError[] } }>(ACKNOWLEDGE, { input: { reportId: r.id, revision } })).acknowledgeReport
          : (await gql<{ disputeReport: { userErrors: UserError[] } }>(DISPUTE, { input: { reportId: r.id, revision, reason: reason.value } })).disputeReport;
      if (result.userErrors.length) error.textContent = result.userErrors.map((e) => e.message).join(' ');
      else done();
    } catch (e) {
      error.textContent = (e as Error).message;
    }
  };
  return h(
    'div',
    { class: 'decision', 'data-report-month': r.month },
    h('label', { for: id }, `Dispute reason (revision ${revision})`),
    reason,
    error,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'acknowledge', onclick: () => void send('acknowledge') }, 'Acknowledge'),
      h('button', { type: 'button', class: 'dispute', onclick: () => void send('dispute') }, 'Dispute'),
    ),
  );
}

function revisionList(r: Report): HTMLElement | null {
  if (r.revisions.length < 2 && !r.latestRevision?.disputedAt) return null;
  return h(
    'details',
    {},
    h('summary', {}, `${r.revisions.length} revision${r.revisions.length === 1 ? '' : 's'}`),
    h(
      'ol',
      {},
      [...r.revisions]
        .sort((x, y) => x.number - y.number)
        .map((v) =>
          h(
            'li',
            {},
            `submitted ${v.submittedAt.slice(0, 10)}: ${v.narrative}`,
            v.disputedAt ? ` Disputed ${v.disputedAt.slice(0, 10)}: ${v.disputeReason ?? ''}` : '',
            v.acknowledgedAt ? ` Acknowledged ${v.acknowledgedAt.slice(0, 10)}${v.deemed ? ' (deemed)' : ''}.` : '',
          ),
        ),
    ),
  );
}

/**
 * Renders the agreement `key` over the twelve months ending `to`. The customer's head
 * (`myDepartment`) may acknowledge or dispute submitted reports there.
 */
export async function agreementView(main: HTMLElement, key: string, to: string, myDepartment: string | null = null): Promise<void> {
  const from = addMonths(to, -11);
  const months = monthsBetween(from, to);
  const data = await gql<AgreementData>(query(months), { key, from, to });
  const a = data.agreement;
  const cards = months.map((_m, i) => a[`m${i}`] as MonthCard);
  // One chart per objective (by metric), its value against target and warning, month by month.
  const metrics = new Map<string, { name: string; unit: string; source: string }>();
  for (const c of cards) for (const o of c.objectives) if (!metrics.has(o.metric.code)) metrics.set(o.metric.code, { name: o.metric.name, unit: o.metric.unit, source: o.source });
  const find = (c: MonthCard, code: string) => c.objectives.find((o) => o.metric.code === code);
  const v = a.version;
  replace(
    main,
    h('h1', {}, `${a.key}: ${a.title}`),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Tier'),
      h('dd', {}, a.tier),
      h('dt', {}, 'Status'),
      h('dd', {}, badge(a.status)),
      h('dt', {}, 'Provider'),
      h('dd', {}, party(a.provider)),
      h('dt', {}, 'Customer'),
      h('dd', {}, party(a.customer)),
      a.service ? [h('dt', {}, 'Service'), h('dd', {}, a.service.name)] : null,
      a.parent ? [h('dt', {}, 'Under'), h('dd', {}, link(`/agreements/${encodeURIComponent(a.parent.key)}`, a.parent.title))] : null,
      v
        ? [
            h('dt', {}, 'Version in force'),
            h(
              'dd',
              {},
              `v${v.number} from ${v.effectiveFrom}: compliance target ${pct(v.complianceTarget)}, charge ${num(v.monthlyCharge, 2)}, credit cap ${num(v.creditCapPercent, 0)} %, report due ${v.reportDueWorkingDays} working days after the month`,
            ),
          ]
        : null,
      h('dt', {}, `${monthLabel(from)} – ${monthLabel(to)}`),
      h(
        'dd',
        {},
        `score ${num(a.compliance.score)}, compliance ${pct(a.compliance.rate)} (${a.compliance.met}/${a.compliance.evaluated}), credits ${num(a.compliance.creditAmount, 2)}`,
        a.compliance.errorBudget ? `, error budget ${a.compliance.errorBudget.remaining} of ${a.compliance.errorBudget.allowed} breaches left` : '',
      ),
    ),
    h('p', {}, link(`/agreements/${encodeURIComponent(a.key)}/report?month=${addMonths(to, -1)}`, `Report for ${monthLabel(addMonths(to, -1))}`)),
    h(
      'section',
      {},
      h('h2', {}, 'Months'),
      h(
        'ol',
        { class: 'strip', id: 'status-strip' },
        cards.map((c) =>
          h(
            'li',
            { class: `st-${(c.status ?? 'none').toLowerCase()}`, 'data-month': c.month, 'data-status': c.status ?? '' },
            h('span', { class: 'strip-month' }, monthLabel(c.month)),
            h('span', {}, (c.status ?? '–').replace(/_/g, ' ').toLowerCase()),
            h('span', { class: 'strip-phase' }, [c.phase?.toLowerCase() ?? '', c.closedAt ? ' ✓' : '', c.disputed ? ' disputed' : ''].join('')),
          ),
        ),
      ),
    ),
    h(
      'section',
      { class: 'charts' },
      h('h2', {}, 'Objectives'),
      [...metrics].map(([code, m]) =>
        lineChart({
          id: `objective-${code}`,
          title: `${m.name} (${m.unit.toLowerCase()}, ${m.source.toLowerCase()})`,
          months,
          yLabel: m.unit.toLowerCase(),
          height: 180,
          series: [
            { label: 'value', stroke: '#1f5fa8', values: cards.map((c) => find(c, code)?.value ?? null) },
            { label: 'target', stroke: '#2e7d32', dash: [6, 4], values: cards.map((c) => find(c, code)?.target ?? null) },
            { label: 'warning', stroke: '#b26a00', dash: [2, 4], values: cards.map((c) => find(c, code)?.warning ?? null) },
          ],
        }),
      ),
    ),
    h(
      'section',
      { id: 'reports' },
      h('h2', {}, 'Reports'),
      h(
        'table',
        { class: 'list' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Month', 'Status', 'Revisions', 'Late', 'Narrative'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        h(
          'tbody',
          {},
          [...a.reports]
            .sort((x, y) => y.month.localeCompare(x.month))
            .map((r) =>
              h(
                'tr',
                {},
                h('td', {}, link(`/agreements/${encodeURIComponent(a.key)}/report?month=${r.month}`, r.month)),
                h('td', {}, badge(r.status)),
                h('td', {}, String(r.revisionCount)),
                h('td', {}, r.late ? 'late' : ''),
                h(
                  'td',
                  {},
                  r.latestRevision?.narrative ?? '',
                  r.latestRevision?.disputeReason ? h('div', { class: 'note' }, `Disputed: ${r.latestRevision.disputeReason}`) : null,
                  revisionList(r),
                  r.status === 'SUBMITTED' && myDepartment && a.customer?.code === myDepartment ? decision(r, () => void agreementView(main, key, to, myDepartment)) : null,
                ),
              ),
            ),
        ),
      ),
    ),
    h(
      'section',
      {},
      h('h2', {}, 'Exclusions'),
      a.exclusions.length
        ? h(
            'ul',
            { class: 'items' },
            a.exclusions.map((x) => h('li', {}, badge(x.status), ` ${x.month} ${x.metric.code} (${x.reasonCode.toLowerCase()}): ${x.explanation}`)),
          )
        : h('p', {}, 'None.'),
    ),
    h(
      'section',
      {},
      h('h2', {}, 'Amendments'),
      a.amendments.length
        ? h(
            'ul',
            { class: 'items' },
            a.amendments.map((x) => h('li', {}, badge(x.status), ` from ${x.effectiveMonth}: ${x.reason} (${x.objectiveChanges.length} objective changes)`)),
          )
        : h('p', {}, 'None.'),
    ),
    h(
      'section',
      {},
      h('h2', {}, 'Credits'),
      h(
        'ul',
        { class: 'items' },
        cards.filter((c) => c.creditAmount).map((c) => h('li', {}, `${monthLabel(c.month)}: ${num(c.creditAmount, 2)}${c.closedAt ? '' : ' (provisional)'}`)),
      ),
    ),
  );
}
