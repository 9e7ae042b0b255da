/* One department: what it provides and receives with their statuses, its provider score over
 * months, its credit ledger, and (for its own people) its inbox and action items. */
import { gql, type UserError } from '../api';
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
interface InboxNode {
  id: string;
  summary: string;
  occurredAt: string;
  read: boolean;
}
interface MineData {
  actionItems: Array<{ kind: string; title: string; agreementKey: string; month: string | null; overdue: boolean; deadline: string | null }>;
  inbox: { unreadCount: number; edges: Array<{ node: InboxNode }> };
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

const MARK_READ = `mutation DashboardMarkRead($ids: [ID!]!) { markInboxRead(ids: $ids) { unreadCount userErrors { field code message } } }`;
const MARK_ALL_READ = `mutation DashboardMarkAllRead($upTo: ID) { markAllInboxRead(upTo: $upTo) { unreadCount userErrors { field code message } } }`;

/**
 * The principal's inbox: newest first, each unread item with its "Mark read" button, a "Mark all
 * read" for everything shown (up to the newest item listed, so an event that arrives meanwhile
 * stays unread), and the unread count the API answers after each change. `add` puts a live event
 * on top.
 */
function inboxList(unread: number, items: InboxNode[]): { section: HTMLElement[]; add: (n: InboxNode) => void } {
  let count = unread;
  const counter = h('span', { id: 'inbox-unread', 'aria-live': 'polite' });
  const error = h('p', { class: 'field-error', role: 'alert' });
  const list = h('ul', { class: 'items', id: 'inbox' });
  const setCount = (n: number) => {
    count = n;
    counter.textContent = `${n} unread`;
    all.disabled = n === 0;
  };
  const send = async (query: string, variables: Record<string, unknown>): Promise<boolean> => {
    error.textContent = '';
    try {
      const data = await gql<Record<string, { unreadCount: number | null; userErrors: UserError[] }>>(query, variables);
      const r = Object.values(data)[0];
      if (r.userErrors.length) error.textContent = r.userErrors.map((u) => u.message).join(' ');
      else setCount(r.unreadCount ?? 0);
      return !r.userErrors.length;
    } catch (e) {
      error.textContent = (e as Error).message;
      return false;
    }
  };
  const markRead = (li: HTMLElement) => {
    li.classList.replace('unread', 'read');
    li.querySelector('button.mark-read')?.remove();
  };
  const item = (n: InboxNode): HTMLElement => {
    const li = h('li', { class: n.read ? 'read' : 'unread', 'data-id': n.id }, h('time', { datetime: n.occurredAt }, n.occurredAt.slice(0, 16).replace('T', ' ')), ' ', n.summary);
    if (!n.read) {
      li.append(
        ' ',
        h(
          'button',
          {
            type: 'button',
            class: 'mark-read link-button',
            'aria-label': `Mark read: ${n.summary}`,
            onclick: async () => {
              if (await send(MARK_READ, { ids: [n.id] })) markRead(li);
            },
          },
          'Mark read',
        ),
      );
    }
    return li;
  };
  const all: HTMLButtonElement = h(
    'button',
    {
      type: 'button',
      id: 'mark-all-read',
      onclick: async () => {
        const newest = list.querySelector('li[data-id]')?.getAttribute('data-id');
        if (newest && (await send(MARK_ALL_READ, { upTo: newest }))) list.querySelectorAll<HTMLElement>('li.unread').forEach(markRead);
      },
    },
    'Mark all read',
  );
  list.append(...items.map(item));
  setCount(count);
  return {
    section: [h('div', { class: 'inbox-head' }, h('h2', {}, 'Inbox'), counter, all), error, list],
    add: (n) => {
      list.prepend(item(n));
      setCount(count + 1);
    },
  };
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
      ? gql<MineData>(`query DashboardMine { actionItems { kind title agreementKey month overdue deadline } inbox(first: 20) { unreadCount edges { node { id summary occurredAt read } } } }`)
      : Promise.resolve(null),
  ]);
  const inbox = mine
    ? inboxList(
        mine.inbox.unreadCount,
        mine.inbox.edges.map((e) => e.node),
      )
    : null;
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
          inbox?.section,
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
  if (inbox) onEvents((e) => inbox.add({ id: e.id, summary: e.summary, occurredAt: e.occurredAt, read: false }));
}
