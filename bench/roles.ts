/**
 * Role-schema benchmark on an embedded PostgreSQL 16 (the test harness), the applier running as a
 * non-superuser CREATEROLE/CREATEDB role that owns the database, as the RDS master user does.
 *
 *   npx tsx --require ./scripts/register-sql.cjs bench/roles.ts [runs=5]
 *
 * Measures, as medians over `runs` (roles and database dropped between runs, so every "first"
 * apply really starts from nothing):
 *   - library: connect + apply + disconnect, every login role with a password (as the Lambda):
 *       first apply of the 12 seed services, no-op re-apply, first apply and re-apply of 200
 *       services, and the privileged step (extension + event trigger) on its own;
 *   - cli: the whole `npm run roles -- apply --env dev` command (a new Node process with tsx,
 *       config load, connect, apply) as a superuser on a local database: first and no-op, and
 *       tsx running an empty file, the start-up cost every command pays;
 *   - round trips per apply (counted by the applier).
 * Prints one JSON object and writes it to bench/results/roles.json.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyRoleSchema, type ApplyResult } from '../lambda/role-schema/apply';
import { buildDesired, MONITORING_ROLE, type DesiredState } from '../lambda/role-schema/desired';
import { DEFAULT_SERVICES, roleNames, type ServiceInput } from '../lib/config/service-registry';
import { startPostgres, type TestPostgres } from '../test/support/postgres';

const runs = Number(process.argv[2] ?? 5);
const APPLIER = 'bench_applier';
const APPLIER_PW = 'bench-applier-pw';

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { runs: s.length, medianMs: +q(0.5).toFixed(1), minMs: +s[0].toFixed(1), maxMs: +s[s.length - 1].toFixed(1) };
}

/** 200 services with prefixes `aa_` … (two letters each, none of the seeds'). */
function manyServices(n: number): ServiceInput[] {
  const out: ServiceInput[] = [];
  const a = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; out.length < n; i++) {
    const prefix = `z${a[Math.floor(i / 26) % 26]}${a[i % 26]}_`;
    out.push({ name: `svc-${i}`, prefix });
  }
  return out;
}

const password = (role: string) => `Bench-${role}-pw-0123456789`;

async function dropEverything(pg: TestPostgres, services: readonly ServiceInput[]): Promise<void> {
  for (const db of ['bench_seeds', 'bench_many', 'bench_cli']) await pg.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  const roles = [...services.flatMap((s) => Object.values(roleNames(s.prefix))), MONITORING_ROLE];
  await pg.query(roles.map((r) => `DROP ROLE IF EXISTS "${r}"`).join(';\n'));
}

async function timedApply(pg: TestPostgres, db: string, desired: DesiredState, user: { user: string; password: string }, steps: 'main' | 'privileged' | 'all'): Promise<{ ms: number; result: ApplyResult }> {
  const t = process.hrtime.bigint();
  const c = await pg.connect({ ...user, database: db });
  try {
    const result = await applyRoleSchema(c, desired, { steps });
    return { ms: Number(process.hrtime.bigint() - t) / 1e6, result };
  } finally {
    await c.end();
  }
}

async function library(pg: TestPostgres, services: readonly ServiceInput[], label: string) {
  const desired = buildDesired({ appSchema: 'public', services, password });
  const applier = { user: APPLIER, password: APPLIER_PW };
  const superuser = { user: pg.user, password: pg.password };
  const first: number[] = [];
  const again: number[] = [];
  const privileged: number[] = [];
  let firstResult: ApplyResult | undefined;
  let againResult: ApplyResult | undefined;
  for (let i = 0; i < runs; i++) {
    const db = `bench_${label}`;
    await dropEverything(pg, services);
    await pg.query(`CREATE DATABASE ${db} OWNER ${APPLIER}`);
    const f = await timedApply(pg, db, desired, applier, 'main');
    first.push(f.ms);
    firstResult = f.result;
    privileged.push((await timedApply(pg, db, desired, superuser, 'privileged')).ms);
    const a = await timedApply(pg, db, desired, applier, 'main');
    if (a.result.executed !== 0) throw new Error(`re-apply was not a no-op: ${a.result.executed} statements`);
    again.push(a.ms);
    againResult = a.result;
  }
  return {
    services: services.length,
    loginRoles: desired.roles.length,
    firstApply: { ...stats(first), statements: firstResult!.executed, roundTrips: firstResult!.roundTrips },
    noOpReapply: { ...stats(again), statements: againResult!.executed, roundTrips: againResult!.roundTrips },
    privilegedStep: stats(privileged),
  };
}

/** Wall time of tsx running an empty file: the process start-up every CLI run pays. */
function tsxBaseline(): number {
  const empty = path.join(os.tmpdir(), 'roles-bench-empty.ts');
  fs.writeFileSync(empty, 'export {};\n');
  const t = process.hrtime.bigint();
  execFileSync(process.execPath, [path.join('node_modules', 'tsx', 'dist', 'cli.mjs'), '--require', './scripts/register-sql.cjs', empty], { cwd: path.resolve(__dirname, '..') });
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function cli(pg: TestPostgres) {
  const run = (db: string) => {
    const t = process.hrtime.bigint();
    const out = execFileSync(process.execPath, [path.join('node_modules', 'tsx', 'dist', 'cli.mjs'), '--require', './scripts/register-sql.cjs', 'lambda/role-schema/cli.ts', 'apply', '--env', 'dev', '--database-url', pg.url({ database: db })], {
      cwd: path.resolve(__dirname, '..'),
      env: { ...process.env, ROLES_DEFAULT_PASSWORD: 'Bench-cli-password-1' },
      encoding: 'utf8',
    });
    return { ms: Number(process.hrtime.bigint() - t) / 1e6, out: out.trim() };
  };
  return { run };
}

async function main(): Promise<void> {
  const pg = await startPostgres(['-c', 'shared_preload_libraries=pg_stat_statements']);
  try {
    await pg.query(`CREATE ROLE ${APPLIER} LOGIN PASSWORD '${APPLIER_PW}' CREATEROLE CREATEDB`);
    await pg.query(`GRANT pg_monitor TO ${APPLIER} WITH ADMIN OPTION`);
    const seeds = await library(pg, DEFAULT_SERVICES, 'seeds');
    const many = await library(pg, manyServices(200), 'many');
    await dropEverything(pg, manyServices(200));

    const c = cli(pg);
    const cliFirst: number[] = [];
    const cliAgain: number[] = [];
    const baseline: number[] = [];
    let lastOut = '';
    for (let i = 0; i < runs; i++) {
      baseline.push(tsxBaseline());
      await dropEverything(pg, DEFAULT_SERVICES);
      await pg.query('CREATE DATABASE bench_cli');
      cliFirst.push(c.run('bench_cli').ms);
      const r = c.run('bench_cli');
      cliAgain.push(r.ms);
      lastOut = r.out;
    }
    const result = {
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg().map((l) => +l.toFixed(2)), node: process.version },
      postgres: (await pg.query('SHOW server_version')).rows[0].server_version,
      library: { seeds, services200: many },
      cli: { firstApply: stats(cliFirst), noOpReapply: stats(cliAgain), tsxEmptyFileBaseline: stats(baseline), lastOutput: lastOut },
    };
    const json = JSON.stringify(result, null, 2);
    fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
    fs.writeFileSync(path.join(__dirname, 'results', 'roles.json'), `${json}\n`);
    console.log(json);
  } finally {
    await pg.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
