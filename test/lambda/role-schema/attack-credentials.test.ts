/**
 * The attack suite, credentials and applies (issue 10, scopes 5–7), on a real PostgreSQL 16 shaped
 * like RDS (fixtures.ts: the applier is a non-superuser CREATEROLE/CREATEDB role owning the
 * database; the superuser runs the privileged step only).
 *
 * The server runs with the pg_stat_statements and log_parameter_* settings of the dev parameter
 * group, read from the synthesized template, plus every statement logged (`log_statement=all`,
 * `log_min_duration_statement=0`): the worst logging an operator may switch on. Then SCRAM
 * verifiers and passwords must not be in anything platform_monitor reads (pg_stat_statements,
 * pg_stat_activity), in the db-health digest, or in the server log.
 * - https://www.postgresql.org/docs/16/pgstatstatements.html (track, track_utility)
 * - https://www.postgresql.org/docs/16/runtime-config-logging.html (log_parameter_max_length)
 * - https://www.postgresql.org/docs/16/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW
 *   (an idle session's `query` is its last statement)
 */
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { Client } from 'pg';
import templatesSql from '../../../sql/roles/templates.sql';
import { ADVISORY_LOCK_KEY, applyRoleSchema } from '../../../lambda/role-schema/apply';
import { main as rolesCli } from '../../../lambda/role-schema/cli';
import { passwordFromSetting, pgLoginCheck } from '../../../lambda/role-schema/credentials';
import { makeHandler } from '../../../lambda/role-schema/handler';
import { MONITORING_ROLE } from '../../../lambda/role-schema/desired';
import { rotate } from '../../../lambda/role-schema/rotate';
import { rotationClientConfig } from '../../../lambda/role-schema/rotate-handler';
import type { DbSecret } from '../../../lambda/role-schema/secrets';
import { parseTemplates } from '../../../lambda/role-schema/sql';
import { collectDigest, formatDigest } from '../../../lambda/db-health/digest';
import { DEFAULT_SERVICES, roleNames } from '../../../lib/config/service-registry';
import { templateJson } from '../../support/assembly';
import { readServerLogs, startPostgres, type TestPostgres } from '../../support/postgres';
import { APPLIER, APPLIER_PASSWORD, applierConnection, applyBoth, attempt, createDatabase, desiredFor, loginAs, passwordOf, setupCluster } from './fixtures';

let pg: TestPostgres;
const DB = 'creds';
const SEEDS = desiredFor(DEFAULT_SERVICES);
const PREFIXES = DEFAULT_SERVICES.map((s) => s.prefix);
const ROTATED = 'Rotated-Pw-4e1d0c9b7a';
const CHANGED = 'Changed-Pw-93ab5e17f2';
/** Anything shaped like a stored verifier. */
const VERIFIER = /SCRAM-SHA-256\$|md5[0-9a-f]{32}/i;

/** The dev parameter group's settings that decide what statement texts and logs keep. */
function parameterGroupFlags(): string[] {
  const groups = Object.values(templateJson('dev', 'Data').Resources as Record<string, { Type: string; Properties: { Parameters?: Record<string, string> } }>).filter(
    (r) => r.Type === 'AWS::RDS::DBParameterGroup',
  );
  expect(groups).toHaveLength(1);
  const p = groups[0].Properties.Parameters!;
  const keep = Object.entries(p).filter(([k]) => k === 'shared_preload_libraries' || k.startsWith('pg_stat_statements.') || k.startsWith('log_parameter_'));
  expect(keep.map(([k]) => k)).toContain('shared_preload_libraries');
  return keep.flatMap(([k, v]) => ['-c', `${k}=${v}`]);
}

const monitorSecret = () => ({ username: MONITORING_ROLE, password: passwordOf(MONITORING_ROLE) });

beforeAll(async () => {
  pg = await startPostgres([...parameterGroupFlags(), '-c', 'log_statement=all', '-c', 'log_min_duration_statement=0']);
  await setupCluster(pg);
  await createDatabase(pg, DB);
  // A first apply (every login role created with its verifier), then the privileged step.
  await applyBoth(pg, DB, SEEDS);
});
afterAll(async () => pg?.stop());

