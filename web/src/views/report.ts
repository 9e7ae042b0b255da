/* A head's monthly report: one field per manual objective (with its unit and bounds), the
 * narrative, drafts saved on the server, and each userError shown beside the field it names. */
import { gql, type UserError } from '../api';
import { badge, h, link, num, replace } from '../dom';
import { monthLabel } from '../months';

interface Objective {
  id: string;
  target: number;
  warning: number | null;
  metric: { code: string; name: string; unit: string; source: string; minValue: number | null; maxValue: number | null; integerOnly: boolean; direction: string; collectsFrictionItems: boolean };
}
interface Friction {
  category: string;
  severity: string;
  customersAffected: number;
  description: string;
}
interface FormData {
  agreement: {
    id: string;
    key: string;
    title: string;
    effectiveObjectives: Objective[];
    report: {
      status: string;
      version: number;
      draft: { narrative: string | null; values: Array<{ objectiveId: string; value: number }>; frictionItems: Friction[] } | null;
      latestRevision: { number: number; narrative: string; values: Array<{ value: number; objective: { id: string } }>; frictionItems: Friction[] } | null;
    } | null;
  };
}

const QUERY = `query DashboardReportForm($key: String!, $month: Month!) {
  agreement(key: $key) {
    id key title
    effectiveObjectives(at: $month) { id target warning metric { code name unit source minValue maxValue integerOnly direction collectsFrictionItems } }
    report(month: $month) {
      status version
      draft { narrative values { objectiveId value } frictionItems { ...Friction } }
      latestRevision { number narrative values { value objective { id } } frictionItems { ...Friction } }
    }
  }
}
fragment Friction on FrictionItem { category severity customersAffected description }`;

const CATEGORIES = ['BILLING', 'COMMUNICATION', 'HANDOVER', 'ONBOARDING', 'PRODUCT', 'SUPPORT', 'OTHER'];
const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];

/** One friction item's fields; `slot` makes the error line of a field path. */
function frictionRow(i: number, item: Friction | null, slot: (field: string) => HTMLElement, remove: () => void) {
  const id = (f: string) => `friction-${i}-${f}`;
  const select = (f: string, values: string[], value: string | undefined) =>
    h(
      'select',
      { id: id(f), name: f },
      values.map((v) => h('option', { value: v, selected: v === value }, v.toLowerCase())),
    );
  const category = select('category', CATEGORIES, item?.category);
  const severity = select('severity', SEVERITIES, item?.severity ?? 'MEDIUM');
  const customers = h('input', { id: id('customers'), type: 'number', min: 0, step: 1, value: item?.customersAffected ?? 1, 'aria-describedby': `err-frictionItems-${i}--customersAffected` });
  const description = h('input', { id: id('description'), type: 'text', value: item?.description ?? '', 'aria-describedby': `err-frictionItems-${i}--description` });
  const row = h(
    'fieldset',
    { class: 'friction', 'data-friction': i },
    h('legend', {}, `Friction item ${i + 1}`),
    h('div', { class: 'field' }, h('label', { for: id('category') }, 'Category'), category),
    h('div', { class: 'field' }, h('label', { for: id('severity') }, 'Severity'), severity),
    h('div', { class: 'field' }, h('label', { for: id('customers') }, 'Customers affected'), customers, slot(`frictionItems[${i}].customersAffected`)),
    h('div', { class: 'field' }, h('label', { for: id('description') }, 'What happened'), description, slot(`frictionItems[${i}].description`)),
    slot(`frictionItems[${i}]`),
    h('button', { type: 'button', class: 'remove-friction', onclick: remove }, `Remove item ${i + 1}`),
  );
  const value = (): Friction => ({ category: category.value, severity: severity.value, customersAffected: Number(customers.value), description: description.value });
  return { row, value };
}

