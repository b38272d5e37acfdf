/**
 * The probe and the digest on a real PostgreSQL 16 under a known load, run as a pg_monitor role
 * (not a superuser), with pg_stat_statements preloaded.
 */
import type { Client } from 'pg';
import { startPostgres, type TestPostgres } from '../../support/postgres';
import { METRIC_NAMES } from '../../../lambda/db-health/contract';
import { collectDigest } from '../../../lambda/db-health/digest';
import { runProbe, type ProbeOptions, type Queryable } from '../../../lambda/db-health/probe';
import { INDEX_FLOOR, MONITOR, PREFIXES, createFixture, startLoad, waitFor } from './fixture';

const options = (o: Partial<ProbeOptions> = {}): ProbeOptions => ({
  longQuerySeconds: 1,
  appSchema: 'public',
  servicePrefixes: PREFIXES,
  unusedIndexMinBytes: INDEX_FLOOR,
  ...o,
});

/** Counts the statements sent through it. */
function counting(db: Queryable): Queryable & { count: number } {
  const c = {
    count: 0,
    query(text: string, values?: unknown[]) {
      c.count += 1;
      return db.query(text, values);
    },
  };
  return c;
}

let pg: TestPostgres;
let monitor: Client;

beforeAll(async () => {
  pg = await startPostgres(['-c', 'max_connections=40', '-c', 'shared_preload_libraries=pg_stat_statements']);
  await createFixture(pg, { statStatements: true });
  monitor = await pg.connect(MONITOR);
});
afterAll(async () => {
  await monitor?.end();
  await pg?.stop();
});

describe('probe under a known load', () => {
  let load: { stop(): Promise<void> };
  beforeAll(async () => {
    load = await startLoad(pg, monitor, 1.5);
  });
  afterAll(async () => load?.stop());

  test('counts connections by state, leaving the probe itself out', async () => {
    const { metrics } = await runProbe(monitor, options());
    expect(metrics.connections_total).toBe(3);
    expect(metrics.connections_active).toBe(1);
    expect(metrics.connections_idle).toBe(1);
    expect(metrics.connections_idle_in_transaction).toBe(1);
    expect(metrics.connections_max).toBe(40);
  });

  test('counts the pg_sleep as long-running only past the threshold', async () => {
    expect((await runProbe(monitor, options({ longQuerySeconds: 1 }))).metrics.long_running_queries).toBe(1);
    expect((await runProbe(monitor, options({ longQuerySeconds: 3600 }))).metrics.long_running_queries).toBe(0);
  });

  test('reports the age of the oldest open transaction', async () => {
    const { metrics } = await runProbe(monitor, options());
    // The idle-in-transaction session began before the sleep, which has run for over 1.5 s.
    expect(metrics.oldest_transaction_seconds).toBeGreaterThan(1.5);
    const r = await monitor.query(
      "SELECT extract(epoch FROM now() - xact_start)::float8 AS s FROM pg_stat_activity WHERE state = 'idle in transaction'",
    );
    expect(metrics.oldest_transaction_seconds).toBeGreaterThanOrEqual(r.rows[0].s - 5);
  });

  test('counts only the unused, non-unique index above the size floor', async () => {
    expect((await runProbe(monitor, options())).metrics.unused_indexes).toBe(1);
    // With no floor the tiny never-scanned gt_jobs_name_idx counts too; the unique one never does.
    expect((await runProbe(monitor, options({ unusedIndexMinBytes: 0 }))).metrics.unused_indexes).toBe(2);
  });

  test('counts app-schema tables without a registered prefix (not partitions, other schemas or extension tables)', async () => {
    // legacy_things and gtxfoo; not events_2026 (a partition), audit.log, ext_owned or the prefixed ones.
    expect((await runProbe(monitor, options())).metrics.tables_without_service_prefix).toBe(2);
    // A prefix list that covers "le" makes legacy_things compliant.
    expect((await runProbe(monitor, options({ servicePrefixes: [...PREFIXES, 'legacy_'] }))).metrics.tables_without_service_prefix).toBe(1);
  });

  test('a prefix is compared as text, never as a pattern (no injection, no wildcard)', async () => {
    const r = await runProbe(monitor, options({ servicePrefixes: ['gt_', 'ag_'] }));
    expect(r.metrics.tables_without_service_prefix).toBe(2);
    await expect(runProbe(monitor, options({ servicePrefixes: ["x_'); DROP TABLE gt_jobs; --"] }))).rejects.toThrow(/servicePrefixes/);
  });

  test('size, buffer hit ratio and xid age match the server', async () => {
    const { metrics } = await runProbe(monitor, options());
    const r = await monitor.query(
      "SELECT pg_database_size('app') AS size, (SELECT max(age(datfrozenxid)) FROM pg_database) AS xid",
    );
    expect(metrics.database_size_bytes).toBe(Number(r.rows[0].size));
    expect(metrics.database_size_bytes).toBeGreaterThan(1_000_000);
    expect(metrics.xid_age).toBe(Number(r.rows[0].xid));
    expect(metrics.xid_age).toBeGreaterThan(0);
    expect(metrics.buffer_hit_ratio).toBeGreaterThan(0);
    expect(metrics.buffer_hit_ratio).toBeLessThanOrEqual(1);
  });

  test('a primary without replicas has no replication_lag_seconds; every other metric is a number', async () => {
    const { metrics, inRecovery } = await runProbe(monitor, options());
    expect(inRecovery).toBe(false);
    expect('replication_lag_seconds' in metrics).toBe(false);
    for (const name of METRIC_NAMES.filter((n) => n !== 'replication_lag_seconds')) {
      expect(typeof metrics[name]).toBe('number');
      expect(Number.isFinite(metrics[name])).toBe(true);
    }
  });

  test('sends exactly one statement per run', async () => {
    const db = counting(monitor);
    const r = await runProbe(db, options());
    expect(db.count).toBe(1);
    expect(r.queries).toBe(1);
  });
});

