/**
 * The attack suite (issue 10): a hostile service owner against the role schema, on a real
 * PostgreSQL 16 shaped like RDS — the applier is a non-superuser CREATEROLE/CREATEDB role that owns
 * the database, a superuser is used for the privileged step only.
 *
 * Threat model (README, role-schema section): `{p}own` is hostile. It must not run code as another
 * role, name anything outside its prefix, keep access past the next apply, or block applies.
 *
 * Safe sessions: CVE-2018-1058 (https://wiki.postgresql.org/wiki/A_Guide_to_CVE-2018-1058:_Protect_Your_Search_Path)
 * and the operator/function resolution rules (https://www.postgresql.org/docs/16/typeconv-oper.html,
 * https://www.postgresql.org/docs/16/typeconv-func.html): a look-alike whose argument types match a
 * call more exactly than pg_catalog's own (through an implicit cast, or an unknown-typed literal
 * taken as the other operand's type) wins if its schema is on the search_path.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { Client } from 'pg';
import { applyRoleSchema } from '../../../lambda/role-schema/apply';
import { main as rolesCli } from '../../../lambda/role-schema/cli';
import { MONITORING_ROLE } from '../../../lambda/role-schema/desired';
import { makeHandler } from '../../../lambda/role-schema/handler';
import { rotate } from '../../../lambda/role-schema/rotate';
import { rotationClientConfig } from '../../../lambda/role-schema/rotate-handler';
import type { DbSecret } from '../../../lambda/role-schema/secrets';
import { clientConfig } from '../../../lambda/db-health/connection';
import { main as dbHealthCli } from '../../../lambda/db-health/cli';
import { collectDigest } from '../../../lambda/db-health/digest';
import { runProbe } from '../../../lambda/db-health/probe';
import { DEFAULT_SERVICES, roleNames } from '../../../lib/config/service-registry';
import { startPostgres, type TestPostgres } from '../../support/postgres';
import { APPLIER, APPLIER_PASSWORD, applierConnection, applyBoth, createDatabase, desiredFor, loginAs, passwordOf, setupCluster } from './fixtures';

let pg: TestPostgres;
const DB = 'victim';
const SEEDS = desiredFor(DEFAULT_SERVICES);
const PREFIXES = DEFAULT_SERVICES.map((s) => s.prefix);
const FAKE_CA = '-----BEGIN CERTIFICATE-----\nnot used: TLS is off against 127.0.0.1\n-----END CERTIFICATE-----\n';

beforeAll(async () => {
  pg = await startPostgres(['-c', 'shared_preload_libraries=pg_stat_statements']);
  await setupCluster(pg);
  await createDatabase(pg, DB);
  await applyBoth(pg, DB, SEEDS);
});
afterAll(async () => pg?.stop());

/** The test's own look at the victim database, as the superuser, in a safe session (it must not trip the trojans either). */
async function inspectVictim(sql: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  // Spelled out here rather than imported, so that reverting the fix does not also blind the test.
  const c = await pg.connect({ database: DB, options: '-c search_path=pg_catalog,pg_temp' });
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Safe sessions: the whole trojan set, planted in public by gtown
// ---------------------------------------------------------------------------------------------

const SQL_DIR = path.resolve(__dirname, '../../../sql');

/** Every .sql file the project runs, comments and string literals removed. */
function projectSql(): string {
  const files = ['roles', 'db-health'].flatMap((d) => fs.readdirSync(path.join(SQL_DIR, d)).map((f) => path.join(SQL_DIR, d, f)));
  return files
    .map((f) => fs.readFileSync(f, 'utf8'))
    .join('\n')
    .replace(/--[^\n]*/g, ' ')
    .replace(/\$fn\$[\s\S]*?\$fn\$/g, (body) => body.replace(/\$fn\$/g, ' ')) // function bodies are SQL too
    .replace(/'(?:[^']|'')*'/g, "''");
}

