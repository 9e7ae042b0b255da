/* One agreement-month as a printable report: the month's results objective by objective, its
 * credit, the report's narrative and revision, its exclusions; the provider's head may request an
 * exclusion for an objective that missed (not printed). */
import { gql, type UserError } from '../api';
import { badge, h, link, num, pct, replace } from '../dom';
import { monthLabel } from '../months';

interface MonthData {
  agreement: {
    id: string;
    key: string;
    title: string;
    tier: string;
    provider: { code: string; name: string } | null;
    customer: { code: string; name: string } | null;
    scorecard: {
      status: string | null;
      phase: string | null;
      closedAt: string | null;
      disputed: boolean;
      score: number | null;
      creditAmount: number;
      creditPercent: number;
      creditProvisional: boolean;
      dueDate: string | null;
      compliance: { met: number; evaluated: number; rate: number | null };
      objectives: Array<{
        objectiveId: string;
        status: string;
        value: number | null;
        target: number;
        warning: number | null;
        attainment: number | null;
        excused: boolean;
        source: string;
        metric: { code: string; name: string; unit: string };
      }>;
      report: { status: string; late: boolean | null; latestRevision: { number: number; narrative: string; submittedAt: string; disputeReason: string | null } | null } | null;
    };
    exclusions: Array<{ id: string; month: string; status: string; reasonCode: string; explanation: string; metric: { code: string } }>;
  };
}

const QUERY = `query DashboardMonth($key: String!, $month: Month!) {
  agreement(key: $key) {
    id key title tier provider { code name } customer { code name }
    scorecard(month: $month) {
      status phase closedAt disputed score creditAmount creditPercent creditProvisional dueDate
      compliance { met evaluated rate }
      objectives { objectiveId status value target warning attainment excused source metric { code name unit } }
      report { status late latestRevision { number narrative submittedAt disputeReason } }
    }
    exclusions { id month status reasonCode explanation metric { code } }
  }
}`;
const REQUEST = `mutation DashboardRequestExclusion($input: RequestExclusionInput!) { requestExclusion(input: $input) { userErrors { field code message } } }`;
const REASONS = ['PLANNED_MAINTENANCE', 'CUSTOMER_DEPENDENCY', 'FORCE_MAJEURE', 'DATA_ERROR', 'OTHER'];

/** The provider's request to excuse one objective's month: reason and explanation, userErrors beside the field they name. */
function exclusionForm(agreementId: string, month: string, objectives: Array<{ objectiveId: string; metric: { code: string; name: string } }>, done: () => void): HTMLElement {
  const objective = h(
    'select',
    { id: 'exclusion-objective' },
    objectives.map((o) => h('option', { value: o.objectiveId }, o.metric.name)),
  );
  const reason = h(
    'select',
    { id: 'exclusion-reason' },
    REASONS.map((r) => h('option', { value: r }, r.replace(/_/g, ' ').toLowerCase())),
  );
  const explanation = h('textarea', { id: 'exclusion-explanation', rows: 3, 'aria-describedby': 'err-explanation' });
  const errors = { explanation: h('p', { class: 'field-error', id: 'err-explanation' }), other: h('p', { class: 'field-error', role: 'alert' }) };
  const idempotencyKey = crypto.randomUUID();
  return h(
    'form',
    {
      id: 'exclusion-form',
      class: 'no-print',
      novalidate: true,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        errors.explanation.textContent = errors.other.textContent = '';
        try {
          const r = await gql<{ requestExclusion: { userErrors: UserError[] } }>(REQUEST, {
            input: { agreementId, month, objectiveId: objective.value, reasonCode: reason.value, explanation: explanation.value, idempotencyKey },
          });
          for (const u of r.requestExclusion.userErrors) (u.field === 'explanation' ? errors.explanation : errors.other).append(`${u.message} `);
          if (!r.requestExclusion.userErrors.length) done();
        } catch (err) {
          errors.other.textContent = (err as Error).message;
        }
      },
    },
    h('h2', {}, 'Request an exclusion'),
    h('div', { class: 'field' }, h('label', { for: 'exclusion-objective' }, 'Objective'), objective),
    h('div', { class: 'field' }, h('label', { for: 'exclusion-reason' }, 'Reason'), reason),
    h('div', { class: 'field' }, h('label', { for: 'exclusion-explanation' }, 'Explanation'), explanation, errors.explanation),
    errors.other,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Request exclusion')),
  );
}

