/* The organisation at a glance: score, compliance, credits, the twelve-month trend, tiers, the
 * departments × months heat map, and what is at risk or overdue. */
import { gql } from '../api';
import { lineChart } from '../chart';
import { badge, h, link, num, pct, replace } from '../dom';
import { onEvents } from '../live';
import { addMonths, monthLabel, monthOf, monthsBetween } from '../months';

interface MonthScore {
  month: string;
  score: number | null;
  status: string | null;
  creditAmount: number;
}
interface ScoreData {
  organisationScorecard: {
    score: number | null;
    agreementMonths: number;
    creditAmount: number;
    provisionalCreditAmount: number;
    disputedMonths: number;
    compliance: { met: number; breaches: number; evaluated: number; rate: number | null };
    trend: { direction: string | null };
    series: MonthScore[];
    byTier: Array<{ tier: string; score: number | null; creditAmount: number; compliance: { rate: number | null } }>;
  };
}
interface HeatData {
  departments: { totalCount: number; edges: Array<{ node: { code: string; name: string; scorecard: { series: MonthScore[] } } }> };
}
interface RiskData {
  atRisk: Array<{
    month: string;
    agreement: { key: string; title: string };
    objective: { status: string; value: number | null; target: number; metric: { code: string; name: string; unit: string } };
  }>;
}
interface OverdueData {
  overdueReports: Array<{ month: string; dueDate: string; workingDaysOverdue: number; agreement: { key: string; title: string; provider: { code: string } | null } }>;
}

// Four requests, not one: the score and its chart come first (one ledger read), then each slower
// list fills its section when it arrives, so the first chart does not wait for the slowest list.
const SCORE = `query DashboardOrganisation($from: Month!, $to: Month!) {
  organisationScorecard(from: $from, to: $to) {
    score agreementMonths creditAmount provisionalCreditAmount disputedMonths
    compliance { met breaches evaluated rate }
    trend { direction }
    series { month score status creditAmount }
    byTier { tier score creditAmount compliance { rate } }
  }
}`;
const HEAT = `query DashboardHeatMap($from: Month!, $to: Month!) {
  departments(first: 100) { totalCount edges { node { code name scorecard(as: PROVIDER, from: $from, to: $to) { series { month score status creditAmount } } } } }
}`;
const RISK = `query DashboardAtRisk($month: Month!) { atRisk(month: $month) { month agreement { key title } objective { status value target metric { code name unit } } } }`;
const OVERDUE = `query DashboardOverdue($from: Month!) { overdueReports(from: $from) { month dueDate workingDaysOverdue agreement { key title provider { code } } } }`;

/** Items of each list drawn at most (the heat map: the first 100 departments). */
const LIST_ITEMS = 50;

function tile(label: string, value: string, note?: string): HTMLElement {
  return h('div', { class: 'tile' }, h('div', { class: 'tile-label' }, label), h('div', { class: 'tile-value' }, value), note ? h('div', { class: 'tile-note' }, note) : null);
}

/** The heat map: one row per department, one cell per month, coloured by status, showing the score. */
function heatMap(months: string[], rows: HeatData['departments']['edges']): HTMLElement {
  return h(
    'table',
    { class: 'heat', id: 'heat-map' },
    h('caption', {}, 'Provider score by department and month'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Department'),
        months.map((m) => h('th', { scope: 'col' }, monthLabel(m))),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map(({ node }) => {
        const byMonth = new Map(node.scorecard.series.map((s) => [s.month, s]));
        return h(
          'tr',
          {},
          h('th', { scope: 'row' }, link(`/departments/${encodeURIComponent(node.code)}`, node.name)),
          months.map((m) => {
            const s = byMonth.get(m);
            return h('td', { class: `st-${(s?.status ?? 'none').toLowerCase()}`, title: s?.status ?? 'not measured', 'data-month': m, 'data-score': s?.score ?? '' }, s ? num(s.score, 0) : '');
          }),
        );
      }),
    ),
  );
}

/** A section that says it is loading until `load` fills it (or says what went wrong). */
function later(id: string, title: string, load: () => Promise<Array<Node | string | null>>): HTMLElement {
  const body = h('div', { 'aria-busy': 'true' }, h('p', {}, 'Loading…'));
  const section = h('section', { id }, h('h2', {}, title), body);
  load().then(
    (nodes) => {
      replace(body, ...nodes);
      body.removeAttribute('aria-busy');
      section.setAttribute('data-loaded', 'true');
    },
    (e: Error) => {
      replace(body, h('p', { role: 'alert' }, `Could not load: ${e.message}`));
      body.removeAttribute('aria-busy');
    },
  );
  return section;
}

function more(total: number): HTMLElement | null {
  return total > LIST_ITEMS ? h('p', { class: 'note' }, `and ${total - LIST_ITEMS} more`) : null;
}

/** Wait after a live event before reading the figures again, so a burst of events is one refresh. */
const LIVE_DELAY_MS = 400;

/**
 * Renders the organisation view for the twelve months ending `to` into `main`, and keeps it up to
 * date: any domain event the principal may read (a report submitted, a decision, a month closed)
 * reads the figures again and redraws the view in place, once every list has arrived (so the page
 * does not flash "Loading…" nor lose its scroll position).
 */