const SAVE = `mutation DashboardSaveDraft($input: SaveReportDraftInput!) { saveReportDraft(input: $input) { userErrors { field code message } report { version } } }`;
const SUBMIT = `mutation DashboardSubmitReport($input: SubmitReportInput!) { submitReport(input: $input) { userErrors { field code message } revision { number } report { status } } }`;

/** Renders the report form of agreement `key` for `month`. */
export async function reportView(main: HTMLElement, key: string, month: string): Promise<void> {
  const { agreement: a } = await gql<FormData>(QUERY, { key, month });
  const manual = a.effectiveObjectives.filter((o) => o.metric.source === 'MANUAL');
  const prior = new Map<string, number>();
  for (const v of a.report?.latestRevision?.values ?? []) prior.set(v.objective.id, v.value);
  for (const v of a.report?.draft?.values ?? []) prior.set(v.objectiveId, v.value);
  let version = a.report?.version ?? null;
  const idempotencyKey = crypto.randomUUID();

  const status = h('p', { role: 'status', id: 'form-status', 'aria-live': 'polite' });
  const errorSlots = new Map<string, HTMLElement>();
  const slot = (field: string) => {
    const el = h('p', { class: 'field-error', id: `err-${field.replace(/[^a-z0-9]/gi, '-')}` });
    errorSlots.set(field, el);
    return el;
  };
  const inputs = manual.map((o, i) => {
    const id = `value-${o.metric.code}`;
    const bounds = [o.metric.minValue !== null ? `from ${o.metric.minValue}` : '', o.metric.maxValue !== null ? `to ${o.metric.maxValue}` : ''].filter(Boolean).join(' ');
    const input = h('input', {
      id,
      name: o.metric.code,
      type: 'number',
      inputmode: 'decimal',
      step: o.metric.integerOnly ? '1' : 'any',
      min: o.metric.minValue ?? undefined,
      max: o.metric.maxValue ?? undefined,
      value: prior.get(o.id) ?? '',
      'aria-describedby': `hint-${o.metric.code} err-values-${i}--value`,
    });
    const row = h(
      'div',
      { class: 'field' },
      h('label', { for: id }, o.metric.name),
      input,
      h(
        'span',
        { class: 'hint', id: `hint-${o.metric.code}` },
        `${o.metric.unit.toLowerCase()}${bounds ? `, ${bounds}` : ''}; target ${o.metric.direction === 'LOWER_IS_BETTER' ? '≤' : '≥'} ${num(o.target, 2)}`,
      ),
      slot(`values[${i}].value`),
    );
    return { o, input, row };
  });
  const narrative = h('textarea', { id: 'narrative', name: 'narrative', rows: 5, 'aria-describedby': 'err-narrative' }, a.report?.draft?.narrative ?? a.report?.latestRevision?.narrative ?? '');
  const general = slot('');

  // Friction items, where an objective collects them (the customer friction report, whose
  // FRICTION_REPORT_DELIVERED value is computed from them, not typed).
  const collectsFriction = a.effectiveObjectives.some((o) => o.metric.collectsFrictionItems);
  let frictionRows: Array<ReturnType<typeof frictionRow>> = [];
  const frictionList = h('div', { id: 'friction-items' });
  const drawFriction = (items: Array<Friction | null>) => {
    for (const key of [...errorSlots.keys()]) if (key.startsWith('frictionItems')) errorSlots.delete(key);
    frictionRows = items.map((item, i) =>
      frictionRow(i, item, slot, () => {
        const kept = frictionRows.map((r) => r.value());
        kept.splice(i, 1);
        drawFriction(kept);
      }),
    );
    replace(frictionList, ...frictionRows.map((r) => r.row));
  };
  drawFriction(a.report?.draft?.frictionItems.length ? a.report.draft.frictionItems : (a.report?.latestRevision?.frictionItems ?? []));
  const frictionSection = collectsFriction
    ? h(
        'section',
        { id: 'friction' },
        h('h2', {}, 'Customer friction'),
        frictionList,
        h('button', { type: 'button', id: 'add-friction', onclick: () => drawFriction([...frictionRows.map((r) => r.value()), null]) }, 'Add friction item'),
      )
    : null;

  const collect = () => ({
    agreementId: a.id,
    month,
    narrative: narrative.value,
    values: inputs.filter(({ input }) => input.value !== '').map(({ o, input }) => ({ objectiveId: o.id, value: Number(input.value) })),
    ...(collectsFriction ? { frictionItems: frictionRows.map((r) => r.value()) } : {}),
  });
  const show = (errors: UserError[], values: Array<{ objectiveId: string }>) => {
    for (const el of errorSlots.values()) el.textContent = '';
    for (const input of inputs) input.input.removeAttribute('aria-invalid');
    for (const e of errors) {
      // The API names the path of the input sent; map value indexes back to the form's fields.
      const m = /^values\[(\d+)\]/.exec(e.field ?? '');
      let target = errorSlots.get('');
      if (m) {
        const sent = values[Number(m[1])];
        const i = inputs.findIndex(({ o }) => o.id === sent?.objectiveId);
        if (i >= 0) {
          target = errorSlots.get(`values[${i}].value`);
          inputs[i].input.setAttribute('aria-invalid', 'true');
        }
      } else if (e.field === 'narrative') {
        target = errorSlots.get('narrative');
      } else if (e.field?.startsWith('frictionItems')) {
        target = errorSlots.get(e.field) ?? errorSlots.get(e.field.replace(/\.[^.]+$/, '')) ?? target;
      }
      if (target) target.textContent = `${target.textContent ? `${target.textContent} ` : ''}${e.message}`;
    }
  };
  const run = async (kind: 'save' | 'submit') => {
    const input = collect();
    status.textContent = kind === 'save' ? 'Saving…' : 'Submitting…';
    try {
      if (kind === 'save') {
        const r = await gql<{ saveReportDraft: { userErrors: UserError[]; report: { version: number } | null } }>(SAVE, { input: { ...input, expectedVersion: version ?? undefined } });
        show(r.saveReportDraft.userErrors, input.values);
        if (r.saveReportDraft.report) version = r.saveReportDraft.report.version;
        status.textContent = r.saveReportDraft.userErrors.length ? 'Not saved: see the messages beside the fields.' : 'Draft saved.';
      } else {
        const r = await gql<{ submitReport: { userErrors: UserError[]; revision: { number: number } | null; report: { status: string } | null } }>(SUBMIT, { input: { ...input, idempotencyKey } });
        show(r.submitReport.userErrors, input.values);
        status.textContent = r.submitReport.revision ? `Submitted as revision ${r.submitReport.revision.number}.` : 'Not submitted: see the messages beside the fields.';
      }
    } catch (e) {
      status.textContent = `Failed: ${(e as Error).message}`;
    }
  };

  replace(
    main,
    h('h1', {}, `Report: ${a.key}, ${monthLabel(month)}`),
    h('p', { class: 'lede' }, link(`/agreements/${encodeURIComponent(a.key)}`, a.title), ' ', a.report ? badge(a.report.status) : badge('NOT_STARTED')),
    manual.length ? null : h('p', {}, 'This agreement has no manual objective this month: its values are measured from events.'),
    h(
      'form',
      {
        id: 'report-form',
        novalidate: true,
        onsubmit: (e: Event) => {
          e.preventDefault();
          void run('submit');
        },
      },
      inputs.map(({ row }) => row),
      frictionSection,
      h('div', { class: 'field' }, h('label', { for: 'narrative' }, 'Narrative'), narrative, slot('narrative')),
      general,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', id: 'save-draft', onclick: () => void run('save') }, 'Save draft'),
        h('button', { type: 'submit', id: 'submit-report', class: 'primary' }, 'Submit report'),
      ),
      status,
    ),
  );
}
