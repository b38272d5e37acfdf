/**
 * The applier on a real PostgreSQL 16, run as a non-superuser CREATEROLE/CREATEDB role (as the RDS
 * master user is); only the privileged step (event trigger, extension) runs as a superuser.
 */
import type { Client } from 'pg';
import { applyRoleSchema } from '../../../lambda/role-schema/apply';
import { MONITORING_ROLE } from '../../../lambda/role-schema/desired';
import { scramVerifier } from '../../../lambda/role-schema/scram';
import { DEFAULT_SERVICES, roleNames } from '../../../lib/config/service-registry';
import { readServerLogs, startPostgres, type TestPostgres } from '../../support/postgres';
import { APPLIER, applierConnection, applyBoth, attempt, createDatabase, ddlIn, desiredFor, loginAs, passwordOf, recording, setupCluster } from './fixtures';

let pg: TestPostgres;
/** Every password the tests gave to a role; none may appear in the server log. */
const passwordsUsed = new Set<string>();

beforeAll(async () => {
  pg = await startPostgres(['-c', 'log_statement=all', '-c', 'shared_preload_libraries=pg_stat_statements']);
  await setupCluster(pg);
});
afterAll(async () => pg?.stop());

const SEEDS = desiredFor(DEFAULT_SERVICES);
for (const r of SEEDS.roles) passwordsUsed.add(passwordOf(r.name));