export async function orgView(main: HTMLElement, to: string): Promise<void> {
  const from = addMonths(to, -11);
  // At risk: the last month that has ended (the running month has no values to judge yet).
  const riskMonth = to >= monthOf(new Date()) ? addMonths(to, -1) : to;
  // The score first, alone: on one server (and SQLite's one connection) the slower lists, asked at
  // the same time, would delay it. They are asked once it is here and fill their sections after.
  const read = async () => {
    const { organisationScorecard: org } = await gql<ScoreData>(SCORE, { from, to });
    return { org, heat: gql<HeatData>(HEAT, { from, to }), risk: gql<RiskData>(RISK, { month: riskMonth }), overdue: gql<OverdueData>(OVERDUE, { from }) };
  };
  draw(main, to, riskMonth, await read());
  main.removeAttribute('data-live-updates');
  const href = location.href;
  let updates = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<void> | null = null;
  // Refreshes run one at a time, and the next starts no sooner after the last ended than the last
  // took: on the large data set (lists of 10–17 s) a stream of events costs the server at most
  // half its time for this page, and the demo's (well under a second) follows almost at once.
  let allowedAt = 0;
  const refresh = async () => {
    const wait = allowedAt - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // Events from here on are read by this refresh or schedule the next.
    timer = null;
    const started = Date.now();
    try {
      const data = await read();
      await Promise.all([data.heat, data.risk, data.overdue]);
      // The reader may have gone to another page meanwhile: draw only over this one.
      if (location.href !== href) return;
      draw(main, to, riskMonth, data);
      main.setAttribute('data-live-updates', String(++updates));
    } finally {
      allowedAt = Date.now() + (Date.now() - started);
    }
  };
  onEvents(() => {
    if (timer) return;
    timer = setTimeout(() => {
      running = (running ?? Promise.resolve()).then(refresh).catch(() => undefined);
    }, LIVE_DELAY_MS);
  });
}

function draw(
  main: HTMLElement,
  to: string,
  riskMonth: string,
  data: { org: ScoreData['organisationScorecard']; heat: Promise<HeatData>; risk: Promise<RiskData>; overdue: Promise<OverdueData> },
): void {
  const { org, heat, risk, overdue } = data;
  const from = addMonths(to, -11);
  const months = monthsBetween(from, to);
  const byMonth = new Map(org.series.map((s) => [s.month, s]));
  replace(
    main,
    h('h1', {}, 'Organisation'),
    h('p', { class: 'lede' }, `${monthLabel(from)} – ${monthLabel(to)}, ${org.agreementMonths} agreement-months measured`),
    h(
      'section',
      { class: 'tiles', 'aria-label': 'Key figures' },
      tile('Score', num(org.score), org.trend.direction ? `trend ${org.trend.direction.toLowerCase()}` : undefined),
      tile('Compliance', pct(org.compliance.rate), `${org.compliance.met} met of ${org.compliance.evaluated}, ${org.compliance.breaches} breaches`),
      tile('Credits', num(org.creditAmount, 2), org.provisionalCreditAmount ? `${num(org.provisionalCreditAmount, 2)} provisional` : undefined),
      tile('Disputed months', String(org.disputedMonths)),
    ),
    lineChart({
      id: 'org-trend',
      title: 'Organisation score, twelve months',
      months,
      yLabel: 'score',
      series: [{ label: 'score', stroke: '#1f5fa8', values: months.map((m) => byMonth.get(m)?.score ?? null) }],
    }),
    h(
      'section',
      {},
      h('h2', {}, 'By tier'),
      h(
        'table',
        { class: 'list' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Tier'), h('th', { scope: 'col' }, 'Score'), h('th', { scope: 'col' }, 'Compliance'), h('th', { scope: 'col' }, 'Credits'))),
        h(
          'tbody',
          {},
          org.byTier.map((t) => h('tr', {}, h('td', {}, t.tier), h('td', {}, num(t.score)), h('td', {}, pct(t.compliance.rate)), h('td', {}, num(t.creditAmount, 2)))),
        ),
      ),
    ),
    later('departments', 'Departments', async () => {
      const { departments } = await heat;
      return [
        h('div', { class: 'scroll' }, heatMap(months, departments.edges)),
        departments.totalCount > departments.edges.length ? h('p', { class: 'note' }, `The first ${departments.edges.length} of ${departments.totalCount} departments, by code.`) : null,
      ];
    }),
    later('at-risk', `At risk or breached in ${monthLabel(riskMonth)}`, async () => {
      const { atRisk } = await risk;
      if (!atRisk.length) return [h('p', {}, 'Nothing at risk.')];
      return [
        h(
          'ul',
          { class: 'items' },
          atRisk
            .slice(0, LIST_ITEMS)
            .map((r) =>
              h(
                'li',
                {},
                badge(r.objective.status),
                ' ',
                link(`/agreements/${encodeURIComponent(r.agreement.key)}`, r.agreement.key),
                ` ${r.objective.metric.name}: ${num(r.objective.value, 2)} against ${num(r.objective.target, 2)}`,
              ),
            ),
        ),
        more(atRisk.length),
      ];
    }),
    later('overdue', 'Overdue reports', async () => {
      const { overdueReports } = await overdue;
      if (!overdueReports.length) return [h('p', {}, 'No report is overdue.')];
      return [
        h(
          'ul',
          { class: 'items' },
          overdueReports
            .slice(0, LIST_ITEMS)
            .map((o) =>
              h(
                'li',
                {},
                link(`/agreements/${encodeURIComponent(o.agreement.key)}?month=${o.month}`, `${o.agreement.key} ${monthLabel(o.month)}`),
                ` due ${o.dueDate}, ${o.workingDaysOverdue} working days overdue`,
              ),
            ),
        ),
        more(overdueReports.length),
      ];
    }),
  );
}
