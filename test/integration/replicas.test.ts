import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DepartmentScorecardDocument, MeasurementFactsDocument, ReportableObjectivesDocument, SubmitReportDocument } from '../generated/graphql';
import { generateAgreements } from '../support/generate';
import { replicaClusterUnavailable, startReplicaCluster, type ReplicaCluster } from '../support/replica-cluster';
import { Role, startServer, type Client, type TestServer } from '../support/server';

/**
 * Read replicas (issue 18) against a real streaming replica: a primary and a replica of it made by
 * the test set-up (test/support/replica-cluster.ts), the server on the primary with
 * DATABASE_READ_URLS naming the replica. With the replica's replay paused, what a principal reads
 * tells where it was read: the replica still shows the state before the write.
 */
const unavailable = replicaClusterUnavailable();
if (unavailable) console.log(`replicas.test.ts skipped: ${unavailable}`);

describe.skipIf(unavailable !== null)('read replicas on postgresql', () => {
  let cluster: ReplicaCluster;
  let s: TestServer;
  let analyst: Client;
  let analystToken: string;
  const name = `tsla_replica_${randomBytes(4).toString('hex')}`;
  // One agreement-month whose report the admin corrects: STATEMENT_ACCURACY 99.2 → 99.95.
  const filter = { from: '2025-03', to: '2025-03', provider: 'R-P0' };

  /** The analyst's (or another client's) facts row of STATEMENT_ACCURACY for R-A0 in March, with where it was read and what the replica received. */
  async function accuracy(client: Client, headers: Record<string, string> = {}) {
    const before = cluster.replicaStatements(name);
    const r = await client.request(MeasurementFactsDocument, { filter, first: 10 }, headers);
    expect(r.errors).toBeUndefined();
    const row = r.data!.measurementFacts.edges.map((e) => e.node).find((n) => n.metric === 'STATEMENT_ACCURACY')!;
    return { value: row.value, revision: row.reportRevision, source: r.headers.get('x-read-source'), replicaStatements: cluster.replicaStatements(name) - before };
  }

  async function correct(value: number, narrative: string): Promise<number> {
    const objectives = (await s.data(ReportableObjectivesDocument, { key: 'R-A0', at: '2025-03' })).agreement;
    const id = (code: string) => objectives.effectiveObjectives.find((o) => o.metric.code === code)!.id;
    const before = cluster.replicaStatements(name);
    const r = await s.request(SubmitReportDocument, {
      input: {
        agreementId: objectives.id,
        month: '2025-03',
        narrative,
        values: [
          { objectiveId: id('STATEMENT_ACCURACY'), value },
          { objectiveId: id('MTTR'), value: 1 },
        ],
      },
    });
    expect(r.errors).toBeUndefined();
    expect(r.data!.submitReport.userErrors).toEqual([]);
    expect(r.headers.get('x-read-source')).toBe('primary');
    return cluster.replicaStatements(name) - before;
  }

  beforeAll(async () => {
    cluster = await startReplicaCluster();
    s = await startServer('postgresql', {
      seed: true,
      database: { adminUrl: cluster.primaryAdminUrl, name },
      env: { DATABASE_READ_URLS: cluster.replicaUrl(name), READ_YOUR_WRITES_SECONDS: '600' },
    });
    analystToken = await s.tokenFor(Role.ANALYST);
    analyst = s.as(analystToken);
    await generateAgreements(s.app.orm.em.fork(), 'R', 2, '2025-01', '2025-06');
    await cluster.caughtUp();
  });
  afterAll(async () => {
    await s?.close();
    await cluster?.stop();
  });

  it('serves a principal’s facts from the replica, which shows a write only once it has replayed it', async () => {
    const start = await accuracy(analyst);
    expect(start).toMatchObject({ value: 99.2, revision: 1, source: 'replica' });
    expect(start.replicaStatements).toBe(2);

    await cluster.pauseReplay();
    try {
      // A lagging replica does not hold up a write, and a mutation sends nothing to it.
      expect(await correct(99.95, 'corrected')).toBe(0);
      // Another principal reads the replica: still the state before the write.
      expect(await accuracy(analyst)).toMatchObject({ value: 99.2, revision: 1, source: 'replica', replicaStatements: 2 });
      // The writer reads its own write, from the primary (read-your-writes), the replica untouched.
      expect(await accuracy(s)).toEqual({ value: 99.95, revision: 2, source: 'primary', replicaStatements: 0 });
      // Any client may ask for the primary.
      expect(await accuracy(analyst, { 'x-read-from': 'primary' })).toEqual({ value: 99.95, revision: 2, source: 'primary', replicaStatements: 0 });
    } finally {
      await cluster.resumeReplay();
    }
    await cluster.caughtUp();
    expect(await accuracy(analyst)).toMatchObject({ value: 99.95, revision: 2, source: 'replica', replicaStatements: 2 });
  });

  it('reads scorecards and the CSV export from the replica too', async () => {
    const scorecard = async () => {
      const before = cluster.replicaStatements(name);
      const r = await analyst.request(DepartmentScorecardDocument, { code: 'R-P1', from: '2025-03', to: '2025-03', as: 'PROVIDER' as never });
      expect(r.errors).toBeUndefined();
      return { score: r.data!.department!.scorecard.score, source: r.headers.get('x-read-source'), replicaStatements: cluster.replicaStatements(name) - before };
    };
    const csv = async () => {
      const before = cluster.replicaStatements(name);
      const res = await fetch(`${s.url}/export/measurements.csv?from=2025-03&to=2025-03&provider=R-P1`, { headers: { authorization: `Bearer ${analystToken}` } });
      expect(res.status).toBe(200);
      const lines = (await res.text()).trim().split('\n');
      return { lines: lines.length, source: res.headers.get('x-read-source'), replicaStatements: cluster.replicaStatements(name) - before };
    };
    // The ledger's horizon, the three roll-up statements of a department's scorecard, then the keys
    // of its agreements (`byAgreement { agreement { key } }`: plain heads, read where the roll-up was).
    const first = await scorecard();
    expect(first).toEqual({ score: 91.566164154, source: 'replica', replicaStatements: 5 });
    // The header and R-A1's three objectives of March: the snapshot instant, then one page.
    expect(await csv()).toEqual({ lines: 4, source: 'replica', replicaStatements: 2 });

    await cluster.pauseReplay();
    try {
      // A new provider's agreement, written while the replica is paused: the analyst's reads do not see it yet.
      await generateAgreements(s.app.orm.em.fork(), 'S', 1, '2025-01', '2025-06');
      const lagging = await accuracyOf('S-P0');
      expect(lagging).toEqual({ rows: 0, source: 'replica' });
    } finally {
      await cluster.resumeReplay();
    }
    await cluster.caughtUp();
    expect(await accuracyOf('S-P0')).toEqual({ rows: 3, source: 'replica' });
    expect(await scorecard()).toEqual(first);
  });

  async function accuracyOf(provider: string) {
    const r = await analyst.request(MeasurementFactsDocument, { filter: { ...filter, provider }, first: 10 });
    expect(r.errors).toBeUndefined();
    return { rows: r.data!.measurementFacts.edges.length, source: r.headers.get('x-read-source') };
  }

  it('refuses a malformed X-Read-From, naming the header', async () => {
    const r = await analyst.request(MeasurementFactsDocument, { filter, first: 1 }, { 'x-read-from': 'replica-please' });
    expect(r.status).toBe(400);
    expect(r.errors?.[0]).toMatchObject({ message: 'X-Read-From: expected primary (or no header), received "replica-please"', extensions: { code: 'BAD_REQUEST' } });
  });
});