/** Renders the monthly report of agreement `key` for `month`; the provider's head (`myDepartment`) may request exclusions. */
export async function monthView(main: HTMLElement, key: string, month: string, myDepartment: string | null): Promise<void> {
  const { agreement: a } = await gql<MonthData>(QUERY, { key, month });
  const c = a.scorecard;
  const missed = c.objectives.filter((o) => ['BREACHED', 'NO_DATA', 'AT_RISK'].includes(o.status));
  const exclusions = a.exclusions.filter((x) => x.month === month);
  const rev = c.report?.latestRevision ?? null;
  replace(
    main,
    h('h1', {}, `${a.key}: ${monthLabel(month)}`),
    h('p', { class: 'lede' }, `${a.title}. ${a.provider?.name ?? '–'} for ${a.customer?.name ?? '–'}, ${a.tier.toLowerCase()} tier.`),
    h(
      'p',
      { class: 'actions no-print' },
      link(`/agreements/${encodeURIComponent(a.key)}?month=${month}`, 'The agreement'),
      h('button', { type: 'button', id: 'print', onclick: () => window.print() }, 'Print'),
    ),
    h(
      'dl',
      { class: 'facts', id: 'month-facts' },
      h('dt', {}, 'Status'),
      h('dd', {}, badge(c.status), ` ${(c.phase ?? '').toLowerCase()}${c.closedAt ? `, closed ${c.closedAt.slice(0, 10)}` : ''}${c.disputed ? ', disputed' : ''}`),
      h('dt', {}, 'Score'),
      h('dd', {}, `${num(c.score)}; ${c.compliance.met} of ${c.compliance.evaluated} objectives met (${pct(c.compliance.rate)})`),
      h('dt', {}, 'Credit'),
      h('dd', { id: 'month-credit' }, `${num(c.creditAmount, 2)} (${num(c.creditPercent, 1)} %)${c.creditProvisional ? ', provisional' : ''}`),
      h('dt', {}, 'Report'),
      h(
        'dd',
        {},
        c.report
          ? [badge(c.report.status), rev ? ` revision ${rev.number}, submitted ${rev.submittedAt.slice(0, 10)}${c.report.late ? ', late' : ''}` : '']
          : `not submitted${c.dueDate ? `; due ${c.dueDate}` : ''}`,
      ),
    ),
    h(
      'table',
      { class: 'list', id: 'month-objectives' },
      h('caption', {}, 'Objectives'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Objective', 'Source', 'Value', 'Target', 'Warning', 'Attainment', 'Status'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        c.objectives.map((o) =>
          h(
            'tr',
            { 'data-metric': o.metric.code },
            h('td', {}, `${o.metric.name} (${o.metric.unit.toLowerCase()})`),
            h('td', {}, o.source.toLowerCase()),
            h('td', {}, num(o.value, 2)),
            h('td', {}, num(o.target, 2)),
            h('td', {}, num(o.warning, 2)),
            h('td', {}, pct(o.attainment)),
            h('td', {}, badge(o.status)),
          ),
        ),
      ),
    ),
    h(
      'section',
      {},
      h('h2', {}, 'Narrative'),
      rev ? h('p', { id: 'month-narrative' }, rev.narrative) : h('p', {}, 'No report yet.'),
      rev?.disputeReason ? h('p', { class: 'note' }, `Disputed: ${rev.disputeReason}`) : null,
    ),
    h(
      'section',
      { id: 'month-exclusions' },
      h('h2', {}, 'Exclusions'),
      exclusions.length
        ? h(
            'ul',
            { class: 'items' },
            exclusions.map((x) => h('li', {}, badge(x.status), ` ${x.metric.code} (${x.reasonCode.replace(/_/g, ' ').toLowerCase()}): ${x.explanation}`)),
          )
        : h('p', {}, 'None.'),
    ),
    missed.length && myDepartment && a.provider?.code === myDepartment ? exclusionForm(a.id, month, missed, () => void monthView(main, key, month, myDepartment)) : null,
  );
}
