/**
 * A known database for the db-health tests: an `app` database with prefixed and unprefixed
 * tables, a used, an unused and a tiny index, a partition and an extension-owned table that must
 * not count, and a `monitor` login role with pg_monitor (not a superuser), as on RDS.
 */
import type { Client } from 'pg';
import type { TestPostgres } from '../../support/postgres';

export const MONITOR = { user: 'monitor', password: 'monitor-pw', database: 'app' };

/** Prefixes the fixture is judged against (a subset of the registry is enough). */
export const PREFIXES = ['gt_', 'ag_'];

/** Size floor under which an unused index is not counted: between the tiny and the big index. */
export const INDEX_FLOOR = 16_384;

export async function createFixture(pg: TestPostgres, opts: { statStatements?: boolean } = {}): Promise<void> {
  await pg.query('CREATE DATABASE app');
  await pg.query(`CREATE ROLE ${MONITOR.user} LOGIN PASSWORD '${MONITOR.password}' IN ROLE pg_monitor`);
  const admin = await pg.connect({ database: 'app' });
  try {
    if (opts.statStatements) await admin.query('CREATE EXTENSION pg_stat_statements');
    await admin.query(`
      CREATE TABLE gt_jobs (id bigserial PRIMARY KEY, name text NOT NULL);
      CREATE TABLE ag_events (id bigserial PRIMARY KEY, kind text NOT NULL, payload text);
      INSERT INTO ag_events (kind, payload) SELECT 'k' || (g % 50), repeat('x', 200) FROM generate_series(1, 5000) g;
      -- Never scanned, non-unique, well above the floor: the one unused index.
      CREATE INDEX ag_events_kind_idx ON ag_events (kind);
      -- Scanned below (must not count).
      CREATE INDEX ag_events_payload_idx ON ag_events (payload);
      -- Never scanned but unique (enforces a constraint; must not count).
      CREATE UNIQUE INDEX ag_events_uniq ON ag_events (id, kind);
      -- Never scanned but below the floor (an empty btree is one 8 KiB page).
      CREATE INDEX gt_jobs_name_idx ON gt_jobs (name);
      -- Without a registered prefix: counted.
      CREATE TABLE legacy_things (id int);
      -- "gt_" as a LIKE pattern would match "gtx..." ("_" is a wildcard); starts_with does not.
      CREATE TABLE gtxfoo (id int);
      -- A partitioned table with a prefix whose partition has none: the partition does not count.
      CREATE TABLE gt_events (at date NOT NULL) PARTITION BY RANGE (at);
      CREATE TABLE events_2026 PARTITION OF gt_events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
      -- Outside the application schema: not counted.
      CREATE SCHEMA audit;
      CREATE TABLE audit.log (id int);
      ANALYZE;
    `);
    if (opts.statStatements) {
      // An extension-owned table in the app schema (as PostGIS's spatial_ref_sys): not counted.
      await admin.query('CREATE TABLE ext_owned (id int); ALTER EXTENSION pg_stat_statements ADD TABLE ext_owned');
    }
  } finally {
    await admin.end();
  }
  // Use the payload index once, in a session that ends so that its statistics are flushed.
  const user = await pg.connect({ database: 'app' });
  try {
    await user.query('SET enable_seqscan = off');
    await user.query("SELECT count(*) FROM ag_events WHERE payload = 'nope'");
  } finally {
    await user.end();
  }
  await waitFor(pg, `SELECT idx_scan > 0 AS ok FROM pg_stat_user_indexes WHERE indexrelname = 'ag_events_payload_idx'`);
}

/** Polls `sql` (one boolean column `ok`) until it is true; gives up after a generous bound. */
export async function waitFor(db: TestPostgres | Client, sql: string, database = 'app'): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const r = 'stop' in db ? await db.query(sql, [], database) : await db.query(sql);
    if (r.rows[0]?.ok === true) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`condition never held: ${sql}`);
}

/**
 * The known load: one `pg_sleep` running, one session idle in a transaction, one idle session.
 * `observer` is an open session (e.g. the one the probe will use); through it, waits until the
 * server shows exactly these three other client sessions and the sleep is older than
 * `olderThanSeconds`, so no short-lived connection can blur the counts. `stop()` ends them.
 */
export async function startLoad(pg: TestPostgres, observer: Client, olderThanSeconds: number): Promise<{ stop(): Promise<void> }> {
  const idleInTx = await pg.connect({ database: 'app' });
  await idleInTx.query('BEGIN');
  await idleInTx.query('SELECT count(*) FROM gt_jobs');
  const idle = await pg.connect({ database: 'app' });
  await idle.query('SELECT 1');
  const sleeper = await pg.connect({ database: 'app' });
  const sleeping = sleeper.query('SELECT pg_sleep(600)').catch(() => undefined);
  await waitFor(
    observer,
    `SELECT count(*) FILTER (WHERE state = 'active' AND query LIKE 'SELECT pg_sleep%'
                               AND query_start < now() - interval '${olderThanSeconds} seconds') = 1
        AND count(*) FILTER (WHERE state = 'idle in transaction') = 1
        AND count(*) = 3 AS ok
       FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
  );
  return {
    async stop() {
      await pg.query(`SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND pid <> pg_backend_pid()`);
      await sleeping;
      await idleInTx.query('ROLLBACK');
      await Promise.all([idleInTx.end(), idle.end(), sleeper.end()]);
    },
  };
}
