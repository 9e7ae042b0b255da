/* One agreement: tier, parties, terms in force, each objective against target and warning over
 * months, the status strip of months, reports, exclusions, amendments and credits. */
import { gql } from '../api';
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
    reports: Array<{
      id: string;
      month: string;
      status: string;
      revisionCount: number;
      late: boolean | null;
      latestRevision: { number: number; narrative: string; submittedAt: string; disputeReason: string | null } | null;
    }>;
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
    reports { id month status revisionCount late latestRevision { number narrative submittedAt disputeReason } }
    exclusions { id month status reasonCode explanation metric { code } }
    amendments { id status effectiveMonth reason objectiveChanges { __typename } }
    ${cards}
  }
}`;
}

function party(p: Party | null): HTMLElement | string {
  return p ? link(`/departments/${encodeURIComponent(p.code)}`, p.name) : '–';
}

/** Renders the agreement `key` over the twelve months ending `to`. */
export async function agreementView(main: HTMLElement, key: string, to: string): Promise<void> {
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
                h('td', {}, r.latestRevision?.narrative ?? '', r.latestRevision?.disputeReason ? h('div', { class: 'note' }, `Disputed: ${r.latestRevision.disputeReason}`) : null),
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
