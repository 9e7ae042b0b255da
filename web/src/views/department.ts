/* One department: what it provides and receives with their statuses, its provider score over
 * months, its credit ledger, and (for its own people) its inbox and action items. */
import { gql } from '../api';
import { lineChart } from '../chart';
import { badge, h, link, num, replace } from '../dom';
import { onEvents } from '../live';
import { addMonths, monthLabel, monthsBetween } from '../months';

interface AgreementRow {
  key: string;
  title: string;
  tier: string;
  status: string;
  provider: { code: string; name: string } | null;
  customer: { code: string; name: string } | null;
  scorecard: { status: string | null; score: number | null };
}
interface DepartmentData {
  department: {
    id: string;
    code: string;
    name: string;
    head: { name: string } | null;
    services: Array<{ code: string; name: string }>;
    providedAgreements: AgreementRow[];
    receivedAgreements: AgreementRow[];
    provider: { score: number | null; series: Array<{ month: string; score: number | null }> };
    customer: { score: number | null; series: Array<{ month: string; score: number | null }> };
  };
}
interface LedgerData {
  creditLedger: { edges: Array<{ node: { id: string; month: string; kind: string; amount: number; delta: number; objectives: string[]; agreement: { key: string } } }> };
}
interface MineData {
  actionItems: Array<{ kind: string; title: string; agreementKey: string; month: string | null; overdue: boolean; deadline: string | null }>;
  inbox: { edges: Array<{ node: { id: string; summary: string; occurredAt: string; read: boolean; agreementKey: string | null } }> };
}

const ROW = 'key title tier status provider { code name } customer { code name } scorecard(month: $month) { status score }';
const QUERY = `query DashboardDepartment($code: String!, $from: Month!, $to: Month!, $month: Month!) {
  department(code: $code) {
    id code name head { name } services { code name }
    providedAgreements { ${ROW} }
    receivedAgreements { ${ROW} }
    provider: scorecard(as: PROVIDER, from: $from, to: $to) { score series { month score } }
    customer: scorecard(as: CUSTOMER, from: $from, to: $to) { score series { month score } }
  }
}`;

function agreements(rows: AgreementRow[], other: 'customer' | 'provider'): HTMLElement {
  if (!rows.length) return h('p', {}, 'None.');
  return h(
    'table',
    { class: 'list' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Agreement', 'Tier', other === 'customer' ? 'Customer' : 'Provider', 'This month', 'Score'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          h('td', {}, link(`/agreements/${encodeURIComponent(r.key)}`, `${r.key}: ${r.title}`)),
          h('td', {}, r.tier),
          h('td', {}, r[other]?.name ?? '–'),
          h('td', {}, badge(r.scorecard.status)),
          h('td', {}, num(r.scorecard.score)),
        ),
      ),
    ),
  );
}

function inboxItem(occurredAt: string, summary: string, read: boolean): HTMLElement {
  return h('li', { class: read ? 'read' : 'unread' }, h('time', { datetime: occurredAt }, occurredAt.slice(0, 16).replace('T', ' ')), ' ', summary);
}

/** Renders department `code` over the twelve months ending `to`; `own` adds the principal's inbox and action items. */
export async function departmentView(main: HTMLElement, code: string, to: string, own: boolean): Promise<void> {
  const from = addMonths(to, -11);
  const months = monthsBetween(from, to);
  const { department: d } = await gql<DepartmentData>(QUERY, { code, from, to, month: to });
  const [ledger, mine] = await Promise.all([
    gql<LedgerData>(
      `query DashboardLedger($id: ID!, $from: Month!) { creditLedger(first: 50, filter: { departmentId: $id, from: $from }) { edges { node { id month kind amount delta objectives agreement { key } } } } }`,
      { id: d.id, from },
    ).catch(() => null),
    own
      ? gql<MineData>(`query DashboardMine { actionItems { kind title agreementKey month overdue deadline } inbox(first: 20) { edges { node { id summary occurredAt read agreementKey } } } }`)
      : Promise.resolve(null),
  ]);
  const series = (s: Array<{ month: string; score: number | null }>) => {
    const m = new Map(s.map((x) => [x.month, x.score]));
    return months.map((x) => m.get(x) ?? null);
  };
  replace(
    main,
    h('h1', {}, d.name),
    h('p', { class: 'lede' }, `${d.code}${d.head ? `, head: ${d.head.name}` : ''}${d.services.length ? `; services: ${d.services.map((s) => s.name).join(', ')}` : ''}`),
    h('p', { class: 'actions' }, h('button', { type: 'button', id: 'print', onclick: () => window.print() }, 'Print')),
    lineChart({
      id: 'department-trend',
      title: `${d.name}: score as provider and as customer`,
      months,
      yLabel: 'score',
      series: [
        { label: 'as provider', stroke: '#1f5fa8', values: series(d.provider.series) },
        { label: 'as customer', stroke: '#7b1fa2', dash: [6, 4], values: series(d.customer.series) },
      ],
    }),
    mine
      ? h(
          'section',
          { id: 'actions' },
          h('h2', {}, 'Awaiting you'),
          mine.actionItems.length
            ? h(
                'ul',
                { class: 'items' },
                mine.actionItems.map((x) =>
                  h('li', {}, x.overdue ? badge('OVERDUE') : null, ' ', link(`/agreements/${encodeURIComponent(x.agreementKey)}${x.month ? `/report?month=${x.month}` : ''}`, x.title)),
                ),
              )
            : h('p', {}, 'Nothing awaits you.'),
          h('h2', {}, 'Inbox'),
          h(
            'ul',
            { class: 'items', id: 'inbox' },
            mine.inbox.edges.map(({ node: n }) => inboxItem(n.occurredAt, n.summary, n.read)),
          ),
        )
      : null,
    h('section', {}, h('h2', {}, `Provides (${monthLabel(to)})`), agreements(d.providedAgreements, 'customer')),
    h('section', {}, h('h2', {}, `Receives (${monthLabel(to)})`), agreements(d.receivedAgreements, 'provider')),
    h(
      'section',
      {},
      h('h2', {}, 'Credit ledger'),
      ledger?.creditLedger.edges.length
        ? h(
            'table',
            { class: 'list' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Month', 'Agreement', 'Kind', 'Amount', 'Change', 'Objectives'].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              {},
              ledger.creditLedger.edges.map(({ node: e }) =>
                h(
                  'tr',
                  {},
                  h('td', {}, e.month),
                  h('td', {}, e.agreement.key),
                  h('td', {}, e.kind.toLowerCase()),
                  h('td', {}, num(e.amount, 2)),
                  h('td', {}, num(e.delta, 2)),
                  h('td', {}, e.objectives.join(', ')),
                ),
              ),
            ),
          )
        : h('p', {}, 'No credits posted.'),
    ),
  );
  // The principal's own inbox grows live: new events arrive over the WebSocket, newest first.
  if (mine) {
    onEvents((e) => {
      const inbox = document.getElementById('inbox');
      inbox?.prepend(inboxItem(e.occurredAt, e.summary, false));
    });
  }
}
