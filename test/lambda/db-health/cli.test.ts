/**
 * The CLI as a person runs it: spawned through tsx with the .sql require hook (the npm script's
 * command line), against a real PostgreSQL 16 under a known load.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Client } from 'pg';
import { startPostgres, type TestPostgres } from '../../support/postgres';
import { METRIC_NAMES } from '../../../lambda/db-health/contract';
import { optionsFor, parseCli, renderTable } from '../../../lambda/db-health/cli';
import { MONITOR, createFixture, startLoad } from './fixture';

const REPO = path.resolve(__dirname, '..', '..', '..');
const TSX = path.join(REPO, 'node_modules', '.bin', 'tsx');

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO, env: { ...process.env, DATABASE_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The npm script's command: `tsx --require ./scripts/register-sql.cjs lambda/db-health/cli.ts`. */
const cli = (args: string[]) => run(TSX, ['--require', './scripts/register-sql.cjs', 'lambda/db-health/cli.ts', ...args]);

let pg: TestPostgres;
let observer: Client;
let load: { stop(): Promise<void> };

beforeAll(async () => {
  pg = await startPostgres(['-c', 'max_connections=30']);
  await createFixture(pg);
  observer = await pg.connect(MONITOR);
  load = await startLoad(pg, observer, 1.5);
});
afterAll(async () => {
  await load?.stop();
  await observer?.end();
  await pg?.stop();
});

test('--format json prints exactly one JSON object: the metric names mapped to numbers', async () => {
  const url = pg.url(MONITOR);
  const r = await cli(['--database-url', url, '--long-query-seconds', '1', '--format', 'json', '--env', 'dev']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const metrics = JSON.parse(lines[0]) as Record<string, unknown>;
  expect(Object.keys(metrics)).toEqual(METRIC_NAMES.filter((n) => n !== 'replication_lag_seconds'));
  for (const v of Object.values(metrics)) expect(typeof v).toBe('number');
  // The known load, as the CLI's own connection sees it: the sleeper, the idle-in-transaction
  // session, the idle session and the observer (idle).
  expect(metrics).toMatchObject({
    connections_total: 4,
    connections_active: 1,
    connections_idle: 2,
    connections_idle_in_transaction: 1,
    connections_max: 30,
    long_running_queries: 1,
    tables_without_service_prefix: 2, // dev registry: legacy_things and gtxfoo
  });
  expect(metrics.oldest_transaction_seconds).toBeGreaterThan(1.5);
  // The dev registry's unused-index floor is 1 MiB: the fixture's indexes are smaller.
  expect(metrics.unused_indexes).toBe(0);
});

test('the default threshold (the registry env\'s 300 s) does not count the pg_sleep', async () => {
  const r = await cli(['--database-url', pg.url(MONITOR), '--format', 'json']);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).long_running_queries).toBe(0);
});

test('npm run -s db-health is the same command and keeps stdout to the one object', async () => {
  const r = await run('npm', ['run', '-s', 'db-health', '--', '--database-url', pg.url(MONITOR), '--format', 'json', '--long-query-seconds', '1']);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).long_running_queries).toBe(1);
});

test('--format table prints every metric on its own line, and timing on stderr', async () => {
  const r = await cli(['--database-url', pg.url(MONITOR), '--long-query-seconds', '1']);
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^metric\s+value$/);
  for (const name of METRIC_NAMES) expect(r.stdout).toMatch(new RegExp(`^${name}\\s+\\S`, 'm'));
  expect(r.stdout).toMatch(/^long_running_queries\s+1$/m);
  expect(r.stdout).toMatch(/^replication_lag_seconds\s+- \(primary without replicas\)$/m);
  expect(r.stderr).toMatch(/1 query in [\d.]+ ms · registry: prod \(12 prefixes\)/);
});

test('--digest --format json prints the digest message', async () => {
  const r = await cli(['--database-url', pg.url(MONITOR), '--digest', '--format', 'json', '--env', 'dev']);
  expect(r.code).toBe(0);
  const m = JSON.parse(r.stdout);
  expect(m.kind).toBe('db-health-digest');
  expect(m.environment).toBe('dev');
  expect(m.data.unprefixedTables.map((t: { table: string }) => t.table)).toEqual(['gtxfoo', 'legacy_things']);
});

test.each<[string[], RegExp]>([
  [['--format', 'json'], /--database-url is required/],
  [['--database-url', 'postgres://x', '--format', 'xml'], /--format must be table or json \(got "xml"\)/],
  [['--database-url', 'postgres://x', '--env', 'qa'], /--env must be dev, staging or prod \(got "qa"\)/],
  [['--database-url', 'postgres://x', '--long-query-seconds', '0'], /--long-query-seconds must be a positive number \(got "0"\)/],
  [['--database-url', 'postgres://x', '--bogus'], /unknown option --bogus/],
  [['--database-url', 'http://monitor:s3cret@db:5432/app'], /--database-url must start with postgres:\/\/ or postgresql:\/\/ \(got "http:\/\/monitor:\*\*\*@db:5432\/app"\)/],
  [['--database-url', 'postgres://monitor:s3cret@db:0/app'], /the port in --database-url must be a port from 1 to 65535 \(got "0"\)/],
])('bad arguments %j exit 2 with one line on stderr and nothing on stdout', async (args, message) => {
  const r = await cli(args);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toContain('s3cret');
});

test('an unreachable database exits 1 with a message, not a stack', async () => {
  const r = await cli(['--database-url', 'postgres://monitor:x@127.0.0.1:1/app', '--format', 'json']);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^db-health: .*ECONNREFUSED/);
});

describe('in-process helpers', () => {
  test('parseCli defaults: table, prod', () => {
    expect(parseCli(['--database-url', 'postgres://x'])).toEqual({ databaseUrl: 'postgres://x', format: 'table', env: 'prod', longQuerySeconds: undefined, digest: false });
  });
  test('optionsFor reads the registry, schema and floor from lib/config', () => {
    const o = optionsFor('prod');
    expect(o.servicePrefixes).toHaveLength(12);
    expect(o.servicePrefixes).toContain('gt_');
    expect(o).toMatchObject({ longQuerySeconds: 300, appSchema: 'public', unusedIndexMinBytes: 1_048_576 });
    expect(optionsFor('dev', 7).longQuerySeconds).toBe(7);
  });
  test('renderTable shows a ratio with four decimals and sizes in bytes and IEC units', () => {
    const t = renderTable({
      connections_total: 1, connections_active: 1, connections_idle: 0, connections_idle_in_transaction: 0, connections_max: 100,
      long_running_queries: 0, oldest_transaction_seconds: 0.25, buffer_hit_ratio: 0.98765, database_size_bytes: 1073741824,
      unused_indexes: 0, tables_without_service_prefix: 0, xid_age: 10,
    });
    expect(t).toMatch(/^buffer_hit_ratio\s+0\.9877$/m);
    expect(t).toMatch(/^database_size_bytes\s+1073741824 \(1\.0 GiB\)$/m);
    expect(t).toMatch(/^oldest_transaction_seconds\s+0\.3 s$/m);
  });
});