describe('the seed registry (12 services) on an empty database', () => {
  const DB = 'matrix';
  const c: Record<string, Client> = {};

  beforeAll(async () => {
    await createDatabase(pg, DB);
    await pg.query('CREATE SCHEMA other', [], DB);
    const { main, privileged } = await applyBoth(pg, DB, SEEDS);
    expect(main.executed).toBeGreaterThan(0);
    expect(privileged.statements.map((s) => s.kind).sort()).toEqual(['event-trigger', 'event-trigger', 'extension', 'extension']);
    for (const role of ['gtown', 'gtapp', 'gtuser', 'agown', 'agapp', 'aguser', MONITORING_ROLE]) c[role] = await loginAs(pg, role, DB);
    // Objects of two services, created by each owner logged in directly.
    for (const [own, p] of [['gtown', 'gt'], ['agown', 'ag']] as const) {
      await c[own].query(`CREATE TABLE ${p}_orders (id serial PRIMARY KEY, note text)`);
      await c[own].query(`INSERT INTO ${p}_orders (note) VALUES ('first')`);
      await c[own].query(`CREATE SEQUENCE ${p}_counter`);
      await c[own].query(`CREATE VIEW ${p}_recent AS SELECT * FROM ${p}_orders`);
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(c).map((x) => x.end()));
  });

  // [role, statement, allowed?] — own service gt_, other service ag_.
  const matrix: Array<[string, string, boolean]> = [
    // {p}own: DDL in the application schema only.
    ['gtown', 'CREATE TABLE gt_ddl (id int)', true],
    ['gtown', 'ALTER TABLE gt_orders ADD COLUMN extra int', true],
    ['gtown', 'CREATE INDEX gt_orders_note ON gt_orders (note)', true],
    ['gtown', 'CREATE TABLE other.gt_elsewhere (id int)', false],
    ['gtown', 'CREATE SCHEMA gt_schema', false],
    ['gtown', 'CREATE TEMP TABLE gt_tmp (id int)', false],
    ['gtown', 'SELECT * FROM ag_orders', false],
    ['gtown', 'ALTER TABLE ag_orders ADD COLUMN x int', false],
    ['gtown', 'DROP TABLE ag_orders', false],
    ['gtown', "SELECT nextval('ag_counter')", false],
    // {p}app: DML and sequences on its own service's objects; no DDL; nothing of another service.
    ['gtapp', 'SELECT * FROM gt_orders', true],
    ['gtapp', "INSERT INTO gt_orders (note) VALUES ('by app')", true],
    ['gtapp', "UPDATE gt_orders SET note = 'x' WHERE id = 1", true],
    ['gtapp', 'DELETE FROM gt_orders WHERE id = 1', true],
    ['gtapp', "SELECT nextval('gt_counter')", true],
    ['gtapp', 'SELECT * FROM gt_recent', true],
    ['gtapp', 'TRUNCATE gt_orders', false],
    ['gtapp', 'ALTER TABLE gt_orders ADD COLUMN y int', false],
    ['gtapp', 'DROP TABLE gt_orders', false],
    ['gtapp', 'CREATE TABLE gt_by_app (id int)', false],
    ['gtapp', 'SELECT * FROM ag_orders', false],
    ['gtapp', "INSERT INTO ag_orders (note) VALUES ('x')", false],
    ['gtapp', "SELECT nextval('ag_counter')", false],
    // {p}user: SELECT only.
    ['gtuser', 'SELECT * FROM gt_orders', true],
    ['gtuser', 'SELECT * FROM gt_recent', true],
    ['gtuser', 'SELECT last_value FROM gt_counter', true],
    ['gtuser', "INSERT INTO gt_orders (note) VALUES ('x')", false],
    ['gtuser', "UPDATE gt_orders SET note = 'x'", false],
    ['gtuser', 'DELETE FROM gt_orders', false],
    ['gtuser', "SELECT nextval('gt_counter')", false],
    ['gtuser', 'CREATE TABLE gt_by_user (id int)', false],
    ['gtuser', 'SELECT * FROM ag_orders', false],
    // The mirror image: the other service cannot reach gt_.
    ['agapp', 'SELECT * FROM gt_orders', false],
    ['aguser', 'SELECT * FROM gt_orders', false],
    ['agown', 'SELECT * FROM gt_orders', false],
    ['agapp', 'SELECT * FROM ag_orders', true],
    // The monitoring role reads statistics, not data.
    [MONITORING_ROLE, 'SELECT count(*) FROM pg_stat_activity', true],
    [MONITORING_ROLE, 'SELECT count(*) FROM platform_stats.pg_stat_statements', true],
    [MONITORING_ROLE, 'SELECT * FROM gt_orders', false],
    [MONITORING_ROLE, 'CREATE TABLE monitor_t (id int)', false],
  ];

  test.each(matrix)('%s: %s → allowed=%s', async (role, sql, allowed) => {
    const client = c[role];
    await client.query('BEGIN');
    try {
      const r = await attempt(client, sql);
      if (allowed) expect(r).toBe('ok');
      else expect(r).toMatch(/permission denied|must be owner|not permitted/);
    } finally {
      await client.query('ROLLBACK');
    }
  });

  test('PUBLIC has no CREATE on the schema and no CONNECT or TEMPORARY on the database', async () => {
    const acl = await pg.query(
      `SELECT (SELECT array_agg(privilege_type) FROM aclexplode((SELECT datacl FROM pg_database WHERE datname = current_database())) WHERE grantee = 0) AS db,
              (SELECT array_agg(privilege_type) FROM aclexplode((SELECT nspacl FROM pg_namespace WHERE nspname = 'public')) WHERE grantee = 0) AS schema`,
      [],
      DB,
    );
    expect(acl.rows[0].db).toBeNull();
    expect(acl.rows[0].schema).toEqual(['USAGE']);
    await pg.query("CREATE ROLE stranger LOGIN PASSWORD 'stranger-pw'");
    await expect(pg.connect({ user: 'stranger', password: 'stranger-pw', database: DB })).rejects.toThrow(/permission denied for database/);
  });

  test('prefix enforcement: direct login as the owner', async () => {
    for (const sql of ['CREATE TABLE orders (id int)', 'CREATE VIEW recent AS SELECT 1', 'CREATE SEQUENCE counter', 'CREATE TABLE ag_stolen (id int)', 'ALTER TABLE gt_orders RENAME TO orders']) {
      await c.gtown.query('BEGIN');
      const err = await c.gtown.query(sql).then(() => undefined, (e: Error & { code?: string }) => e);
      await c.gtown.query('ROLLBACK');
      expect(err?.code).toBe('42602');
      expect(err?.message).toMatch(/owned by gtown \(service "gatherer"\) but its name does not start with the service's prefix "gt_"/);
    }
    await c.gtown.query('BEGIN');
    await expect(c.gtown.query('CREATE TABLE gt_fine (id int)')).resolves.toBeDefined();
    await c.gtown.query('ROLLBACK');
  });

  test('prefix enforcement: SET ROLE to the owner, from the applier (as the RDS master would) and from a superuser', async () => {
    const a = await applierConnection(pg, DB);
    const su = await pg.connect({ database: DB });
    try {
      for (const client of [a, su]) {
        await client.query('BEGIN; SET LOCAL ROLE gtown');
        await expect(client.query('CREATE TABLE orders_via_set_role (id int)')).rejects.toThrow(/does not start with the service's prefix "gt_"/);
        await client.query('ROLLBACK; BEGIN; SET LOCAL ROLE gtown');
        await expect(client.query('CREATE TABLE gt_via_set_role (id int)')).resolves.toBeDefined();
        await client.query('ROLLBACK');
      }
      // Objects the applier creates as itself are not any service's and are not checked.
      await a.query('BEGIN');
      await expect(a.query('CREATE TABLE platform_unprefixed (id int)')).resolves.toBeDefined();
      await a.query('ROLLBACK');
    } finally {
      await a.end();
      await su.end();
    }
  });

  test('re-apply executes no DDL, and a table created between applies is already usable', async () => {
    await c.gtown.query('CREATE TABLE gt_between (id int)');
    await c.gtown.query('CREATE SEQUENCE gt_between_seq');
    // Default privileges FOR ROLE gtown covered it at creation: no apply needed.
    expect(await attempt(c.gtapp, 'INSERT INTO gt_between VALUES (1)')).toBe('ok');
    expect(await attempt(c.gtuser, 'SELECT * FROM gt_between')).toBe('ok');
    expect(await attempt(c.gtapp, "SELECT nextval('gt_between_seq')")).toBe('ok');
    expect(await attempt(c.agapp, 'SELECT * FROM gt_between')).toMatch(/permission denied/);

    for (const steps of ['main', 'privileged'] as const) {
      const client = steps === 'main' ? await applierConnection(pg, DB) : await pg.connect({ database: DB });
      const rec = recording(client);
      try {
        const r = await applyRoleSchema(rec.client, SEEDS, { steps });
        expect(r.statements).toEqual([]);
        expect(r.executed).toBe(0);
        expect(ddlIn(rec.sent)).toEqual([]);
        expect(r.roundTrips).toBeLessThanOrEqual(3);
      } finally {
        await client.end();
      }
    }
  });

  test('a grant made by hand across services is taken back on the next apply', async () => {
    await c.gtown.query('GRANT SELECT ON gt_orders TO agapp');
    await c.gtown.query('GRANT SELECT ON gt_orders TO PUBLIC');
    await c.gtown.query('ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO aguser');
    expect(await attempt(c.agapp, 'SELECT * FROM gt_orders')).toBe('ok');
    const { main } = await applyBoth(pg, DB, SEEDS);
    expect(main.summary).toEqual({ 'object-grants': 2, 'default-privileges': 1 });
    expect(await attempt(c.agapp, 'SELECT * FROM gt_orders')).toMatch(/permission denied/);
    expect(await attempt(c.gtapp, 'SELECT * FROM gt_orders')).toBe('ok');
    expect((await applyBoth(pg, DB, SEEDS)).main.executed).toBe(0);
  });
});

describe('objects that existed before the first apply', () => {
  const DB = 'legacy';
  test('get their grants, and stray grants on them are revoked', async () => {
    await createDatabase(pg, DB);
    await pg.query('CREATE ROLE hxown NOLOGIN');
    await pg.query("CREATE ROLE hyapp LOGIN PASSWORD 'whatever'");
    await pg.query(`GRANT hyapp TO ${APPLIER} WITH ADMIN OPTION`);
    await pg.query('GRANT CREATE ON SCHEMA public TO hxown', [], DB);
    await pg.query('SET ROLE hxown; CREATE TABLE hx_legacy (id int); INSERT INTO hx_legacy VALUES (7); GRANT SELECT ON hx_legacy TO hyapp; RESET ROLE', [], DB);
    // hxown was made by the superuser: the applier gets no ADMIN on it, so this mirrors RDS, where
    // adopting a role created by someone else needs the master user to be granted it first.
    await pg.query(`GRANT hxown TO ${APPLIER} WITH ADMIN OPTION`);
    const desired = desiredFor([{ name: 'legacy', prefix: 'hx_' }, { name: 'other', prefix: 'hy_' }]);
    for (const r of desired.roles) passwordsUsed.add(passwordOf(r.name));
    await applyBoth(pg, DB, desired);
    const hxapp = await loginAs(pg, 'hxapp', DB);
    const hyapp = await loginAs(pg, 'hyapp', DB);
    try {
      expect((await hxapp.query('SELECT id FROM hx_legacy')).rows).toEqual([{ id: 7 }]);
      expect(await attempt(hyapp, 'SELECT * FROM hx_legacy')).toMatch(/permission denied/);
      expect((await applyBoth(pg, DB, desired)).main.executed).toBe(0);
    } finally {
      await hxapp.end();
      await hyapp.end();
    }
  });
});

describe('two applies at once', () => {
  test('both succeed, one does the work, the result is complete', async () => {
    const DB = 'concurrent';
    await createDatabase(pg, DB);
    const desired = desiredFor([{ name: 'ca', prefix: 'ca_' }, { name: 'cb', prefix: 'cb_' }]);
    for (const r of desired.roles) passwordsUsed.add(passwordOf(r.name));
    const clients = await Promise.all([applierConnection(pg, DB), applierConnection(pg, DB)]);
    try {
      const results = await Promise.all(clients.map((cl) => applyRoleSchema(cl, desired, { steps: 'main' })));
      const executed = results.map((r) => r.executed).sort((a, b) => a - b);
      expect(executed[0]).toBe(0);
      expect(executed[1]).toBeGreaterThan(0);
      expect((await applyRoleSchema(clients[0], desired, { steps: 'main' })).executed).toBe(0);
    } finally {
      await Promise.all(clients.map((cl) => cl.end()));
    }
    const caapp = await loginAs(pg, 'caapp', DB);
    await caapp.end();
  });
});

describe('removing a service from the registry', () => {
  const DB = 'removal';
  const both = desiredFor([{ name: 'keeper', prefix: 'rb_' }, { name: 'leaver', prefix: 'ra_' }]);
  const onlyKeeper = desiredFor([{ name: 'keeper', prefix: 'rb_' }]);
  for (const r of both.roles) passwordsUsed.add(passwordOf(r.name));

  test('NOLOGIN and no grants, data kept; re-adding restores access', async () => {
    await createDatabase(pg, DB);
    await applyBoth(pg, DB, both);
    const raown = await loginAs(pg, 'raown', DB);
    await raown.query("CREATE TABLE ra_data (v text); INSERT INTO ra_data VALUES ('precious')");
    await raown.end();

    const { main } = await applyBoth(pg, DB, onlyKeeper);
    expect(main.statements.map((s) => s.display).join('\n')).not.toMatch(/DROP/);
    for (const role of Object.values(roleNames('ra_'))) {
      await expect(loginAs(pg, role, DB)).rejects.toThrow(/not permitted to log in/);
    }
    const left = await pg.query(
      `SELECT (SELECT v FROM ra_data) AS data,
              (SELECT array_agg(DISTINCT pg_get_userbyid(grantee)::text) FROM aclexplode((SELECT relacl FROM pg_class WHERE relname = 'ra_data'))) AS table_grantees,
              -- (what is left is the owner's own entry: no EXECUTE for PUBLIC on its new functions)
              (SELECT count(*) FROM pg_default_acl d, aclexplode(d.defaclacl) a WHERE d.defaclrole = 'raown'::regrole AND a.grantee <> d.defaclrole) AS default_acls,
              (SELECT array_agg(pg_get_userbyid(grantee)::text) FROM aclexplode((SELECT datacl FROM pg_database WHERE datname = current_database())) WHERE pg_get_userbyid(grantee) LIKE 'ra%') AS db_grantees,
              (SELECT array_agg(pg_get_userbyid(grantee)::text) FROM aclexplode((SELECT nspacl FROM pg_namespace WHERE nspname = 'public')) WHERE pg_get_userbyid(grantee) LIKE 'ra%') AS schema_grantees,
              (SELECT array_agg(active) FROM platform_roles.service WHERE prefix = 'ra_') AS registry`,
      [],
      DB,
    );
    expect(left.rows[0]).toEqual({ data: 'precious', table_grantees: ['raown'], default_acls: '0', db_grantees: null, schema_grantees: null, registry: [false] });
    // The retired prefix stays reserved: raown's objects must still carry it.
    await expect(pg.query('BEGIN; CREATE TABLE nope (id int); ALTER TABLE nope OWNER TO raown; COMMIT', [], DB)).rejects.toThrow(/prefix "ra_"/);
    expect((await applyBoth(pg, DB, onlyKeeper)).main.executed).toBe(0);

    await applyBoth(pg, DB, both);
    const raapp = await loginAs(pg, 'raapp', DB);
    try {
      expect((await raapp.query('SELECT v FROM ra_data')).rows).toEqual([{ v: 'precious' }]);
    } finally {
      await raapp.end();
    }
  });
});

describe('auth: iam', () => {
  test('members of rds_iam, no password; switching back to a password revokes it', async () => {
    const DB = 'iamdb';
    await createDatabase(pg, DB);
    const iam = desiredFor([{ name: 'iamsvc', prefix: 'ia_', auth: 'iam' }]);
    const { main } = await applyBoth(pg, DB, iam);
    // Recorded as IAM; no password set for any ia* role.
    expect(main.statements.filter((s) => /PASSWORD/.test(s.sql) && /"ia(own|app|user)"/.test(s.sql))).toEqual([]);
    expect(main.statements.some((s) => /INSERT INTO platform_roles.credential/.test(s.sql) && /'iaapp', 'iam'/.test(s.sql))).toBe(true);
    const members = async () =>
      (await pg.query("SELECT array_agg(pg_get_userbyid(member)::text ORDER BY 1) AS m FROM pg_auth_members WHERE roleid = 'rds_iam'::regrole AND member <> 'applier'::regrole")).rows[0].m;
    expect(await members()).toEqual(['iaapp', 'iaown', 'iauser']);
    expect((await pg.query("SELECT count(*) AS n FROM pg_authid WHERE rolname LIKE 'ia%' AND rolpassword IS NOT NULL")).rows[0].n).toBe('0');
    expect((await applyBoth(pg, DB, iam)).main.executed).toBe(0);

    const pw = desiredFor([{ name: 'iamsvc', prefix: 'ia_', auth: 'password' }]);
    for (const r of pw.roles) passwordsUsed.add(passwordOf(r.name));
    await applyBoth(pg, DB, pw);
    expect(await members()).toBeNull();
    const iaapp = await loginAs(pg, 'iaapp', DB);
    await iaapp.end();
  });

  test('a role with neither password nor IAM is NOLOGIN', async () => {
    const DB = 'nologin';
    await createDatabase(pg, DB);
    await applyBoth(pg, DB, desiredFor([{ name: 'quiet', prefix: 'qq_' }], { password: () => undefined }));
    expect((await pg.query("SELECT bool_or(rolcanlogin) AS any FROM pg_roles WHERE rolname IN ('qqown','qqapp','qquser')")).rows[0].any).toBe(false);
  });
});

describe('a configurable application schema', () => {
  test('created when missing; owners create there and only there', async () => {
    const DB = 'schemadb';
    await createDatabase(pg, DB);
    const desired = desiredFor([{ name: 'schemasvc', prefix: 'sa_' }], { appSchema: 'app' });
    for (const r of desired.roles) passwordsUsed.add(passwordOf(r.name));
    await applyBoth(pg, DB, desired);
    const own = await loginAs(pg, 'saown', DB);
    const app = await loginAs(pg, 'saapp', DB);
    try {
      expect(await attempt(own, 'CREATE TABLE app.sa_t (id int)')).toBe('ok');
      expect(await attempt(own, 'CREATE TABLE public.sa_t (id int)')).toMatch(/permission denied/);
      expect(await attempt(app, 'INSERT INTO app.sa_t VALUES (1)')).toBe('ok');
    } finally {
      await own.end();
      await app.end();
    }
    expect((await applyBoth(pg, DB, desired)).main.executed).toBe(0);
  });
});

describe('failures are explained', () => {
  test('the privileged step as a non-superuser names what it cannot do', async () => {
    await createDatabase(pg, 'privdb');
    const a = await applierConnection(pg, 'privdb');
    try {
      await expect(applyRoleSchema(a, desiredFor([{ name: 'pv', prefix: 'pv_' }]))).rejects.toThrow(/neither a superuser nor a member of rds_superuser.*extensions or the event trigger/);
      // Nothing was left behind.
      expect((await pg.query("SELECT count(*) AS n FROM pg_roles WHERE rolname LIKE 'pv%'")).rows[0].n).toBe('0');
    } finally {
      await a.end();
    }
  });

  test('a statement the server rejects is named in the error and nothing is committed', async () => {
    await pg.query('CREATE ROLE fxapp SUPERUSER');
    await createDatabase(pg, 'faildb');
    const a = await applierConnection(pg, 'faildb');
    try {
      const err = await applyRoleSchema(a, desiredFor([{ name: 'fx', prefix: 'fx_' }]), { steps: 'main' }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/permission denied to alter role .*; statement: ALTER ROLE "fxapp" WITH LOGIN NOSUPERUSER$/);
      expect((await pg.query("SELECT count(*) AS n FROM pg_roles WHERE rolname = 'fxown'")).rows[0].n).toBe('0');
    } finally {
      await a.end();
    }
  });

  test('the drop-before-upgrade path removes the event triggers and gives the owners CREATE back; re-enabling closes it again', async () => {
    const desired = { ...SEEDS, eventTrigger: 'absent' as const };
    const { main, privileged } = await applyBoth(pg, 'matrix', desired);
    // Without the triggers nothing opens a CREATE window, so the owner roles get CREATE back directly.
    expect(main.statements.map((s) => s.kind)).toEqual(['schema', 'schema']);
    expect(privileged.statements.map((s) => s.display.split(';\n').slice(0, 2))).toEqual([['DROP EVENT TRIGGER IF EXISTS platform_roles_enforce_prefix', 'DROP EVENT TRIGGER IF EXISTS platform_roles_open_ddl']]);
    expect((await pg.query("SELECT has_schema_privilege('gtown', 'public', 'CREATE') AS c", [], 'matrix')).rows[0].c).toBe(true);
    expect((await applyBoth(pg, 'matrix', SEEDS)).privileged.executed).toBe(2);
    expect((await pg.query("SELECT has_schema_privilege('gtown', 'public', 'CREATE') AS c", [], 'matrix')).rows[0].c).toBe(false);
    expect((await applyBoth(pg, 'matrix', SEEDS)).main.executed).toBe(0);
  });
});

test("the client-computed verifier equals PostgreSQL's own for the same salt", async () => {
  await pg.query("CREATE ROLE scram_probe PASSWORD 'Reference-pencil-42'");
  const stored = (await pg.query("SELECT rolpassword FROM pg_authid WHERE rolname = 'scram_probe'")).rows[0].rolpassword as string;
  const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored)!;
  expect((await scramVerifier('Reference-pencil-42', { salt, iterations: Number(iterations) })).verifier).toBe(stored);
});

test('no plaintext password, and no verifier, ever reached the server log', () => {
  const log = readServerLogs(pg);
  // The password blocks ran (their text names the role, never the verifier: attack-credentials.test.ts).
  expect(log).toMatch(/CREATE ROLE %1\$I WITH LOGIN PASSWORD %2\$L', 'gtapp'/);
  expect(log).toMatch(/ALTER ROLE %1\$I PASSWORD %2\$L', 'iaapp'/);
  expect(log).not.toMatch(/PASSWORD 'SCRAM-SHA-256\$/);
  expect(passwordsUsed.size).toBeGreaterThan(30);
  for (const pw of passwordsUsed) expect(log.includes(pw)).toBe(false);
});
