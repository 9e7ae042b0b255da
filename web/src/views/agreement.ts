/* One agreement: tier, parties, terms in force, each objective against target and warning over
 * months, the status strip of months, reports, exclusions, amendments and credits. */
import { gql, type UserError } from '../api';
import { lineChart } from '../chart';
import { badge, h, link, num, pct, replace } from '../dom';
import { onEvents } from '../live';
import { addMonths, monthLabel, monthOf, monthsBetween } from '../months';

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
interface Terms {
  target: number;
  warning: number | null;
  weight: number;
}
interface ObjectiveChange {
  kind: string;
  metric: { code: string };
  before: Terms | null;
  after: Terms | null;
}
interface VersionObjective {
  target: number;
  warning: number | null;
  metric: { id: string; code: string; name: string; unit: string; direction: string };
}
/** Who is looking: the department the principal acts for, and whether it is an admin. */
export interface Viewer {
  department: string | null;
  admin: boolean;
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
    version: {
      number: number;
      effectiveFrom: string;
      complianceTarget: number;
      monthlyCharge: number;
      creditCapPercent: number;
      reportDueWorkingDays: number;
      acceptanceWorkingDays: number;
      objectives: VersionObjective[];
    } | null;
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
    lockVersion: number;
    exclusions: Array<{ id: string; version: number; month: string; status: string; reasonCode: string; explanation: string; decisionNote: string | null; metric: { code: string } }>;
    amendments: Array<{ id: string; version: number; status: string; effectiveMonth: string; reason: string; rejectionReason: string | null; objectiveChanges: ObjectiveChange[] }>;
  } & Record<string, MonthCard>;
}

const CARD = 'month status phase closedAt disputed score creditAmount objectives { objectiveId status value target warning source metric { code name unit } }';