/** Every statement text platform_monitor can read: pg_stat_statements (all users) and pg_stat_activity. */
async function textsMonitorReads(): Promise<string[]> {
  const c = await pg.connect({ ...monitorSecret(), user: MONITORING_ROLE, database: DB, options: '-c search_path=pg_catalog,pg_temp' });
  try {
    const stats = (await c.query('SELECT query FROM platform_stats.pg_stat_statements')).rows.map((r) => String(r.query));
    const activity = (await c.query("SELECT query FROM pg_stat_activity WHERE query <> ''")).rows.map((r) => String(r.query));
    expect(stats.some((t) => t.includes('pg_catalog.set_config'))).toBe(true); // tracking is on: the apply's statements are there
    return [...stats, ...activity];
  } finally {
    await c.end();
  }
}

describe('scope 5: verifiers never reach statement texts, the digest or the log', () => {
  /** Sessions kept open until afterAll (their last statement stays in pg_stat_activity). */
  const opened: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    // 1) The first apply (top-level beforeAll). 2) A password change (ALTER ROLE … PASSWORD), on a session left open: its last statement
    //    stays readable in pg_stat_activity.
    const a = await applierConnection(pg, DB);
    opened.push(() => a.end());
    const changed = desiredFor(DEFAULT_SERVICES, { password: (r) => (r === 'agapp' ? CHANGED : passwordOf(r)) });
    const r = await applyRoleSchema(a, changed, { steps: 'main' });
    expect(r.summary.password).toBeGreaterThanOrEqual(1);
    // 3) A real rotation's setSecret, as the rotation function connects; its session stays open too.
    const role = roleNames('gt_').app;
    const sm = mockClient(SecretsManagerClient);
    const secret = (password: string) => ({ SecretString: JSON.stringify({ username: role, password, host: '127.0.0.1', port: pg.port, dbname: DB }) });
    sm.on(DescribeSecretCommand).resolves({ RotationEnabled: true, VersionIdsToStages: { cur: ['AWSCURRENT'], tok: ['AWSPENDING'] } });
    sm.on(GetSecretValueCommand, { SecretId: 's', VersionStage: 'AWSCURRENT' }).resolves(secret(passwordOf(role)));
    sm.on(GetSecretValueCommand, { SecretId: 's', VersionStage: 'AWSPENDING', VersionId: 'tok' }).resolves(secret(ROTATED));
    const connect = async (s: DbSecret) => {
      const c = new Client(rotationClientConfig(s, () => false));
      await c.connect();
      const end = c.end.bind(c);
      opened.push(() => end());
      c.end = (async () => undefined) as Client['end']; // closed in afterAll
      return c;
    };
    try {
      await rotate({ SecretId: 's', ClientRequestToken: 'tok', Step: 'setSecret' }, { secrets: new SecretsManagerClient({ region: 'ap-northeast-2' }), connect, excludeCharacters: '' });
    } finally {
      sm.restore();
    }
    await pg.connect({ user: role, password: ROTATED, database: DB }).then((c) => c.end());
  });
  afterAll(async () => {
    for (const end of opened) await end().catch(() => undefined);
  });

  test('pg_stat_statements and pg_stat_activity, read as platform_monitor, hold no verifier and no password', async () => {
    const texts = await textsMonitorReads();
    expect(texts.filter((t) => VERIFIER.test(t))).toEqual([]);
    for (const pw of [CHANGED, ROTATED, passwordOf('gtapp')]) expect(texts.filter((t) => t.includes(pw))).toEqual([]);
    // The password statements ran, by their blocks (what the monitor may see of them).
    expect(texts.some((t) => t.includes("format('ALTER ROLE %1$I PASSWORD %2$L'"))).toBe(true);
  });

  test('the db-health digest (collected as platform_monitor, formatted for Slack) carries no verifier', async () => {
    const c = await pg.connect({ user: MONITORING_ROLE, password: passwordOf(MONITORING_ROLE), database: DB, options: '-c search_path=pg_catalog,pg_temp' });
    try {
      const data = await collectDigest(c, { appSchema: 'public', servicePrefixes: PREFIXES, unusedIndexMinBytes: 0, topStatements: 50 });
      expect(data.statements.available).toBe(true);
      const message = JSON.stringify(formatDigest(data, 'dev', new Date('2026-12-06T00:00:00Z')));
      expect(message).not.toMatch(VERIFIER);
      expect(message).not.toContain(ROTATED);
    } finally {
      await c.end();
    }
  });

  test('the server log, with every statement logged, holds no verifier and no service password', () => {
    const log = readServerLogs(pg);
    expect(log).toMatch(/execute <unnamed>: SELECT pg_catalog\.set_config\('platform_roles\.verifiers'/); // the verifiers were sent, as a parameter
    expect(log.split('\n').filter((l) => VERIFIER.test(l))).toEqual([]);
    for (const pw of [CHANGED, ROTATED, passwordOf('gtapp'), passwordOf('agapp')]) expect(log.includes(pw)).toBe(false);
  });

  test('the salts and verifier digests the applier records are in no statement text or log line either (a guessing oracle)', async () => {
    const c = await pg.connect({ database: DB });
    let recorded: { salt: string; digest: string }[];
    try {
      recorded = (await c.query<{ salt: string; digest: string }>("SELECT salt, digest FROM platform_roles.credential WHERE auth = 'password'")).rows;
    } finally {
      await c.end();
    }
    expect(recorded.length).toBeGreaterThan(10);
    const texts = [...(await textsMonitorReads()), ...readServerLogs(pg).split('\n')];
    for (const { salt, digest } of recorded) {
      expect(texts.filter((t) => t.includes(salt) || t.includes(digest))).toEqual([]);
    }
  });

  test('a failing password block does not write its nested statement (with the verifier) to the log', async () => {
    const marker = 'SCRAM-SHA-256$4096:ZmFpbA==$Failing-block-marker:x';
    const t = parseTemplates(templatesSql);
    const a = await applierConnection(pg, DB);
    try {
      await a.query('BEGIN');
      await a.query(t.get('set_verifiers')!, [JSON.stringify({ no_such_role: marker })]);
      await expect(a.query(passwordFromSetting('set_password', 'no_such_role'))).rejects.toThrow(/role "no_such_role" does not exist/);
    } finally {
      await a.query('ROLLBACK');
      await a.end();
    }
    expect(readServerLogs(pg)).toMatch(/ERROR: {2}role "no_such_role" does not exist/);
    expect(readServerLogs(pg)).not.toContain('Failing-block-marker');
  });

  test('defence in depth: a verifier recorded by someone else is removed from the digest', async () => {
    // A superuser session that tracks utility statements (as a server without the parameter
    // group would) changes a password the classic way: pg_stat_statements keeps the literal.
    const su = await pg.connect({ database: DB });
    try {
      await su.query('SET pg_stat_statements.track_utility = on');
      await su.query("ALTER ROLE nfuser PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$Recorded-by-someone-else:k'");
      await su.query(`ALTER ROLE nfuser PASSWORD '${passwordOf('nfuser')}'`);
    } finally {
      await su.end();
    }
    const c = await pg.connect({ user: MONITORING_ROLE, password: passwordOf(MONITORING_ROLE), database: DB, options: '-c search_path=pg_catalog,pg_temp' });
    try {
      const raw = (await c.query("SELECT query FROM platform_stats.pg_stat_statements WHERE query LIKE '%Recorded-by-someone-else%'")).rows;
      expect(raw).toHaveLength(1); // the route is live
      const data = await collectDigest(c, { appSchema: 'public', servicePrefixes: PREFIXES, unusedIndexMinBytes: 0, topStatements: 1000 });
      const shown = JSON.stringify(formatDigest(data, 'dev', new Date('2026-12-06T00:00:00Z')));
      expect(shown).toContain("ALTER ROLE nfuser PASSWORD '<redacted>'");
      expect(shown).not.toContain('Recorded-by-someone-else');
      expect(shown).not.toContain(passwordOf('nfuser'));
    } finally {
      await c.end();
    }
  });
});

