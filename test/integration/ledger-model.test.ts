/**
 * Issue 13, scope point 4: the score ledger (DESIGN §5 month close, §8 write and read side) against
 * a from-scratch rebuild, by model-based testing over HTTP. fast-check draws sequences of 10 to 25
 * commands (reports and corrected revisions, verdicts, rulings, exclusions, amendments, suspensions,
 * handoff batches for any month, closed ones included, escalations, reopenings, scheduler ticks,
 * clock advances: the clock only moves forward within a run); each run gets a fresh server and a
 * small agreement tree (a charter; OPS, IT → Sales, with a MANUAL objective; LEADS, Marketing →
 * Sales, with none), and after every command that may change what readers see, every month is read:
 * - nothing of a month that has not ended is breached, no-data or credited (rule 0);
 * - a read reflects the transitions up to its instant (an acknowledged month, and a month with no
 *   MANUAL objective, is CLOSED once past its due instant), the scheduler late or not;
 * - a closed month's scorecard does not change, whatever arrives later, until it is reopened;
 * - a closed month's credit entries are one CLOSE then ADJUSTMENTs, adding up to its credit;
 * - a month readers see closed can be reopened;
 * and at `check` commands and at the end, `compareWithRebuild` finds no difference between the
 * kept ledger and one recomputed from the facts. On PostgreSQL, writers of one agreement-month race.
 *
 * Reproducible: the seed is fixed (SEED; LEDGER_MODEL_SEED and LEDGER_MODEL_RUNS override it, and
 * LEDGER_MODEL_FIRST pins the first month, by default two months after the real one). A failure
 * prints the sequence and the stored closes, credit entries and ledger months; LEDGER_MODEL_SHRINK=1
 * lets fast-check shrink it (slow: a server per run), LEDGER_MODEL_LOG=1 prints every sequence.
 * Counterexamples of the bugs found are replayed first (EXAMPLES, and KNOWN_BUGS: an escalation
 * deadline passing between a close instant and its recording, fixed by scoring a month at its close
 * instant).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMonths, compareMonths, monthOf, monthRange, type Month } from '../../src/common/month';
import { sqlOf } from '../../src/common/sql';
import { compareWithRebuild } from '../../src/modules/ledger/ledger.service';
import {
  AcknowledgeEscalationDocument,
  AcknowledgeReportDocument,
  ApproveAmendmentDocument,
  ApproveExclusionDocument,
  ApproveMonthReopeningDocument,
  CreditLedgerDocument,
  DepartmentDocument,
  DisputeReportDocument,
  MetricDocument,
  ModelAgreementDocument,
  ModelMonthDocument,
  type ModelMonthQuery,
  OpenEscalationDocument,
  ProposeAmendmentDocument,
  RecordHandoffEventsDocument,
  RejectExclusionDocument,
  ReportableObjectivesDocument,
  RequestExclusionDocument,
  RequestMonthReopeningDocument,
  ResolveEscalationDocument,
  ResumeAgreementDocument,
  AgreementLifecycleDocument,
  ApproveLifecycleRequestDocument,
  SettleDisputeDocument,
  SubmitReportDocument,
  SuspendAgreementDocument,
} from '../generated/graphql';
import { activateAgreement } from '../support/agreements';
import { engines, type GraphQLResult, Role, startServer, type Client, type Engine, type TestServer } from '../support/server';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/**
 * Every run starts on the 5th of its first month, the agreements signed then and effective from
 * that month: two months after the real one (LEDGER_MODEL_FIRST pins it), so that the run's clock
 * is never behind the server's real one, which built the ledger's horizon when it started (a
 * rebuild at an instant before the stored horizon keeps fewer months than the ledger holds).
 */
const FIRST: Month = process.env.LEDGER_MODEL_FIRST ?? addMonths(monthOf(new Date()), 2);
const START = Date.parse(`${FIRST}-05T08:00:00Z`);
const SEED = Number(process.env.LEDGER_MODEL_SEED ?? 1_302_013);
const RUNS = Number(process.env.LEDGER_MODEL_RUNS ?? 8);

type Key = 'OPS' | 'LEADS';
const KEYS: Key[] = ['OPS', 'LEADS'];

// ------------------------------------------------------------------------------------- commands