function query(months: string[]): string {
  const cards = months.map((m, i) => `m${i}: scorecard(month: "${m}") { ${CARD} }`).join('\n    ');
  return `query DashboardAgreement($key: String!, $from: Month!, $to: Month!) {
  agreement(key: $key) {
    id key title tier status lockVersion
    provider { code name } customer { code name } service { code name } parent { key title }
    version(at: $to) { number effectiveFrom complianceTarget monthlyCharge creditCapPercent reportDueWorkingDays acceptanceWorkingDays objectives { target warning metric { id code name unit direction } } }
    compliance(from: $from, to: $to) { score rate met evaluated breaches creditAmount errorBudget { allowed remaining breaches } }
    reports { id month status revisionCount late latestRevision { ...Rev } revisions { ...Rev } }
    exclusions { id version month status reasonCode explanation decisionNote metric { code } }
    amendments { id version status effectiveMonth reason rejectionReason objectiveChanges { kind metric { code } before { target warning weight } after { target warning weight } } }
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

/**
 * Two buttons and a note: approve (or acknowledge) and reject (or dispute), each a mutation
 * returning userErrors, shown beside the note they usually concern. `done` redraws the view.
 */
function decide(options: { id: string; noteLabel: string; yes: string; no: string; send: (kind: 'yes' | 'no', note: string) => Promise<UserError[]>; done: () => void }): HTMLElement {
  const note = h('input', { id: options.id, type: 'text', 'aria-describedby': `err-${options.id}` });
  const error = h('p', { class: 'field-error', id: `err-${options.id}`, role: 'alert' });
  const send = async (kind: 'yes' | 'no') => {
    error.textContent = '';
    try {
      const errors = await options.send(kind, note.value);
      if (errors.length) error.textContent = errors.map((e) => e.message).join(' ');
      else options.done();
    } catch (e) {
      error.textContent = (e as Error).message;
    }
  };
  return h(
    'div',
    { class: 'decision', 'data-decision': options.id },
    h('label', { for: options.id }, options.noteLabel),
    note,
    error,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'approve', onclick: () => void send('yes') }, options.yes),
      h('button', { type: 'button', class: 'reject', onclick: () => void send('no') }, options.no),
    ),
  );
}

const APPROVE_AMENDMENT = `mutation DashboardApproveAmendment($input: AmendmentDecisionInput!) { approveAmendment(input: $input) { userErrors { field code message } } }`;
const REJECT_AMENDMENT = `mutation DashboardRejectAmendment($input: AmendmentDecisionInput!) { rejectAmendment(input: $input) { userErrors { field code message } } }`;
const APPROVE_EXCLUSION = `mutation DashboardApproveExclusion($input: ExclusionDecisionInput!) { approveExclusion(input: $input) { userErrors { field code message } } }`;
const REJECT_EXCLUSION = `mutation DashboardRejectExclusion($input: ExclusionDecisionInput!) { rejectExclusion(input: $input) { userErrors { field code message } } }`;
const PROPOSE_AMENDMENT = `mutation DashboardProposeAmendment($input: ProposeAmendmentInput!) { proposeAmendment(input: $input) { userErrors { field code message } } }`;
const APPROVE_AGREEMENT = `mutation DashboardApproveAgreement($input: AgreementTransitionInput!) { approveAgreement(input: $input) { userErrors { field code message } } }`;

/** The errors of the one payload field of a mutation's data. */
async function userErrors(query: string, input: Record<string, unknown>): Promise<UserError[]> {
  const data = await gql<Record<string, { userErrors: UserError[] }>>(query, { input });
  return Object.values(data)[0].userErrors;
}

/**
 * A party's proposal to change one objective's terms (target and warning) from a month on. The
 * other party approves it in the list above; the API's userErrors show beside the field they name
 * (`changeObjectives[0].target` beside the target, `effectiveMonth` beside the month …).
 */
function amendmentForm(agreementId: string, expectedVersion: number, objectives: VersionObjective[], done: () => void): HTMLElement {
  const objective = h(
    'select',
    { id: 'amend-objective', 'aria-describedby': 'err-amend-objective' },
    objectives.map((o) => h('option', { value: o.metric.id }, `${o.metric.name} (${o.metric.unit.toLowerCase()})`)),
  );
  const target = h('input', { id: 'amend-target', type: 'number', step: 'any', required: true, 'aria-describedby': 'hint-amend-target err-amend-target' });
  const warning = h('input', { id: 'amend-warning', type: 'number', step: 'any', 'aria-describedby': 'hint-amend-warning err-amend-warning' });
  const month = h('input', { id: 'amend-month', type: 'month', required: true, value: addMonths(monthOf(new Date()), 1), 'aria-describedby': 'err-amend-month' });
  const reason = h('textarea', { id: 'amend-reason', rows: 3, 'aria-describedby': 'err-amend-reason' });
  const targetHint = h('p', { class: 'hint', id: 'hint-amend-target' });
  const error = (id: string) => h('p', { class: 'field-error', id: `err-amend-${id}` });
  const errors = {
    objective: error('objective'),
    target: error('target'),
    warning: error('warning'),
    month: error('month'),
    reason: error('reason'),
    other: h('p', { class: 'field-error', role: 'alert' }),
  };
  const inputs: Record<string, HTMLElement> = { objective, target, warning, month, reason };
  // The current terms of the chosen objective fill the fields (a proposal changes them).
  const fill = () => {
    const o = objectives.find((x) => x.metric.id === objective.value);
    if (!o) return;
    target.value = String(o.target);
    warning.value = o.warning === null ? '' : String(o.warning);
    targetHint.textContent = `Now: target ${num(o.target, 2)}${o.warning !== null ? `, warning ${num(o.warning, 2)}` : ''}; ${o.metric.direction.replace(/_/g, ' ').toLowerCase()}.`;
  };
  objective.addEventListener('change', fill);
  fill();
  /** The slot of an error's field: `changeObjectives[0].warning` → warning, `effectiveMonth` → month. */
  const slotOf = (field: string | null): keyof typeof errors => {
    if (!field) return 'other';
    if (/^changeObjectives\[\d+\]\.target$/.test(field)) return 'target';
    if (/^changeObjectives\[\d+\]\.warning$/.test(field)) return 'warning';
    if (/^changeObjectives\[\d+\]/.test(field)) return 'objective';
    if (field === 'effectiveMonth') return 'month';
    if (field === 'reason') return 'reason';
    return 'other';
  };
  const idempotencyKey = crypto.randomUUID();
  return h(
    'form',
    {
      id: 'amendment-form',
      class: 'no-print',
      novalidate: true,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        for (const el of Object.values(errors)) el.textContent = '';
        for (const el of Object.values(inputs)) el.removeAttribute('aria-invalid');
        const number = (el: HTMLInputElement) => (el.value.trim() === '' ? null : Number(el.value));
        if (number(target) === null) {
          // The API reads a null target as "keep"; a proposal that means to keep it names the same value.
          errors.target.textContent = 'target: enter the proposed target.';
          target.setAttribute('aria-invalid', 'true');
          return;
        }
        try {
          const found = await userErrors(PROPOSE_AMENDMENT, {
            agreementId,
            expectedVersion,
            effectiveMonth: month.value,
            reason: reason.value,
            // An empty warning removes it (null); the target is always sent.
            changeObjectives: [{ metricId: objective.value, target: number(target), warning: number(warning) }],
            idempotencyKey,
          });
          for (const u of found) {
            const slot = slotOf(u.field);
            errors[slot].append(`${u.message} `);
            if (slot !== 'other') inputs[slot].setAttribute('aria-invalid', 'true');
          }
          if (!found.length) done();
        } catch (err) {
          errors.other.textContent = (err as Error).message;
        }
      },
    },
    h('h3', {}, 'Propose an amendment'),
    h('div', { class: 'field' }, h('label', { for: 'amend-objective' }, 'Objective'), objective, errors.objective),
    h('div', { class: 'field' }, h('label', { for: 'amend-target' }, 'Target'), targetHint, target, errors.target),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'amend-warning' }, 'Warning'),
      h('p', { class: 'hint', id: 'hint-amend-warning' }, 'On the safe side of the target; empty for none.'),
      warning,
      errors.warning,
    ),
    h('div', { class: 'field' }, h('label', { for: 'amend-month' }, 'From month'), month, errors.month),
    h('div', { class: 'field' }, h('label', { for: 'amend-reason' }, 'Reason'), reason, errors.reason),
    errors.other,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'propose-amendment' }, 'Propose amendment')),
  );
}

function changeText(c: ObjectiveChange): string {
  const t = (x: Terms | null) => (x ? `target ${num(x.target, 2)}${x.warning !== null ? `, warning ${num(x.warning, 2)}` : ''}, weight ${num(x.weight, 0)}` : 'none');
  return `${c.metric.code} ${c.kind.toLowerCase()}: ${t(c.before)} → ${t(c.after)}`;
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
 * acknowledges or disputes submitted reports there; a party's head (or an admin) decides
 * exclusions and amendments and approves a draft (the API decides who may: a refusal shows beside
 * the buttons).
 */
export async function agreementView(main: HTMLElement, key: string, to: string, viewer: Viewer = { department: null, admin: false }, live = true): Promise<void> {
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
  const redraw = () => void agreementView(main, key, to, viewer, false);
  // A party's head or an admin sees the decisions (the API has the last word on who may).
  const isParty = viewer.admin || (!!viewer.department && (a.provider?.code === viewer.department || a.customer?.code === viewer.department));
  replace(
    main,
    h('h1', {}, `${a.key}: ${a.title}`),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Tier'),
      h('dd', {}, a.tier),
      h('dt', {}, 'Status'),
      h(
        'dd',
        {},
        badge(a.status),
        a.status === 'DRAFT' && isParty
          ? h(
              'button',
              {
                type: 'button',
                id: 'approve-agreement',
                onclick: async () => {
                  const errors = await userErrors(APPROVE_AGREEMENT, { id: a.id, expectedVersion: a.lockVersion });
                  if (errors.length) window.alert(errors.map((e) => e.message).join('\n'));
                  else redraw();
                },
              },
              'Approve',
            )
          : null,
      ),
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
    h(
      'p',
      { class: 'actions' },
      link(`/agreements/${encodeURIComponent(a.key)}/report?month=${addMonths(to, -1)}`, `Report for ${monthLabel(addMonths(to, -1))}`),
      h('button', { type: 'button', id: 'print', onclick: () => window.print() }, 'Print'),
    ),
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
            h('span', { class: 'strip-month' }, link(`/agreements/${encodeURIComponent(a.key)}/month?month=${c.month}`, monthLabel(c.month))),
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
                  r.status === 'SUBMITTED' && viewer.department && a.customer?.code === viewer.department
                    ? decide({
                        id: `reason-${r.month}`,
                        noteLabel: `Dispute reason (revision ${r.latestRevision?.number ?? 0})`,
                        yes: 'Acknowledge',
                        no: 'Dispute',
                        send: (kind, reason) => {
                          const input = { reportId: r.id, revision: r.latestRevision?.number ?? 0 };
                          return kind === 'yes' ? userErrors(ACKNOWLEDGE, input) : userErrors(DISPUTE, { ...input, reason });
                        },
                        done: redraw,
                      })
                    : null,
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
            a.exclusions.map((x) =>
              h(
                'li',
                {},
                badge(x.status),
                ` ${x.month} ${x.metric.code} (${x.reasonCode.toLowerCase()}): ${x.explanation}`,
                x.decisionNote ? h('div', { class: 'note' }, x.decisionNote) : null,
                x.status === 'REQUESTED' && isParty
                  ? decide({
                      id: `exclusion-${x.id}`,
                      noteLabel: 'Decision note (required to reject)',
                      yes: 'Approve exclusion',
                      no: 'Reject exclusion',
                      send: (kind, note) => userErrors(kind === 'yes' ? APPROVE_EXCLUSION : REJECT_EXCLUSION, { exclusionId: x.id, expectedVersion: x.version, note: note || undefined }),
                      done: redraw,
                    })
                  : null,
              ),
            ),
          )
        : h('p', {}, 'None.'),
    ),
    h(
      'section',
      { id: 'amendments' },
      h('h2', {}, 'Amendments'),
      a.amendments.length
        ? h(
            'ul',
            { class: 'items' },
            a.amendments.map((x) =>
              h(
                'li',
                { 'data-amendment': x.id },
                badge(x.status),
                ` from ${x.effectiveMonth}: ${x.reason}`,
                x.rejectionReason ? h('div', { class: 'note' }, `Rejected: ${x.rejectionReason}`) : null,
                x.objectiveChanges.length
                  ? h(
                      'ul',
                      {},
                      x.objectiveChanges.map((c) => h('li', {}, changeText(c))),
                    )
                  : null,
                x.status === 'PROPOSED' && isParty
                  ? decide({
                      id: `amendment-${x.id}`,
                      noteLabel: 'Reason (required to reject)',
                      yes: 'Approve amendment',
                      no: 'Reject amendment',
                      send: (kind, reason) => userErrors(kind === 'yes' ? APPROVE_AMENDMENT : REJECT_AMENDMENT, { id: x.id, expectedVersion: x.version, reason: reason || undefined }),
                      done: redraw,
                    })
                  : null,
              ),
            ),
          )
        : h('p', {}, 'None.'),
      isParty && v?.objectives.length && (a.status === 'ACTIVE' || a.status === 'SUSPENDED') ? amendmentForm(a.id, a.lockVersion, v.objectives, redraw) : null,
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
  // Live: an event of this agreement (a report, a decision, a close) redraws the view, unless the
  // reader is typing in it (then the next event, or a reload, brings it up to date).
  if (live) {
    onEvents((e) => {
      if (e.agreementKey !== a.key) return;
      const active = document.activeElement;
      if (active && main.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) return;
      redraw();
    });
  }
}