test('an idle server reads zero connections and no long-running queries', async () => {
  await waitFor(monitor, "SELECT count(*) = 0 AS ok FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()");
  const { metrics } = await runProbe(monitor, options());
  expect(metrics.connections_total).toBe(0);
  expect(metrics.long_running_queries).toBe(0);
  expect(metrics.connections_idle_in_transaction).toBe(0);
  expect(metrics.oldest_transaction_seconds).toBe(0);
});

describe('digest data', () => {
  beforeAll(async () => {
    // Application traffic by another role, so that pg_stat_statements has something to rank
    // (sequential scans: the unused index must stay unused).
    await pg.query('SELECT pg_stat_statements_reset()', [], 'app');
    const app = await pg.connect({ database: 'app' });
    try {
      for (let i = 0; i < 30; i++) await app.query('SELECT count(*) FROM ag_events WHERE length(payload) > $1', [i]);
      await app.query('SELECT count(*) FROM gt_jobs');
    } finally {
      await app.end();
    }
  });

  test('collects top statements, unused indexes, largest tables and unprefixed tables in two statements', async () => {
    const db = counting(monitor);
    const d = await collectDigest(db, options());
    expect(db.count).toBe(2);
    expect(d.queries).toBe(2);
    expect(d.database).toBe('app');
    if (!d.statements.available) throw new Error(`statements unavailable: ${d.statements.reason}`);
    expect(d.statements.top.length).toBeGreaterThan(0);
    expect(d.statements.since).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(d.statements.top.length).toBeLessThanOrEqual(5);
    const totals = d.statements.top.map((s) => s.totalMs);
    expect([...totals].sort((a, b) => b - a)).toEqual(totals);
    const kinds = d.statements.top.find((s) => s.query.includes('FROM ag_events WHERE length(payload)'));
    expect(kinds).toBeDefined();
    expect(kinds!.calls).toBe(30);
    expect(kinds!.meanMs).toBeCloseTo(kinds!.totalMs / 30, 6);
    // The monitoring role's own statements are not the application's.
    expect(d.statements.top.some((s) => s.query.includes('pg_stat_activity'))).toBe(false);

    expect(d.unusedIndexes.map((i) => i.index)).toEqual(['ag_events_kind_idx']);
    expect(d.unusedIndexes[0].sizeBytes).toBeGreaterThanOrEqual(INDEX_FLOOR);
    expect(d.largestTables[0]).toMatchObject({ schema: 'public', table: 'ag_events' });
    expect(d.largestTables[0].totalBytes).toBeGreaterThan(1_000_000);
    expect(d.unprefixedTables.map((t) => t.table)).toEqual(['gtxfoo', 'legacy_things']);
  });

  test('without the extension in the database, says so and still sends the rest (one statement)', async () => {
    const other = await pg.connect({ ...MONITOR, database: 'postgres' });
    try {
      const db = counting(other);
      const d = await collectDigest(db, options());
      expect(db.count).toBe(1);
      expect(d.statements.available).toBe(false);
      expect(d.statements.available === false && d.statements.reason).toMatch(/not installed/);
      expect(d.database).toBe('postgres');
    } finally {
      await other.end();
    }
  });
});