/** Function names called anywhere in sql/ (checked against pg_catalog by the planting query). */
function calledFunctions(sql: string): string[] {
  return [...new Set([...sql.matchAll(/\b([a-z_][a-z0-9_]*)\s*\(/gi)].map((m) => m[1].toLowerCase()))].sort();
}

/** Types a shadow's arguments are drawn from: every type the catalog queries handle, and their arrays. */
const TYPE_UNIVERSE = [
  'oid', 'int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'text', 'name', 'varchar', 'bpchar', '"char"', 'bool',
  'regclass', 'regrole', 'regnamespace', 'regproc', 'regprocedure', 'regtype', 'json', 'jsonb', 'interval',
  'timestamptz', 'timestamp', 'date', 'pg_lsn', 'xid', 'aclitem', 'bytea',
];

/**
 * DDL (as text) that plants, for every pg_catalog function called in sql/ and every pg_catalog
 * operator whose symbol appears there (LIKE/NOT LIKE/IN as ~~ !~~ =), a look-alike in public for
 * each combination of argument types that pg_catalog's version accepts through an implicit cast
 * (or, for polymorphic arguments, any concrete type). Each look-alike logs who ran it.
 */
async function trojanDdl(functions: readonly string[], sql: string): Promise<string[]> {
  const rows = await inspectVictim(
    `WITH universe AS (SELECT u::regtype AS t FROM unnest($1::text[] || array(SELECT x || '[]' FROM unnest($1::text[]) x)) u),
     fns AS (
       SELECT p.oid, p.proname, ARRAY(SELECT unnest(p.proargtypes::oid[])) AS args, p.prorettype, p.proretset
       FROM pg_catalog.pg_proc p
       WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind = 'f' AND p.proname = ANY($2::text[])
         AND p.pronargs BETWEEN 1 AND 3 AND p.provariadic = 0
         AND NOT EXISTS (SELECT 1 FROM unnest(p.proargtypes::oid[]) a(t) WHERE a.t IN ('internal'::regtype, '"any"'::regtype, 'cstring'::regtype))
     ),
     ops AS (
       SELECT o.oid, o.oprname, o.oprleft, o.oprright, o.oprresult
       FROM pg_catalog.pg_operator o
       WHERE o.oprnamespace = 'pg_catalog'::regnamespace AND o.oprname = ANY($3::text[]) AND o.oprright <> 0
     ),
     -- What may stand for a declared argument type: itself, an implicit cast source, or any concrete type for a polymorphic one.
     fits AS (
       SELECT d.oid AS declared, u.t AS actual
       FROM pg_catalog.pg_type d CROSS JOIN universe u
       WHERE u.t = d.oid
          OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast c WHERE c.castsource = u.t AND c.casttarget = d.oid AND c.castcontext = 'i')
          OR (d.typname IN ('anyelement', 'anycompatible', 'anynonarray') AND (SELECT typcategory FROM pg_type WHERE oid = u.t) <> 'A')
          OR (d.typname IN ('anyarray', 'anycompatiblearray') AND (SELECT typcategory FROM pg_type WHERE oid = u.t) = 'A')
     ),
     fn_sigs AS (
       SELECT DISTINCT f.proname AS name, ARRAY(SELECT x::regtype::text FROM unnest(c.combo) x) AS args,
              CASE WHEN (SELECT typname FROM pg_type WHERE oid = f.prorettype) IN ('anyelement','anycompatible','anynonarray') THEN 'text'
                   WHEN (SELECT typname FROM pg_type WHERE oid = f.prorettype) IN ('anyarray','anycompatiblearray') THEN 'text[]'
                   ELSE f.prorettype::regtype::text END AS ret,
              f.proretset AS setof
       FROM fns f
       CROSS JOIN LATERAL (
         SELECT ARRAY[a1.actual] || CASE WHEN cardinality(f.args) > 1 THEN ARRAY[a2.actual] ELSE '{}'::oid[] END
                                 || CASE WHEN cardinality(f.args) > 2 THEN ARRAY[a3.actual] ELSE '{}'::oid[] END AS combo
         FROM fits a1
         LEFT JOIN fits a2 ON cardinality(f.args) > 1 AND a2.declared = f.args[2]
         LEFT JOIN fits a3 ON cardinality(f.args) > 2 AND a3.declared = f.args[3]
         WHERE a1.declared = f.args[1] AND (cardinality(f.args) < 2 OR a2.actual IS NOT NULL) AND (cardinality(f.args) < 3 OR a3.actual IS NOT NULL)
       ) c
       WHERE (SELECT typtype FROM pg_type WHERE oid = f.prorettype) <> 'p'
          OR (SELECT typname FROM pg_type WHERE oid = f.prorettype) IN ('anyelement','anycompatible','anynonarray','anyarray','anycompatiblearray','void')
     ),
     op_sigs AS (
       SELECT DISTINCT o.oprname AS name, l.actual::regtype::text AS l, r.actual::regtype::text AS r, o.oprresult::regtype::text AS ret
       FROM ops o
       JOIN fits l ON l.declared = o.oprleft
       JOIN fits r ON r.declared = o.oprright
       WHERE (SELECT typtype FROM pg_type WHERE oid = o.oprresult) <> 'p'
     )
     SELECT 'fn' AS kind, name, args, ret, setof, NULL AS l, NULL AS r FROM fn_sigs
     UNION ALL
     SELECT 'op', name, ARRAY[l, r], ret, false, l, r FROM op_sigs`,
    [TYPE_UNIVERSE, functions, operatorsIn(sql)],
  );
  const ddl: string[] = [];
  let i = 0;
  const seen = new Set<string>();
  for (const row of rows as Array<{ kind: string; name: string; args: string[]; ret: string; setof: boolean; l: string; r: string }>) {
    const key = `${row.kind} ${row.name}(${row.args.join(',')})`;
    if (seen.has(key)) continue; // the same arguments, another result type: one look-alike is enough
    seen.add(key);
    i += 1;
    const sig = `${row.kind === 'op' ? `OPERATOR ${row.name}` : row.name}(${row.args.join(', ')})`.replace(/'/g, "''");
    const ret = `${row.setof ? 'SETOF ' : ''}${row.ret}`;
    const fn = row.kind === 'op' ? `public.gt_trojan_op_${i}` : `public.${row.name}`;
    const body = `INSERT INTO public.gt_trojan_log (fired_as, signature) VALUES (current_user, '${sig}'); SELECT NULL::${row.ret};`;
    ddl.push(`CREATE FUNCTION ${fn}(${row.args.join(', ')}) RETURNS ${ret} LANGUAGE sql AS $t$ ${body} $t$`);
    if (row.kind === 'op') ddl.push(`CREATE OPERATOR public.${row.name} (LEFTARG = ${row.l}, RIGHTARG = ${row.r}, FUNCTION = ${fn})`);
  }
  return ddl;
}

/** pg_catalog operator names that occur in the SQL (LIKE, NOT LIKE and IN name ~~, !~~ and =). */
function operatorsIn(sql: string): string[] {
  const found = new Set<string>(['=', '<>', '~~', '!~~']);
  for (const m of sql.matchAll(/OPERATOR\(pg_catalog\.([^)]+)\)/g)) found.add(m[1]);
  for (const m of sql.replace(/OPERATOR\(pg_catalog\.[^)]+\)/g, ' ').matchAll(/(?<![=<>!~+\-*/|&^#@%])([=<>!~+\-*/|&^#@%]+)(?![=<>!~+\-*/|&^#@%])/g)) found.add(m[1]);
  found.delete('::');
  return [...found].sort();
}

let planted = 0;

async function fired(): Promise<Array<{ fired_as: string; signature: string }>> {
  return (await inspectVictim('SELECT fired_as, signature FROM public.gt_trojan_log ORDER BY 2')) as Array<{ fired_as: string; signature: string }>;
}

describe('safe sessions: the trojan set in public never runs', () => {
  beforeAll(async () => {
    const sql = projectSql();
    const gtown = await loginAs(pg, 'gtown', DB);
    try {
      await gtown.query('CREATE TABLE public.gt_trojan_log (fired_as name, signature text, at timestamptz DEFAULT clock_timestamp())');
      await gtown.query('GRANT INSERT ON public.gt_trojan_log TO PUBLIC');
      // Planted as gtown, logged in directly. (The event trigger checks names; a look-alike of a
      // catalog function cannot carry a prefix, so these stand for anything the trigger does not
      // see, or that was there before the role schema was adopted.)
      // Both triggers: the one that checks names, and the one that opens gtown's CREATE window.
      await inspectVictim('ALTER EVENT TRIGGER platform_roles_enforce_prefix DISABLE; ALTER EVENT TRIGGER platform_roles_open_ddl DISABLE');
      await inspectVictim('GRANT CREATE ON SCHEMA public TO gtown');
      const ddl = await trojanDdl(calledFunctions(sql), sql);
      await gtown.query(ddl.join(';\n'));
      planted = ddl.filter((d) => d.startsWith('CREATE FUNCTION')).length;
    } finally {
      await inspectVictim('REVOKE CREATE ON SCHEMA public FROM gtown');
      await inspectVictim('ALTER EVENT TRIGGER platform_roles_enforce_prefix ENABLE; ALTER EVENT TRIGGER platform_roles_open_ddl ENABLE');
      await gtown.end();
    }
  });

  afterEach(async () => {
    expect(await fired()).toEqual([]);
  });

  test('the set is large and live: a session that searches public runs it on a catalog query', async () => {
    expect(planted).toBeGreaterThan(500);
    // The shapes the issue names are among them.
    const have = (await inspectVictim("SELECT p.oid::regprocedure::text AS f FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace")).map((x) => x.f);
    expect(have).toEqual(expect.arrayContaining(['public.starts_with(name,text)', 'public.unnest(text[])', 'public.pg_get_userbyid(integer)']));
    const ops = (await inspectVictim("SELECT o.oid::regoperator::text AS o FROM pg_operator o WHERE o.oprnamespace = 'public'::regnamespace")).map((x) => x.o);
    expect(ops).toEqual(expect.arrayContaining(['public.=(oid,integer)', 'public.!~~(name,name)', 'public./(double precision,bigint)', 'public.=(oid,regclass)']));
    // Control: the applier with PostgreSQL's default search_path ("$user", public), a query as the
    // code before issue 10 wrote it. Rolled back, so the log stays empty for the other tests.
    const a = await applierConnection(pg, DB);
    try {
      await a.query('BEGIN');
      await a.query("SELECT count(*) FROM pg_namespace n WHERE n.nspname NOT LIKE 'pg\\_temp\\_%'");
      expect((await a.query('SELECT DISTINCT signature FROM public.gt_trojan_log')).rows).toEqual([{ signature: 'OPERATOR !~~(name, name)' }]);
    } finally {
      await a.query('ROLLBACK');
      await a.end();
    }
  });

  test('apply (main step, as the applier) with changes to make, and the privileged step as a superuser', async () => {
    const more = desiredFor([...DEFAULT_SERVICES, { name: 'newcomer', prefix: 'nw_' }]);
    const { main, privileged } = await applyBoth(pg, DB, more);
    expect(main.executed).toBeGreaterThan(0);
    expect(privileged.executed).toBeGreaterThanOrEqual(0);
    await applyBoth(pg, DB, SEEDS);
  });

  test('plan, as the applier and as a superuser', async () => {
    for (const c of [await applierConnection(pg, DB), await pg.connect({ database: DB })]) {
      try {
        await applyRoleSchema(c, desiredFor([{ name: 'gatherer', prefix: 'gt_' }]), { mode: 'plan' });
      } finally {
        await c.end();
      }
    }
  });

  test('the custom resource handler (its own connection settings), the CLI plan and apply', async () => {
    const sm = mockClient(SecretsManagerClient);
    const roles = SEEDS.roles.map((r) => r.name);
    const arn = (r: string) => `arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:${r}`;
    sm.on(GetSecretValueCommand, { SecretId: arn('master') }).resolves({ SecretString: JSON.stringify({ username: APPLIER, password: APPLIER_PASSWORD }) });
    for (const r of roles) sm.on(GetSecretValueCommand, { SecretId: arn(r) }).resolves({ SecretString: JSON.stringify({ username: r, password: passwordOf(r) }) });
    try {
      const handler = makeHandler({ secrets: new SecretsManagerClient({ region: 'ap-northeast-2' }), ssl: () => false, apply: { steps: 'main' }, logger: { info: () => undefined, warn: () => undefined, error: () => undefined } });
      await handler({
        RequestType: 'Update', PhysicalResourceId: `role-schema-${DB}`, ServiceToken: 'x', ResponseURL: 'https://example.invalid', StackId: 's', RequestId: 'r', LogicalResourceId: 'RoleSchema', ResourceType: 'Custom::RoleSchema', OldResourceProperties: { ServiceToken: 'x' },
        ResourceProperties: {
          ServiceToken: 'x', DatabaseHost: '127.0.0.1', DatabasePort: String(pg.port), DatabaseName: DB, MasterSecretArn: arn('master'), AppSchema: 'public',
          Services: JSON.stringify(DEFAULT_SERVICES), LoginSecrets: JSON.stringify(Object.fromEntries(roles.map((r) => [r, arn(r)]))), EventTrigger: 'present',
        },
      });
    } finally {
      sm.restore();
    }
    const env = Object.fromEntries(roles.map((r) => [`ROLES_PASSWORD_${r.toUpperCase()}`, passwordOf(r)]));
    const io = { out: () => undefined, err: (l: string) => { throw new Error(l); } };
    const url = pg.url({ user: APPLIER, password: APPLIER_PASSWORD, database: DB });
    expect(await rolesCli(['plan', '--env', 'dev', '--database-url', url, '--skip-privileged'], env, io)).toBe(0);
    expect(await rolesCli(['apply', '--env', 'dev', '--database-url', url, '--skip-privileged'], env, io)).toBe(0);
  });

  test('the db-health probe and digest as platform_monitor, with the Lambda\'s connection settings and through the CLI', async () => {
    const secret = { username: MONITORING_ROLE, password: passwordOf(MONITORING_ROLE) };
    const c = new Client({ ...clientConfig(secret, { host: '127.0.0.1', port: pg.port, database: DB }, FAKE_CA), ssl: false });
    await c.connect();
    try {
      const options = { longQuerySeconds: 300, appSchema: 'public', servicePrefixes: PREFIXES, unusedIndexMinBytes: 0 };
      const probe = await runProbe(c, options);
      // The probe is not blinded: gt_trojan_log is prefixed, nothing unprefixed is counted.
      expect(probe.metrics.tables_without_service_prefix).toBe(0);
      const digest = await collectDigest(c, options);
      expect(digest.statements.available).toBe(true);
    } finally {
      await c.end();
    }
    const out: string[] = [];
    const url = pg.url({ user: MONITORING_ROLE, password: passwordOf(MONITORING_ROLE), database: DB });
    expect(await dbHealthCli(['--database-url', url, '--format', 'json', '--env', 'dev'], (s) => out.push(s), () => undefined)).toBe(0);
    expect(await dbHealthCli(['--database-url', url, '--format', 'json', '--env', 'dev', '--digest'], (s) => out.push(s), () => undefined)).toBe(0);
  });

  test('a rotation (setSecret), with the rotation function\'s connection settings', async () => {
    const role = roleNames('ag_').app;
    const sm = mockClient(SecretsManagerClient);
    const secret = (password: string) => ({ SecretString: JSON.stringify({ username: role, password, host: '127.0.0.1', port: pg.port, dbname: DB }) });
    sm.on(DescribeSecretCommand).resolves({ RotationEnabled: true, VersionIdsToStages: { cur: ['AWSCURRENT'], tok: ['AWSPENDING'] } });
    sm.on(GetSecretValueCommand, { SecretId: 's', VersionStage: 'AWSCURRENT' }).resolves(secret(passwordOf(role)));
    sm.on(GetSecretValueCommand, { SecretId: 's', VersionStage: 'AWSPENDING', VersionId: 'tok' }).resolves(secret('Rotated-password-for-attack-1'));
    const connect = async (s: DbSecret) => {
      const c = new Client(rotationClientConfig(s, () => false));
      await c.connect();
      return c;
    };
    try {
      await rotate({ SecretId: 's', ClientRequestToken: 'tok', Step: 'setSecret' }, { secrets: new SecretsManagerClient({ region: 'ap-northeast-2' }), connect, excludeCharacters: '' });
      const c = await connect(JSON.parse(secret('Rotated-password-for-attack-1').SecretString));
      try {
        expect((await c.query("SELECT pg_catalog.current_setting('search_path') AS p")).rows[0].p).toMatch(/^pg_catalog, ?pg_temp$/);
      } finally {
        await c.end();
      }
    } finally {
      sm.restore();
      await pg.query(`ALTER ROLE ${role} PASSWORD '${passwordOf(role)}'`);
    }
  });
});
