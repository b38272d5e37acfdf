/**
 * The attack suite, drift routes (issue 10, scope 4): a hostile service owner (or a hand-made
 * grant by an operator or a superuser) leaves access the registry does not grant; the next apply
 * must take it back, or, where PostgreSQL does not let the applier, name it.
 *
 * Real PostgreSQL 16, shaped like RDS (fixtures.ts): the applier is a non-superuser
 * CREATEROLE/CREATEDB role that owns the database; a superuser runs the privileged step only, and
 * plants the grants an ordinary role could not make.
 *
 * PostgreSQL behaviour relied on, per its documentation:
 * - column privileges live apart from the table's ACL, and REVOKE on a table also revokes them
 *   (https://www.postgresql.org/docs/16/sql-revoke.html, https://www.postgresql.org/docs/16/ddl-priv.html);
 * - new functions get EXECUTE for PUBLIC by default, which only a global ALTER DEFAULT PRIVILEGES
 *   can take away (https://www.postgresql.org/docs/16/sql-alterdefaultprivileges.html);
 * - REVOKE of a role membership GRANTED BY a role the current user has no privileges of fails
 *   (https://www.postgresql.org/docs/16/sql-revoke.html, "GRANTED BY").
 */
import type { Client } from 'pg';
import { DEFAULT_SERVICES } from '../../../lib/config/service-registry';
import { applyRoleSchema } from '../../../lambda/role-schema/apply';
import { MONITORING_ROLE } from '../../../lambda/role-schema/desired';
import { startPostgres, type TestPostgres } from '../../support/postgres';
import { APPLIER, applierConnection, applyBoth, attempt, createDatabase, desiredFor, loginAs, setupCluster } from './fixtures';

let pg: TestPostgres;
const DB = 'drift';
const SEEDS = desiredFor(DEFAULT_SERVICES);
const OUTSIDER = 'outsider';
const OUTSIDER_PASSWORD = 'outsider-pw-91a';

const clients: Client[] = [];
async function as(role: string): Promise<Client> {
  const c = role === OUTSIDER ? await pg.connect({ user: OUTSIDER, password: OUTSIDER_PASSWORD, database: DB }) : await loginAs(pg, role, DB);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  pg = await startPostgres();
  await setupCluster(pg);
  await createDatabase(pg, DB);
  // A role outside the registry: a reporting tool, a person, anything the registry does not know.
  await pg.query(`CREATE ROLE ${OUTSIDER} LOGIN PASSWORD '${OUTSIDER_PASSWORD}'`);
  // (CONNECT on the database is not the role schema's business: it only manages PUBLIC's and its own roles'.)
  await pg.query(`GRANT CONNECT ON DATABASE ${DB} TO ${OUTSIDER}`);
  await applyBoth(pg, DB, SEEDS);
});
afterAll(async () => {
  for (const c of clients) await c.end().catch(() => undefined);
  await pg?.stop();
});