type Command =
  | { kind: 'advance'; ms: number }
  | { kind: 'tick' }
  | { kind: 'check' }
  | { kind: 'submit'; pick: number; value: number }
  | { kind: 'acknowledge'; pick: number }
  | { kind: 'dispute'; pick: number }
  | { kind: 'settle'; pick: number; ruling: 'UPHELD' | 'REJECTED' }
  | { kind: 'requestExclusion'; agreement: number; pick: number; objective: number }
  | { kind: 'decideExclusion'; pick: number; approve: boolean }
  | { kind: 'amend'; agreement: number; target: number; charge: number | null; next: boolean }
  | { kind: 'suspend'; agreement: number }
  | { kind: 'resume'; agreement: number }
  | { kind: 'handoffs'; agreement: number; pick: number; day: number; n: number; rejected: boolean; resend: number | null }
  | { kind: 'escalate'; agreement: number; pick: number; day: number; severity: 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' }
  | { kind: 'answerEscalation'; pick: number; resolve: boolean }
  | { kind: 'reopen'; agreement: number; pick: number; byHeads: boolean }
  /** Examples only: no data reached any closed month after its close, so none is marked late. */
  | { kind: 'expectNoLateData' };

const agreementArb = fc.integer({ min: 0, max: 1 });
const pickArb = fc.nat({ max: 11 });
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(HOUR, 7 * HOUR, DAY, 3 * DAY, 6 * DAY, 12 * DAY, 25 * DAY) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'tick' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'check' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('submit' as const), pick: pickArb, value: fc.constantFrom(99.0, 99.6, 99.9) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('acknowledge' as const), pick: pickArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('dispute' as const), pick: pickArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('settle' as const), pick: pickArb, ruling: fc.constantFrom('UPHELD' as const, 'REJECTED' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('requestExclusion' as const), agreement: agreementArb, pick: pickArb, objective: fc.nat({ max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('decideExclusion' as const), pick: pickArb, approve: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('amend' as const), agreement: agreementArb, target: fc.nat({ max: 3 }), charge: fc.option(fc.constantFrom(1_000, 20_000)), next: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('suspend' as const), agreement: agreementArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resume' as const), agreement: agreementArb }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('handoffs' as const),
      agreement: agreementArb,
      pick: pickArb,
      day: fc.nat({ max: 27 }),
      n: fc.integer({ min: 1, max: 3 }),
      rejected: fc.boolean(),
      resend: fc.option(fc.nat({ max: 20 })),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('escalate' as const),
      agreement: agreementArb,
      pick: pickArb,
      day: fc.nat({ max: 27 }),
      severity: fc.constantFrom('CRITICAL' as const, 'HIGH' as const, 'MEDIUM' as const, 'LOW' as const),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('answerEscalation' as const), pick: pickArb, resolve: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reopen' as const), agreement: agreementArb, pick: pickArb, byHeads: fc.boolean() }) },
);

/**
 * Sequences that found bugs (before their fixes), replayed on every run of the test.
 * 1. A running month's automated value so far changed while every status stayed PENDING: the
 *    ledger kept the month's row and left its objective rows stale (HANDOFF_VOLUME 0 after a lead).
 */
const EXAMPLES: Command[][] = [
  [{ kind: 'handoffs', agreement: 1, pick: 0, day: 0, n: 1, rejected: false, resend: null }, { kind: 'check' }],
  // 2. A month past its close instant, shown CLOSED, before the scheduler recorded the close: its
  //    reopening was refused ("not closed").
  [
    { kind: 'advance', ms: 6 * DAY },
    { kind: 'reopen', agreement: 1, pick: 0, byHeads: false },
  ],
  // 3. A month closed while an escalation of it awaited its first response, not yet due; the
  //    deadline passed later (time only, no data): a rebuild marked the month as having late data.
  [
    { kind: 'tick' },
    { kind: 'escalate', agreement: 0, pick: 1, day: 27, severity: 'LOW' },
    { kind: 'submit', pick: 0, value: 99.9 },
    { kind: 'acknowledge', pick: 0 },
    { kind: 'advance', ms: 6 * DAY },
    { kind: 'check' },
  ],
  // 4. (seed 42) An escalation opened and answered at the same instant, its deadline long past:
  //    nothing a reader sees changed, so the month's row kept the deadline among the instants at
  //    which its values change by time (value_changes) while a rebuild had none.
  [{ kind: 'escalate', agreement: 0, pick: 9, day: 20, severity: 'LOW' }, { kind: 'answerEscalation', pick: 9, resolve: true }, { kind: 'check' }],
  // 5. A month closed by silence; the scheduler, late, recorded the deemed acknowledgement and the
  //    close together, and marked the month as having late data (SUBMITTED at the close, ACKNOWLEDGED now).
  [{ kind: 'submit', pick: 0, value: 99.9 }, { kind: 'advance', ms: 12 * DAY }, { kind: 'tick' }, { kind: 'expectNoLateData' }],
  // 6. (seed 11) A month acknowledged and reopened at one instant: its CLOSE and ADJUSTMENT entries,
  //    posted at the same instant, were listed in the order of their random ids (half the time ADJUSTMENT first).
  [{ kind: 'submit', pick: 0, value: 99.0 }, { kind: 'acknowledge', pick: 0 }, { kind: 'tick' }, { kind: 'reopen', agreement: 0, pick: 0, byHeads: false }],
];

/**
 * Fixed by scoring a month at its close instant (reads, the ledger and the rebuild alike); before,
 * a month whose close the ledger had not recorded yet was
 * shown closed by reads with its automated values at the read's instant, recorded by the scheduler
 * with the values of its last evaluation, and rebuilt with those at the rebuild's instant. They
 * differ when an escalation's response deadline passes between the close and the recording: here
 * a LOW escalation (60 working hours) of a month closed by silence on 6 February, due on the 8th.
 */
const KNOWN_BUGS: Command[][] = [
  [{ kind: 'tick' }, { kind: 'escalate', agreement: 0, pick: 1, day: 27, severity: 'LOW' }, { kind: 'submit', pick: 0, value: 99.9 }, { kind: 'advance', ms: 12 * DAY }, { kind: 'check' }],
];

// ------------------------------------------------------------------------------------ the world

type Scorecard = ModelMonthQuery['agreement']['scorecard'];

/** One run's server, agreements and what the test remembers of them (the model). */
class World {
  now = START;
  /** The instant of the last scheduler tick. */
  tickedAt = -1;
  /** Whether the last command may have changed what readers see (time moved, or a write went through). */
  changed = false;
  /** The one agreement-month the last write was about, when it was about one (null: check them all). */
  touched: { key: Key; month: Month } | null = null;
  readonly log: string[] = [];
  readonly outcomes = new Map<string, number>();
  private readonly reports = new Map<Month, { id: string; revision: number; status: string }>();
  private readonly exclusions: Array<{ id: string; version: number; key: Key; month: Month }> = [];
  private readonly escalations: Array<{ id: string; version: number; status: string; key: Key; month: Month }> = [];
  private readonly events: Array<{ externalId: string; agreement: Key }> = [];
  /** Closed months as a reader saw them, until a reopening. */
  private readonly frozen = new Map<string, { shown: string; lateDataAt: string | null }>();

  private constructor(
    readonly s: TestServer,
    readonly ids: Record<Key, string>,
    readonly metric: Record<string, string>,
    private readonly heads: Record<'IT' | 'MKT' | 'SALES', Client>,
    private readonly integrations: Record<Key, Client>,
  ) {}

  static async create(engine: Engine, options: { slowLowResponse?: boolean } = {}): Promise<World> {
    const s = await startServer(engine, { seed: true });
    try {
      const dept: Record<string, string> = {};
      for (const code of ['IT', 'MKT', 'SALES']) dept[code] = (await s.data(DepartmentDocument, { code })).department.id;
      const metric: Record<string, string> = {};
      for (const code of ['REPORT_DAYS_LATE', 'SYSTEM_AVAILABILITY', 'ESCALATION_RESPONSE_ON_TIME', 'HANDOFF_VOLUME', 'HANDOFF_ACCEPTANCE_RATE'])
        metric[code] = (await s.data(MetricDocument, { code })).metric.id;
      const at = new Date(START).toISOString();
      const charter = await activateAgreement(
        s,
        { key: 'CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: FIRST }, objectives: [{ metricId: metric.REPORT_DAYS_LATE, target: 0, creditPercent: 1 }] },
        at,
      );
      // OPS has a MANUAL objective: its months close when their report is acknowledged (or deemed
      // so); handoffs and escalations feed it too, so they may arrive late for a closed month.
      const terms = { effectiveFrom: FIRST, acceptanceWorkingDays: 4, reportDueWorkingDays: 3 };
      const ops = await activateAgreement(
        s,
        {
          key: 'OPS',
          tier: 'CUSTOMER',
          title: 'Operations',
          providerId: dept.IT,
          customerId: dept.SALES,
          parentId: charter,
          terms: {
            ...terms,
            monthlyCharge: 10_000,
            creditCapPercent: 8,
            // A slow LOW response target (60 working hours): a deadline may pass after the month closed.
            ...(options.slowLowResponse
              ? {
                  escalationPolicy: {
                    CRITICAL: { responseHours: 1, resolutionHours: 8 },
                    HIGH: { responseHours: 4, resolutionHours: 24 },
                    MEDIUM: { responseHours: 8, resolutionHours: 40 },
                    LOW: { responseHours: 60, resolutionHours: 120 },
                  },
                }
              : {}),
          },
          objectives: [
            { metricId: metric.SYSTEM_AVAILABILITY, target: 99.5, warning: 99.8, weight: 3, creditPercent: 5 },
            { metricId: metric.ESCALATION_RESPONSE_ON_TIME, target: 50, weight: 1, creditPercent: 2 },
            { metricId: metric.HANDOFF_VOLUME, target: 2, weight: 1, creditPercent: 1 },
          ],
        },
        at,
      );
      // LEADS has none: its months close at their due instant.
      const leads = await activateAgreement(
        s,
        {
          key: 'LEADS',
          tier: 'CUSTOMER',
          title: 'Leads',
          providerId: dept.MKT,
          customerId: dept.SALES,
          parentId: charter,
          terms: { ...terms, monthlyCharge: 2_000, creditCapPercent: 10 },
          objectives: [
            { metricId: metric.HANDOFF_VOLUME, target: 3, weight: 2, creditPercent: 5 },
            { metricId: metric.HANDOFF_ACCEPTANCE_RATE, target: 60, weight: 1, creditPercent: 3 },
            { metricId: metric.ESCALATION_RESPONSE_ON_TIME, target: 50, weight: 1, creditPercent: 2 },
          ],
        },
        at,
      );
      const heads = { IT: s.as(await s.tokenFor(Role.HEAD, 'IT')), MKT: s.as(await s.tokenFor(Role.HEAD, 'MKT')), SALES: s.as(await s.tokenFor(Role.HEAD, 'SALES')) };
      const integrations = { OPS: s.as(await s.tokenFor(Role.INTEGRATION, 'IT')), LEADS: s.as(await s.tokenFor(Role.INTEGRATION, 'MKT')) };
      const w = new World(s, { OPS: ops, LEADS: leads }, metric, heads, integrations);
      // The first month has just ended: its report is due within days.
      w.now = Date.parse(`${addMonths(FIRST, 1)}-01T09:00:00Z`);
      return w;
    } catch (e) {
      await s.close();
      throw e;
    }
  }

  get iso(): string {
    return new Date(this.now).toISOString();
  }
  private get month(): Month {
    return monthOf(new Date(this.now));
  }
  /** Months that have ended (UTC calendars), oldest first. */
  private ended(): Month[] {
    const last = addMonths(this.month, -1);
    return compareMonths(last, FIRST) < 0 ? [] : monthRange(FIRST, last);
  }
  /** Months events may fall in: the ended ones and the running one. */
  private eventMonths(): Month[] {
    return monthRange(FIRST, this.month);
  }
  /** Picks from the end of a list (recent months are where most work happens; `pick` past the length wraps). */
  private pickOf<T>(list: T[], pick: number): T | undefined {
    return list.length ? list[list.length - 1 - (pick % list.length)] : undefined;
  }
  private as(client: Client): Client {
    return client.at(this.iso);
  }
  private get admin(): Client {
    return this.s.at(this.iso);
  }
  private head(key: Key, side: 'PROVIDER' | 'CUSTOMER'): Client {
    return this.as(side === 'CUSTOMER' ? this.heads.SALES : key === 'OPS' ? this.heads.IT : this.heads.MKT);
  }

  /** Records a mutation's outcome: GraphQL errors fail the run; user errors are refusals the model allows. */
  private outcome<T>(what: string, r: GraphQLResult<T>, payload: (d: T) => { userErrors: Array<{ code: string; message: string }> }): T | null {
    if (r.errors?.length) throw new Error(`${what}: unexpected GraphQL errors ${JSON.stringify(r.errors)}`);
    const data = r.data as T;
    const errors = payload(data).userErrors;
    if (!errors.length) this.changed = true;
    const key = errors.length ? `${what}: ${errors[0].code}` : `${what}: ok`;
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
    this.log.push(`  ${this.iso} ${key}${errors.length ? ` (${errors[0].message})` : ''}`);
    return errors.length ? null : data;
  }

  private monthStart(m: Month, day: number, hour = 10): Date {
    const [y, mo] = m.split('-').map(Number);
    return new Date(Date.UTC(y, mo - 1, 1 + day, hour));
  }
  /** An instant in month `m` no later than now. */
  private instantIn(m: Month, day: number): string {
    const t = Math.min(this.monthStart(m, day).getTime(), this.now - HOUR);
    return new Date(Math.max(t, this.monthStart(m, 0, 0).getTime())).toISOString();
  }

  async apply(c: Command): Promise<void> {
    this.log.push(`${JSON.stringify(c)}`);
    this.changed = c.kind === 'advance' || c.kind === 'tick';
    this.touched = null;
    switch (c.kind) {
      case 'advance':
        this.now += c.ms;
        return;
      case 'tick':
        await this.s.app.scheduler.tick(new Date(this.now));
        this.tickedAt = this.now;
        return;
      case 'expectNoLateData': {
        for (const key of KEYS) {
          for (const month of this.ended()) {
            const card = (await this.admin.data(ModelMonthDocument, { key, month })).agreement.scorecard;
            expect(card.lateDataAt, `${key} ${month}: late data marked, though none came`).toBeNull();
          }
        }
        return;
      }
      case 'check':
        await this.expectRebuildEqual();
        this.outcomes.set('check: ok', (this.outcomes.get('check: ok') ?? 0) + 1);
        return;
      case 'submit': {
        const month = this.pickOf(this.ended(), c.pick);
        if (!month) return;
        this.touched = { key: 'OPS', month };
        const objectives = (await this.s.data(ReportableObjectivesDocument, { key: 'OPS', at: month })).agreement.effectiveObjectives.filter((o) => o.metric.source === 'MANUAL');
        const r = await this.head('OPS', 'PROVIDER').request(SubmitReportDocument, {
          input: { agreementId: this.ids.OPS, month, narrative: `${month} at ${this.iso}`, values: objectives.map((o) => ({ objectiveId: o.id, value: c.value })) },
        });
        const d = this.outcome('submit', r, (x) => x.submitReport);
        if (d?.submitReport.report) this.reports.set(month, { id: d.submitReport.report.id, revision: d.submitReport.report.revisionCount, status: d.submitReport.report.status });
        return;
      }
      case 'acknowledge':
      case 'dispute':
      case 'settle': {
        // Aimed at reports awaiting the verdict or ruling (as far as the model knows: silence may have deemed them acknowledged).
        const awaiting = [...this.reports].filter(([, r]) => r.status === (c.kind === 'settle' ? 'DISPUTED' : 'SUBMITTED')).map(([m]) => m);
        const month = this.pickOf(awaiting.length ? awaiting.sort(compareMonths) : [...this.reports.keys()].sort(compareMonths), c.pick);
        if (!month) return;
        const report = this.reports.get(month) as { id: string; revision: number; status: string };
        const { id: reportId, revision } = report;
        this.touched = { key: 'OPS', month };
        const after =
          c.kind === 'acknowledge'
            ? this.outcome('acknowledge', await this.head('OPS', 'CUSTOMER').request(AcknowledgeReportDocument, { input: { reportId, revision } }), (x) => x.acknowledgeReport)?.acknowledgeReport
                .report
            : c.kind === 'dispute'
              ? this.outcome('dispute', await this.head('OPS', 'CUSTOMER').request(DisputeReportDocument, { input: { reportId, revision, reason: 'The figures are wrong' } }), (x) => x.disputeReport)
                  ?.disputeReport.report
              : this.outcome(`settle ${c.ruling}`, await this.admin.request(SettleDisputeDocument, { input: { reportId, revision, ruling: c.ruling, note: 'Ruled' } }), (x) => x.settleDispute)
                  ?.settleDispute.report;
        if (after) report.status = after.status;
        return;
      }
      case 'requestExclusion': {
        const key = KEYS[c.agreement];
        const month = this.pickOf(this.ended(), c.pick);
        if (!month) return;
        // Aimed at an objective the reader sees BREACHED or NO_DATA (any other is refused).
        const card = (await this.admin.data(ModelMonthDocument, { key, month })).agreement.scorecard;
        const breached = card.objectives.filter((o) => o.status === 'BREACHED' || o.status === 'NO_DATA');
        const objectives = breached.length ? breached : card.objectives;
        if (!objectives.length) return;
        const objective = objectives[c.objective % objectives.length];
        const r = await this.head(key, 'PROVIDER').request(RequestExclusionDocument, {
          input: { agreementId: this.ids[key], month, objectiveId: objective.objectiveId, reasonCode: 'CUSTOMER_DEPENDENCY', explanation: 'Waiting on the customer' },
        });
        const d = this.outcome('requestExclusion', r, (x) => x.requestExclusion);
        this.touched = { key, month };
        if (d?.requestExclusion.exclusion) this.exclusions.push({ id: d.requestExclusion.exclusion.id, version: d.requestExclusion.exclusion.version, key, month });
        return;
      }
      case 'decideExclusion': {
        const e = this.pickOf(this.exclusions, c.pick);
        if (!e) return;
        this.exclusions.splice(this.exclusions.indexOf(e), 1);
        this.touched = { key: e.key, month: e.month };
        const client = this.as(this.heads.SALES);
        if (c.approve) this.outcome('approveExclusion', await client.request(ApproveExclusionDocument, { input: { exclusionId: e.id, expectedVersion: e.version } }), (x) => x.approveExclusion);
        else this.outcome('rejectExclusion', await client.request(RejectExclusionDocument, { input: { exclusionId: e.id, expectedVersion: e.version, note: 'No' } }), (x) => x.rejectExclusion);
        return;
      }
      case 'amend': {
        const key = KEYS[c.agreement];
        const lock = (await this.admin.data(ModelAgreementDocument, { key })).agreement.lockVersion;
        const change =
          key === 'OPS' ? { metricId: this.metric.SYSTEM_AVAILABILITY, target: [99.0, 99.5, 99.7, 99.8][c.target] } : { metricId: this.metric.HANDOFF_VOLUME, target: [1, 2, 3, 5][c.target] };
        const proposed = this.outcome(
          'proposeAmendment',
          await this.head(key, 'PROVIDER').request(ProposeAmendmentDocument, {
            input: {
              agreementId: this.ids[key],
              expectedVersion: lock,
              effectiveMonth: c.next ? addMonths(this.month, 1) : this.month,
              reason: 'New terms',
              changeObjectives: [change],
              ...(c.charge ? { terms: { monthlyCharge: c.charge } } : {}),
            },
          }),
          (x) => x.proposeAmendment,
        );
        const a = proposed?.proposeAmendment.amendment;
        if (a) this.outcome('approveAmendment', await this.head(key, 'CUSTOMER').request(ApproveAmendmentDocument, { input: { id: a.id, expectedVersion: a.version } }), (x) => x.approveAmendment);
        return;
      }
      case 'suspend':
      case 'resume': {
        const key = KEYS[c.agreement];
        const lock = (await this.admin.data(ModelAgreementDocument, { key })).agreement.lockVersion;
        const input = { id: this.ids[key], expectedVersion: lock, reason: `model ${c.kind}` };
        // Issue 16: one party's head asks, the other's approves; only the approval changes the months scored.
        const asked =
          c.kind === 'suspend'
            ? this.outcome('suspend', await this.head(key, 'CUSTOMER').request(SuspendAgreementDocument, { input }), (x) => x.suspendAgreement)
            : this.outcome('resume', await this.head(key, 'PROVIDER').request(ResumeAgreementDocument, { input }), (x) => x.resumeAgreement);
        const pending = asked ? (await this.admin.data(AgreementLifecycleDocument, { key })).agreement.pendingLifecycleRequest : null;
        if (pending) {
          const decider = this.head(key, c.kind === 'suspend' ? 'PROVIDER' : 'CUSTOMER');
          this.outcome(`approve ${c.kind}`, await decider.request(ApproveLifecycleRequestDocument, { input: { id: pending.id, expectedVersion: pending.version } }), (x) => x.approveLifecycleRequest);
        }
        return;
      }
      case 'handoffs': {
        const key = KEYS[c.agreement];
        const month = this.pickOf(this.eventMonths(), c.pick);
        if (!month) return;
        const events = [];
        const mine = this.events.filter((e) => e.agreement === key);
        for (let i = 0; i < c.n; i++) {
          // A re-sent event updates its earlier self, and may move it to another month.
          const resent = i === 0 && c.resend !== null ? this.pickOf(mine, c.resend) : undefined;
          const externalId = resent?.externalId ?? `${key}-${this.events.length + 1}`;
          if (!resent) this.events.push({ externalId, agreement: key });
          const handedOffAt = this.instantIn(month, (c.day + i) % 28);
          const answered = new Date(Math.min(Date.parse(handedOffAt) + 2 * HOUR, this.now)).toISOString();
          const rejected = c.rejected && i === 0;
          events.push({
            externalId,
            agreementId: this.ids[key],
            stage: 'lead',
            handedOffAt,
            respondedAt: answered,
            ...(rejected ? { rejectedAt: answered, rejectionReason: 'duplicate' } : { acceptedAt: answered }),
          });
        }
        if (c.resend === null) this.touched = { key, month };
        this.outcome(
          `handoffs ${month === this.month ? 'running' : 'ended'} month`,
          await this.as(this.integrations[key]).request(RecordHandoffEventsDocument, { input: { source: 'crm', events } }),
          (x) => x.recordHandoffEvents,
        );
        return;
      }
      case 'escalate': {
        const key = KEYS[c.agreement];
        const month = this.pickOf(this.eventMonths(), c.pick);
        if (!month) return;
        const r = await this.head(key, 'CUSTOMER').request(OpenEscalationDocument, {
          input: { agreementId: this.ids[key], severity: c.severity, title: 'Down', description: 'It is down', openedAt: this.instantIn(month, c.day) },
        });
        const d = this.outcome('openEscalation', r, (x) => x.openEscalation);
        this.touched = { key, month };
        if (d?.openEscalation.escalation)
          this.escalations.push({
            id: d.openEscalation.escalation.id,
            version: d.openEscalation.escalation.version,
            status: d.openEscalation.escalation.status,
            key,
            month: d.openEscalation.escalation.month,
          });
        return;
      }
      case 'answerEscalation': {
        const e = this.pickOf(
          this.escalations.filter((x) => x.status !== 'RESOLVED'),
          c.pick,
        );
        if (!e) return;
        this.touched = { key: e.key, month: e.month };
        const input = { id: e.id, expectedVersion: e.version, ...(c.resolve ? { resolution: 'Fixed' } : {}) };
        const d = c.resolve
          ? this.outcome('resolveEscalation', await this.admin.request(ResolveEscalationDocument, { input }), (x) => x.resolveEscalation)?.resolveEscalation.escalation
          : this.outcome('acknowledgeEscalation', await this.admin.request(AcknowledgeEscalationDocument, { input }), (x) => x.acknowledgeEscalation)?.acknowledgeEscalation.escalation;
        if (d) Object.assign(e, { version: d.version, status: d.status });
        return;
      }
      case 'reopen': {
        const key = KEYS[c.agreement];
        // Aimed at months readers saw closed (reopening any other is refused).
        const closed = [...this.frozen.keys()].filter((k) => k.startsWith(`${key}|`)).map((k) => k.slice(key.length + 1));
        const month = this.pickOf(closed.length ? closed.sort(compareMonths) : this.ended(), c.pick);
        if (!month) return;
        this.touched = { key, month };
        const input = { agreementId: this.ids[key], month, reason: `Late data for ${month}` };
        const requested = this.outcome(
          `reopen${c.byHeads ? ' (request)' : ' (admin)'}`,
          await (c.byHeads ? this.head(key, 'PROVIDER') : this.admin).request(RequestMonthReopeningDocument, { input }),
          (x) => x.requestMonthReopening,
        );
        const reopening = requested?.requestMonthReopening.reopening;
        // A month readers see closed can be reopened (the scheduler late or not).
        if (closed.includes(month)) expect(reopening, `reopening ${key} ${month}, which readers saw closed`).toBeTruthy();
        if (reopening && c.byHeads) {
          this.outcome(
            'reopen (approve)',
            await this.head(key, 'CUSTOMER').request(ApproveMonthReopeningDocument, { input: { id: reopening.id, expectedVersion: reopening.version } }),
            (x) => x.approveMonthReopening,
          );
        }
        if (reopening) this.frozen.delete(`${key}|${month}`);
        return;
      }
    }
  }

  /** The closes, credit entries and ledger months as stored, for a failure's message. */
  async dump(): Promise<string> {
    const sql = sqlOf(this.s.app.orm.em.fork());
    const name = new Map(Object.entries(this.ids).map(([k, v]) => [v, k]));
    const rows = async (q: string) => (await sql.rows<Record<string, unknown>>(q)).map((r) => JSON.stringify({ ...r, agreement_id: name.get(String(r.agreement_id)) })).join('\n');
    return [
      await rows('select agreement_id, month, closed_at, cause, late_data_at, reopened_at from month_close order by agreement_id, month, closed_at'),
      await rows('select agreement_id, month, kind, percent, amount, delta, posted_at from credit_entry order by agreement_id, month, posted_at'),
      await rows(
        'select agreement_id, month, phase, closed, closed_at, late_data_at, status, credit_amount, report_status, computed_at, valid_until, deleted from ledger_month order by agreement_id, month',
      ),
      await rows('select agreement_id, month, metric_code, input_value, status from ledger_objective where deleted = false order by agreement_id, month, position'),
      await rows('select agreement_id, month, severity, opened_at, response_hours, response_target_hours from escalation order by opened_at'),
    ].join('\n--\n');
  }

  async expectRebuildEqual(): Promise<void> {
    const { differences } = await compareWithRebuild(this.s.app.orm.em.fork(), new Date(this.now));
    expect(differences, `the kept ledger differs from a rebuild at ${this.iso}`).toEqual([]);
  }

  /** What a reader sees of every month, against the invariants. */
  async expectReaderInvariants(only: { key: Key; month: Month } | null = null): Promise<void> {
    for (const key of only ? [only.key] : KEYS) {
      const months = only ? [only.month] : monthRange(FIRST, addMonths(this.month, 1));
      // Read together: one round trip's wait for the lot.
      const [ledger, ...cards] = await Promise.all([
        this.admin.data(CreditLedgerDocument, { filter: { agreementId: this.ids[key] }, first: 200 }),
        ...months.map((month) => this.admin.data(ModelMonthDocument, { key, month })),
      ]);
      const entries = ledger.creditLedger.edges.map((e) => e.node);
      for (const [i, month] of months.entries()) {
        const card = cards[i].agreement.scorecard;
        const where = `${key} ${month} read at ${this.iso}: ${JSON.stringify(card)}`;
        const own = entries.filter((e) => e.month === month);
        if (!card.measured) {
          expect(own.length === 0 || card.phase === null, where).toBe(true);
          continue;
        }
        const [y, m] = month.split('-').map(Number);
        const endsAt = Date.UTC(y, m, 1);
        // Rule 0: nothing of a month that has not ended is breached, no-data or credited.
        if (this.now < endsAt) {
          expect(card.phase, where).toBe('RUNNING');
          expect(card.creditAmount, where).toBe(0);
          expect(
            card.objectives.filter((o) => o.status !== 'PENDING'),
            where,
          ).toEqual([]);
          expect(own, where).toEqual([]);
          continue;
        }
        expect(card.phase, where).not.toBe('RUNNING');
        // A read reflects every transition up to its instant, the scheduler late or not.
        const manual = card.objectives.some((o) => o.metric.source === 'MANUAL');
        // Closed by now: acknowledged (or no MANUAL objective), once past its due instant.
        if ((card.report?.status === 'ACKNOWLEDGED' || !manual) && card.dueAt && this.now > Date.parse(card.dueAt)) expect(card.phase, `${where}: closed by now`).toBe('CLOSED');
        if (card.phase !== 'CLOSED') continue;
        // Frozen until a reopening, whatever arrives later (only the late-data mark may appear).
        const k = `${key}|${month}`;
        const shown = frozenView(card);
        const before = this.frozen.get(k);
        if (before) {
          expect(shown, `${where}: changed while closed`).toBe(before.shown);
          if (before.lateDataAt) expect(card.lateDataAt, where).toBe(before.lateDataAt);
        }
        this.frozen.set(k, { shown, lateDataAt: card.lateDataAt });
        // Its credit entries: one CLOSE first, then adjustments, adding up to the credit shown. A
        // close that reads show (its instant passed) is posted when the ledger records it: by the
        // next write to the month or the next scheduler tick; once the scheduler has run at this
        // instant, every closed month has its entries.
        if (!own.length && this.tickedAt !== this.now) continue;
        expect(
          own.map((e) => e.kind),
          where,
        ).toEqual(['CLOSE', ...own.slice(1).map(() => 'ADJUSTMENT')]);
        const sum = own.reduce((a, e) => a + e.delta, 0);
        expect(Math.abs(sum - card.creditAmount), `${where}: entries ${JSON.stringify(own)}`).toBeLessThan(1e-6);
        expect(own[own.length - 1].amount, where).toBeCloseTo(card.creditAmount, 9);
      }
    }
  }
}

/** The parts of a closed month's scorecard that are frozen. */
function frozenView(card: Scorecard): string {
  return JSON.stringify([card.closedAt, card.score, card.status, card.creditPercent, card.creditAmount, card.objectives.map((o) => [o.objectiveId, o.value, o.status, o.attainment, o.excused])]);
}

/** Runs one sequence on a fresh server; the log of what happened is attached to any failure. */
async function runSequence(engine: Engine, commands: Command[], totals: Map<string, number>, options: { slowLowResponse?: boolean } = {}): Promise<void> {
  const t0 = Date.now();
  const w = await World.create(engine, options);
  const time = (k: string, since: number) => totals.set(`ms ${k}`, (totals.get(`ms ${k}`) ?? 0) + Date.now() - since);
  time('setup', t0);
  try {
    for (const c of commands) {
      let t = Date.now();
      await w.apply(c);
      time(c.kind, t);
      t = Date.now();
      if (process.env.LEDGER_MODEL_DUMP === '2') w.log.push((await w.dump()).split('\n--\n')[0]);
      if (w.changed) await w.expectReaderInvariants(w.touched);
      time('invariants', t);
    }
    // Everything that time alone still brings, then the final comparison.
    w.now += 40 * DAY;
    await w.expectRebuildEqual();
    await w.apply({ kind: 'tick' });
    await w.expectReaderInvariants();
    await w.expectRebuildEqual();
  } catch (e) {
    (e as Error).message = `${(e as Error).message}\n--- sequence on ${engine} ---\n${w.log.join('\n')}\n--- ledger ---\n${await w.dump()}`;
    throw e;
  } finally {
    if (process.env.LEDGER_MODEL_LOG === '1') console.info(`--- sequence on ${engine} ---\n${w.log.join('\n')}${process.env.LEDGER_MODEL_DUMP === '1' ? `\n--- ledger ---\n${await w.dump()}` : ''}`);
    for (const [k, n] of w.outcomes) totals.set(k, (totals.get(k) ?? 0) + n);
    await w.s.close();
  }
}

describe.each(engines())('score ledger, model-based (%s)', (engine) => {
  it.each(EXAMPLES.map((commands, i) => [i + 1, commands] as const))('replays counterexample %i of a bug the model found', async (_, commands) => {
    await runSequence(engine, [...commands], new Map());
  });

  it.each(KNOWN_BUGS.map((commands, i) => [i + 1, commands] as const))(
    'replays counterexample %i of a deadline passing between a close and its recording (scored at the close instant)',
    async (_, commands) => {
      await runSequence(engine, [...commands], new Map(), { slowLowResponse: true });
    },
  );

  it(`equals a rebuild, and shows readers frozen closed months, after random sequences of writes, ticks and clock moves (seed ${SEED}, ${RUNS} runs from ${FIRST})`, async () => {
    const totals = new Map<string, number>();
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { minLength: 10, maxLength: 25 }), (commands) => runSequence(engine, commands, totals)),
      { seed: SEED, numRuns: RUNS, endOnFailure: process.env.LEDGER_MODEL_SHRINK !== '1', verbose: 1 },
    );
    // The commands did something: most kinds succeeded at least once over the runs.
    const ok = [...totals].filter(([k]) => k.endsWith(': ok')).map(([k]) => k.slice(0, -4));
    console.info(`ledger model on ${engine}: ${RUNS} runs in ${Math.round((Date.now() - started) / 1000)} s; outcomes ${JSON.stringify(Object.fromEntries([...totals].sort()))}`);
    for (const kind of ['submit', 'acknowledge', 'handoffs ended month', 'openEscalation', 'approveAmendment']) expect(ok, kind).toContain(kind);
  }, 600_000);
});

describe.each(engines().filter((e) => e === 'postgresql'))('score ledger, concurrent writers of one agreement-month (%s)', (engine) => {
  let w: World;
  beforeAll(async () => {
    w = await World.create(engine);
  });
  afterAll(async () => {
    await w?.s.close();
  });

  const entriesOf = async (key: Key, month: Month) =>
    (await w.s.data(CreditLedgerDocument, { filter: { agreementId: w.ids[key], from: month, to: month }, first: 100 })).creditLedger.edges.map((e) => e.node);

  it('stays equal to a rebuild, with exactly one CLOSE entry a month, when handoff batches, an acknowledgement, a tick and a reopening race', async () => {
    for (let round = 0; round < 3; round++) {
      const month = addMonths(FIRST, round);
      // Past the month's due instant, the provider reports (late) a breach (99.0 < 99.5).
      w.now = Date.parse(`${addMonths(month, 1)}-15T09:00:00Z`);
      await w.apply({ kind: 'submit', pick: 0, value: 99.0 });
      // An hour later the customer acknowledges (the month closes) while automation sends events
      // for that very month, on both agreements, and the scheduler ticks: whichever commits after
      // the close is late data, kept and marked, never counted.
      w.now += HOUR;
      const batch = (agreement: number, day: number): Command => ({ kind: 'handoffs', agreement, pick: 1, day, n: 2, rejected: day % 2 === 0, resend: null });
      await Promise.all([
        w.apply({ kind: 'acknowledge', pick: 0 }),
        ...[3, 4, 5, 6].map((day) => w.apply(batch(0, day))),
        w.apply(batch(1, 7)),
        w.apply({ kind: 'tick' }),
        w.apply({ kind: 'escalate', agreement: 0, pick: 1, day: 8, severity: 'HIGH' }),
      ]);
      await w.expectReaderInvariants();
      expect((await entriesOf('OPS', month)).map((e) => e.kind)).toEqual(['CLOSE']);
      await w.expectRebuildEqual();

      // Later, late data races a reopening of the closed month and another tick.
      w.now += 3 * DAY;
      await Promise.all([w.apply({ kind: 'reopen', agreement: 0, pick: 0, byHeads: false }), ...[10, 11, 12].map((day) => w.apply(batch(0, day))), w.apply({ kind: 'tick' })]);
      await w.apply({ kind: 'tick' });
      // Reopened, its report is under review again: silence past the fresh acceptance window
      // closes it again, and the scheduler posts the adjustment.
      w.now += 12 * DAY;
      await w.apply({ kind: 'tick' });
      await w.expectReaderInvariants();
      const entries = await entriesOf('OPS', month);
      expect(entries.map((e) => e.kind)).toEqual(['CLOSE', 'ADJUSTMENT']);
      await w.expectRebuildEqual();
    }
    // The months with no MANUAL objective closed at their due instants: one CLOSE each.
    w.now += 40 * DAY;
    await w.apply({ kind: 'tick' });
    await w.expectReaderInvariants();
    for (const month of monthRange(FIRST, addMonths(FIRST, 2))) expect((await entriesOf('LEADS', month)).filter((e) => e.kind === 'CLOSE')).toHaveLength(1);
    await w.expectRebuildEqual();
    // Every write went through (retried where PostgreSQL refused a serialisation), none was lost.
    expect([...w.outcomes.keys()].filter((k) => !k.endsWith(': ok'))).toEqual([]);
  });
});