describe('scope 5: a login role that changed its own password gets the configured one back at the next apply', () => {
  const HIJACKED = 'Hijacked-by-gtown-5c2e';
  const hijack = async (role: string) => {
    const c = await pg.connect({ user: role, password: passwordOf(role), database: DB });
    try {
      await c.query(`ALTER ROLE CURRENT_USER PASSWORD '${HIJACKED}'`); // needs no privilege
    } finally {
      await c.end();
    }
    await expect(pg.connect({ user: role, password: passwordOf(role), database: DB })).rejects.toThrow(/password authentication failed/);
  };
  const check = pgLoginCheck((user, password) => ({ host: '127.0.0.1', port: pg.port, database: DB, user, password }));
  beforeAll(async () => {
    // Back to the configured passwords after the tests above (agapp changed, gtapp rotated).
    const a = await applierConnection(pg, DB);
    try {
      await applyRoleSchema(a, SEEDS, { steps: 'main', checkLogin: check });
    } finally {
      await a.end();
    }
  });
  const logsInWithConfigured = async (role: string) => {
    await (await pg.connect({ user: role, password: passwordOf(role), database: DB })).end();
    await expect(pg.connect({ user: role, password: HIJACKED, database: DB })).rejects.toThrow(/password authentication failed/);
  };

  test('applyRoleSchema with a login check resets it; without one the record alone cannot see it', async () => {
    await hijack('gtown');
    const a = await applierConnection(pg, DB);
    try {
      expect((await applyRoleSchema(a, SEEDS, { steps: 'main' })).executed).toBe(0); // the recorded digest still matches
      const r = await applyRoleSchema(a, SEEDS, { steps: 'main', checkLogin: check });
      expect(r.statements.filter((st) => st.kind === 'password').map((st) => st.display.split('\n')[0])).toEqual([
        'ALTER ROLE "gtown" PASSWORD \'<redacted SCRAM-SHA-256 verifier>\'',
        "INSERT INTO platform_roles.credential AS c (role, auth, salt, iterations, digest) VALUES ('gtown', 'password', '<redacted>', 4096, '<redacted>')",
      ]);
      expect((await applyRoleSchema(a, SEEDS, { steps: 'main', checkLogin: check })).executed).toBe(0); // and then nothing to do
    } finally {
      await a.end();
    }
    await logsInWithConfigured('gtown');
  });

  test('the custom resource handler and the CLI apply both check, as they connect', async () => {
    const roles = SEEDS.roles.map((r) => r.name);
    await hijack('mdapp');
    const sm = mockClient(SecretsManagerClient);
    const arn = (r: string) => `arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:${r}`;
    sm.on(GetSecretValueCommand, { SecretId: arn('master') }).resolves({ SecretString: JSON.stringify({ username: APPLIER, password: APPLIER_PASSWORD }) });
    for (const r of roles) sm.on(GetSecretValueCommand, { SecretId: arn(r) }).resolves({ SecretString: JSON.stringify({ username: r, password: passwordOf(r) }) });
    try {
      const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
      const handler = makeHandler({ secrets: new SecretsManagerClient({ region: 'ap-northeast-2' }), ssl: () => false, apply: { steps: 'main' }, logger: quiet });
      const out = await handler({
        RequestType: 'Update', PhysicalResourceId: `role-schema-${DB}`, ServiceToken: 'x', ResponseURL: 'https://example.invalid', StackId: 's', RequestId: 'r', LogicalResourceId: 'RoleSchema', ResourceType: 'Custom::RoleSchema', OldResourceProperties: { ServiceToken: 'x' },
        ResourceProperties: {
          ServiceToken: 'x', DatabaseHost: '127.0.0.1', DatabasePort: String(pg.port), DatabaseName: DB, MasterSecretArn: arn('master'), AppSchema: 'public',
          Services: JSON.stringify(DEFAULT_SERVICES), LoginSecrets: JSON.stringify(Object.fromEntries(roles.map((r) => [r, arn(r)]))), EventTrigger: 'present',
        },
      });
      expect(JSON.parse(String(out.Data?.Summary))).toMatchObject({ password: 2 }); // the reset, and its record
    } finally {
      sm.restore();
    }
    await logsInWithConfigured('mdapp');

    await hijack('mdapp');
    const env = Object.fromEntries(roles.map((r) => [`ROLES_PASSWORD_${r.toUpperCase()}`, passwordOf(r)]));
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    expect(await rolesCli(['apply', '--env', 'dev', '--database-url', pg.url({ user: APPLIER, password: APPLIER_PASSWORD, database: DB }), '--skip-privileged'], env, io)).toBe(0);
    expect(lines.join('\n')).toMatch(/password 2/);
    await logsInWithConfigured('mdapp');
  });
});