/** As a superuser, in a safe session. */
async function look(sql: string): Promise<Array<Record<string, any>>> {
  const c = await pg.connect({ database: DB, options: '-c search_path=pg_catalog,pg_temp' });
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

/**
 * Everything on objects of managed owners that the registry does not grant: an ACL entry for
 * anyone but the owner and its own service's app/user roles, a grant option, any column
 * privilege, and EXECUTE for anyone but `{p}app`. Empty after every apply.
 */
async function strayAccess(): Promise<string[]> {
  const rows = await look(`
    WITH owners AS (
      SELECT r.oid, r.rolname, left(r.rolname, -3) AS base FROM pg_roles r
      WHERE shobj_description(r.oid, 'pg_authid') LIKE 'platform-role-schema: db=${DB} tier=own %'
    )
    SELECT format('%s on %s', pg_get_userbyid(a.grantee), c.oid::regclass) AS s
    FROM pg_class c JOIN owners o ON o.oid = c.relowner, aclexplode(c.relacl) a
    WHERE a.grantee <> c.relowner AND (a.is_grantable OR pg_get_userbyid(a.grantee) NOT IN (o.base || 'app', o.base || 'user'))
    UNION ALL
    SELECT format('%s on column %s.%s', CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, c.oid::regclass, att.attname)
    FROM pg_class c JOIN owners o ON o.oid = c.relowner JOIN pg_attribute att ON att.attrelid = c.oid, aclexplode(att.attacl) a
    UNION ALL
    SELECT format('%s on %s', CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, p.oid::regprocedure)
    FROM pg_proc p JOIN owners o ON o.oid = p.proowner, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
    WHERE a.grantee <> p.proowner AND (a.is_grantable OR a.grantee = 0 OR pg_get_userbyid(a.grantee) <> o.base || 'app')
    UNION ALL
    SELECT format('default %s for %s to %s', d.defaclobjtype, pg_get_userbyid(d.defaclrole), CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END)
    FROM pg_default_acl d JOIN owners o ON o.oid = d.defaclrole, aclexplode(d.defaclacl) a
    WHERE a.grantee <> d.defaclrole AND (d.defaclnamespace = 0 OR pg_get_userbyid(a.grantee) NOT IN (o.base || 'app', o.base || 'user'))
    ORDER BY 1`);
  return rows.map((r) => r.s);
}

/** Members of managed roles that are neither managed nor the applier. */
async function strayMembers(): Promise<string[]> {
  const rows = await look(`
    SELECT format('%s in %s (granted by %s)', m.member::regrole, m.roleid::regrole, m.grantor::regrole) AS s
    FROM pg_auth_members m
    WHERE shobj_description(m.roleid, 'pg_authid') LIKE 'platform-role-schema:%'
      AND m.member <> '${APPLIER}'::regrole
      AND coalesce(shobj_description(m.member, 'pg_authid'), '') NOT LIKE 'platform-role-schema:%'
    ORDER BY 1`);
  return rows.map((r) => r.s);
}

async function reapply() {
  const r = await applyBoth(pg, DB, SEEDS);
  expect(await strayAccess()).toEqual([]);
  return r;
}

test('the seed database starts clean, and a re-apply is a no-op', async () => {
  expect(await strayAccess()).toEqual([]);
  expect(await strayMembers()).toEqual([]);
  expect((await reapply()).main.executed).toBe(0);
});

test('column privileges: granted by the owner to another service and beyond its own tiers, gone after the apply', async () => {
  const gtown = await as('gtown');
  await gtown.query("CREATE TABLE gt_cols (id int, secret text); INSERT INTO gt_cols VALUES (1, 's3cret')");
  await gtown.query('GRANT SELECT (secret) ON gt_cols TO agapp');
  await gtown.query('GRANT UPDATE (secret) ON gt_cols TO gtuser');
  await gtown.query(`GRANT SELECT (id) ON gt_cols TO ${OUTSIDER}`);
  const agapp = await as('agapp');
  const gtuser = await as('gtuser');
  expect(await attempt(agapp, 'SELECT secret FROM gt_cols')).toBe('ok');
  expect(await strayAccess()).toEqual(expect.arrayContaining(['agapp on column public.gt_cols.secret', 'gtuser on column public.gt_cols.secret', `${OUTSIDER} on column public.gt_cols.id`]));

  const { main } = await reapply();
  expect(main.statements.map((s) => s.display)).toEqual(expect.arrayContaining(['REVOKE ALL ON TABLE "public"."gt_cols" FROM "agapp" CASCADE']));
  expect(await attempt(agapp, 'SELECT secret FROM gt_cols')).toMatch(/permission denied/);
  expect(await attempt(gtuser, "UPDATE gt_cols SET secret = 'x'")).toMatch(/permission denied/);
  expect(await attempt(await as(OUTSIDER), 'SELECT id FROM gt_cols')).toMatch(/permission denied/);
  // The service's own tiers keep their table-level grants.
  expect((await gtuser.query('SELECT secret FROM gt_cols')).rows).toEqual([{ secret: 's3cret' }]);
  expect((await reapply()).main.executed).toBe(0);
});

test('grants to roles outside the registry (pg_monitor, rds_iam, any role), direct, by grant option and by default privileges, gone after the apply', async () => {
  const gtown = await as('gtown');
  await gtown.query("CREATE TABLE gt_ledger (v text); INSERT INTO gt_ledger VALUES ('private'); CREATE SEQUENCE gt_ledger_seq");
  await gtown.query('GRANT SELECT ON gt_ledger TO pg_monitor, rds_iam');
  await gtown.query(`GRANT SELECT ON gt_ledger TO ${OUTSIDER} WITH GRANT OPTION`);
  await gtown.query(`GRANT USAGE ON SEQUENCE gt_ledger_seq TO ${OUTSIDER}`);
  await gtown.query(`ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO ${OUTSIDER}`);
  await gtown.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO pg_monitor`);
  // The outsider passes it on with the grant option: its grant has the outsider as grantor.
  const outsider = await as(OUTSIDER);
  await outsider.query(`GRANT SELECT ON gt_ledger TO ${MONITORING_ROLE}`);
  const monitor = await loginAs(pg, MONITORING_ROLE, DB);
  clients.push(monitor);
  expect(await attempt(monitor, 'SELECT * FROM gt_ledger')).toBe('ok');

  await reapply();
  expect(await attempt(outsider, 'SELECT * FROM gt_ledger')).toMatch(/permission denied/);
  expect(await attempt(outsider, "SELECT nextval('gt_ledger_seq')")).toMatch(/permission denied/);
  expect(await attempt(monitor, 'SELECT * FROM gt_ledger')).toMatch(/permission denied/);
  // Default privileges: a table made after the apply goes to no one outside the service.
  await gtown.query('CREATE TABLE gt_later (v text)');
  expect(await attempt(outsider, 'SELECT * FROM gt_later')).toMatch(/permission denied/);
  expect(await attempt(monitor, 'SELECT * FROM gt_later')).toMatch(/permission denied/);
  expect(await strayAccess()).toEqual([]);
  expect((await reapply()).main.executed).toBe(0);
});

test('memberships in managed roles granted to unmanaged roles, and passed on with ADMIN, gone after the apply', async () => {
  // The hostile owner cannot hand out its own role (PostgreSQL 16: no implicit ADMIN on oneself).
  expect(await attempt(await as('gtown'), `GRANT gtown TO ${OUTSIDER}`)).toMatch(/permission denied/);
  // An operator's session (the applier holds ADMIN on every managed role) can.
  const a = await applierConnection(pg, DB);
  clients.push(a);
  await a.query(`GRANT gtapp TO ${OUTSIDER}`);
  await a.query(`GRANT pmuser TO ${OUTSIDER} WITH ADMIN OPTION`);
  // ...and with ADMIN the outsider passes pmuser on (grantor: the outsider).
  await pg.query('CREATE ROLE second_hand NOLOGIN');
  await (await as(OUTSIDER)).query('GRANT pmuser TO second_hand');
  expect(await strayMembers()).toEqual([
    `${OUTSIDER} in gtapp (granted by ${APPLIER})`,
    `${OUTSIDER} in pmuser (granted by ${APPLIER})`,
    `second_hand in pmuser (granted by ${OUTSIDER})`,
  ]);
  const { main } = await reapply();
  expect(main.warnings).toEqual([]);
  expect(await strayMembers()).toEqual([]);
  expect(await attempt(await as(OUTSIDER), 'SET ROLE gtapp')).toMatch(/permission denied/);
  expect((await reapply()).main.executed).toBe(0);
});

test('EXECUTE on a SECURITY DEFINER routine that returns a service\'s rows: only that service\'s app role keeps it; PUBLIC gets none on new ones', async () => {
  const agown = await as('agown');
  await agown.query("CREATE TABLE ag_secret (v text); INSERT INTO ag_secret VALUES ('ag-only')");
  await agown.query('CREATE FUNCTION ag_leak() RETURNS SETOF text LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$ SELECT v FROM public.ag_secret $$');
  await agown.query('CREATE PROCEDURE ag_wipe() LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$ DELETE FROM public.ag_secret WHERE false $$');
  const gtapp = await as('gtapp');
  const agapp = await as('agapp');
  // New routines of a managed owner: default privileges already kept PUBLIC out, and gave agapp EXECUTE.
  expect(await attempt(gtapp, 'SELECT * FROM ag_leak()')).toMatch(/permission denied for function ag_leak/);
  expect((await agapp.query('SELECT * FROM ag_leak() AS v')).rows).toEqual([{ v: 'ag-only' }]);
  // The hostile owner hands it out anyway: to another service, to PUBLIC, to an outsider.
  await agown.query(`GRANT EXECUTE ON FUNCTION ag_leak() TO gtapp, PUBLIC, ${OUTSIDER}`);
  await agown.query('GRANT EXECUTE ON PROCEDURE ag_wipe() TO gtapp');
  await agown.query('ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC');
  expect((await gtapp.query('SELECT * FROM ag_leak() AS v')).rows).toEqual([{ v: 'ag-only' }]);

  await reapply();
  expect(await attempt(gtapp, 'SELECT * FROM ag_leak()')).toMatch(/permission denied/);
  expect(await attempt(gtapp, 'CALL ag_wipe()')).toMatch(/permission denied/);
  expect(await attempt(await as(OUTSIDER), 'SELECT * FROM ag_leak()')).toMatch(/permission denied/);
  expect((await agapp.query('SELECT * FROM ag_leak() AS v')).rows).toEqual([{ v: 'ag-only' }]);
  // The default was repaired too: a function made after the apply is not PUBLIC's.
  await agown.query('CREATE FUNCTION ag_later() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$');
  expect(await attempt(gtapp, 'SELECT ag_later()')).toMatch(/permission denied/);
  expect((await reapply()).main.executed).toBe(0);
});

test('memberships granted by a superuser: the apply does not fail, names each one, and a superuser apply removes them', async () => {
  await pg.query(`GRANT agapp TO gtuser; GRANT lgapp TO ${OUTSIDER}`, [], DB);
  const { main } = await applyBoth(pg, DB, SEEDS);
  expect(main.warnings).toEqual([
    expect.stringMatching(/^membership of "gtuser" in "agapp" \(granted by "postgres"\) is not in the registry, but "applier" cannot revoke it .*REVOKE "agapp" FROM "gtuser" GRANTED BY "postgres" CASCADE$/),
    expect.stringMatching(/^membership of "outsider" in "lgapp" \(granted by "postgres"\)/),
  ]);
  // Reported again, and nothing else to do.
  const again = await applyBoth(pg, DB, SEEDS);
  expect(again.main.executed).toBe(0);
  expect(again.main.warnings).toHaveLength(2);
  // Where the applier can (here, a superuser runs the main step), they are removed.
  const su = await pg.connect({ database: DB });
  clients.push(su);
  const bySuperuser = await applyRoleSchema(su, SEEDS, { steps: 'main' });
  expect(bySuperuser.warnings).toEqual([]);
  expect(await strayMembers()).toEqual([]);
  expect((await look("SELECT count(*)::int AS n FROM pg_auth_members WHERE roleid = 'agapp'::regrole AND member = 'gtuser'::regrole"))[0].n).toBe(0);
  expect((await applyBoth(pg, DB, SEEDS)).main.executed).toBe(0);
});