describe('scope 6: no login can block applies; a retired service\'s sessions are ended', () => {
  test('gtown holding the old advisory lock key, or trying the apply lock, blocks nothing', async () => {
    const gtown = await loginAs(pg, 'gtown', DB);
    gtown.on('error', () => undefined);
    try {
      // Any login may take any advisory lock key: this one would have blocked every apply.
      expect((await gtown.query(`SELECT pg_catalog.pg_try_advisory_lock(${ADVISORY_LOCK_KEY}) AS got`)).rows[0].got).toBe(true);
      // The apply lock itself is out of its reach.
      await gtown.query('BEGIN');
      expect(await attempt(gtown, 'LOCK TABLE platform_roles.apply_lock IN ACCESS SHARE MODE')).toMatch(/permission denied for schema platform_roles/);
      await gtown.query('ROLLBACK');
      const oid = (await gtown.query("SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname = 'apply_lock'")).rows[0].oid as number;
      await gtown.query('BEGIN');
      await gtown.query('SELECT pg_catalog.pg_relation_size($1::oid)', [oid]); // what anyone may do by OID
      const a = await applierConnection(pg, DB);
      try {
        const r = await applyRoleSchema(a, desiredFor([...DEFAULT_SERVICES, { name: 'locker', prefix: 'lk_' }]), { steps: 'main', lockTimeoutMs: 2000 });
        expect(r.executed).toBeGreaterThan(0);
        expect((await applyRoleSchema(a, SEEDS, { steps: 'main', lockTimeoutMs: 2000 })).executed).toBeGreaterThan(0);
      } finally {
        await a.end();
      }
    } finally {
      await gtown.query('ROLLBACK').catch(() => undefined);
      await gtown.end();
    }
  });

  test('retiring a service ends its roles\' open sessions, which a CREATEROLE applier may do only through a membership', async () => {
    const WITH = desiredFor([...DEFAULT_SERVICES, { name: 'retiree', prefix: 'rt_' }]);
    await applyBoth(pg, DB, WITH);
    const open = await Promise.all(['rtown', 'rtapp', 'rtuser'].map((r) => loginAs(pg, r, DB)));
    for (const c of open) c.on('error', () => undefined);
    const a = await applierConnection(pg, DB);
    try {
      // PostgreSQL 16's rule, live: the applier created rtapp (ADMIN, no INHERIT) and cannot signal it.
      const pid = (await open[1].query('SELECT pg_catalog.pg_backend_pid() AS pid')).rows[0].pid as number;
      expect(await attempt(a, `SELECT pg_catalog.pg_terminate_backend(${pid})`)).toMatch(/permission denied to terminate process/);

      const r = await applyRoleSchema(a, SEEDS, { steps: 'main' });
      expect(r.warnings.filter((w) => /could not end session/.test(w))).toEqual([]);
      expect(r.endedSessions).toBe(3);
      for (const c of open) await expect(c.query('SELECT 1')).rejects.toThrow(/terminating connection|Connection terminated|not queryable/);
      await expect(loginAs(pg, 'rtapp', DB)).rejects.toThrow(/not permitted to log in/);
      // The temporary memberships were rolled back.
      const members = await a.query("SELECT r.rolname FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles r ON r.oid = m.roleid WHERE m.member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) AND m.inherit_option AND r.rolname IN ('rtapp', 'rtuser')");
      expect(members.rows).toEqual([]);
    } finally {
      await a.end();
      for (const c of open) await c.end().catch(() => undefined);
    }
  });
});
