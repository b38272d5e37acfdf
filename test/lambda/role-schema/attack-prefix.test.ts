/**
 * The attack suite, part 2 (issue 10, scopes 2 and 3): prefix enforcement with no side doors, and
 * a prefix-enforcement trigger the applier cannot undermine. On a real PostgreSQL 16 shaped like
 * RDS: the applier is a non-superuser CREATEROLE/CREATEDB role that owns the database, a superuser
 * runs the privileged step only; the 12 seed services.
 *
 * What fires an event trigger, and what the command list reports, is PostgreSQL's own behaviour:
 * https://www.postgresql.org/docs/16/event-trigger-matrix.html,
 * https://www.postgresql.org/docs/16/functions-event-triggers.html. ALTER INDEX applies to tables,
 * sequences and views too ("ALTER INDEX … RENAME" on a table reports the table):
 * https://www.postgresql.org/docs/16/sql-alterindex.html.
 */
import type { Client } from 'pg';
import { applyRoleSchema } from '../../../lambda/role-schema/apply';
import { main as rolesCli } from '../../../lambda/role-schema/cli';
import { DEFAULT_SERVICES } from '../../../lib/config/service-registry';
import { startPostgres, type TestPostgres } from '../../support/postgres';
import { APPLIER, applierConnection, applyBoth, createDatabase, desiredFor, loginAs, passwordOf, setupCluster } from './fixtures';

let pg: TestPostgres;
const DB = 'victim';
const SEEDS = desiredFor(DEFAULT_SERVICES);
const c: Record<string, Client> = {};

beforeAll(async () => {
  pg = await startPostgres();
  await setupCluster(pg);
  await createDatabase(pg, DB);
  await applyBoth(pg, DB, SEEDS);
  c.gtown = await loginAs(pg, 'gtown', DB);
  c.agown = await loginAs(pg, 'agown', DB);
  c.applier = await applierConnection(pg, DB);
  c.su = await pg.connect({ database: DB });
  await c.gtown.query('CREATE TABLE gt_orders (id serial PRIMARY KEY, note text); CREATE SEQUENCE gt_counter; CREATE VIEW gt_recent AS SELECT * FROM gt_orders');
});
afterAll(async () => {
  for (const k of Object.keys(c)) await c[k].end().catch(() => undefined);
  await pg?.stop();
});

/** Runs `sql` in a transaction that is always rolled back; returns the error (or undefined). */
async function inTx(client: Client, sql: string, setRole?: string): Promise<(Error & { code?: string }) | undefined> {
  await client.query('BEGIN');
  try {
    if (setRole) await client.query(`SET LOCAL ROLE ${setRole}`);
    await client.query(sql);
    return undefined;
  } catch (e) {
    return e as Error & { code?: string };
  } finally {
    await client.query('ROLLBACK');
  }
}

/** The same attack as gtown logged in directly, and as the applier and a superuser after SET ROLE gtown. */
async function rejectedEverywhere(sql: string, message: RegExp, code = '42602'): Promise<void> {
  for (const [client, setRole] of [[c.gtown, undefined], [c.applier, 'gtown'], [c.su, 'gtown']] as const) {
    const err = await inTx(client, sql, setRole);
    expect({ via: setRole ? `SET ROLE from ${setRole && client === c.su ? 'superuser' : 'applier'}` : 'login', error: err?.message }).toEqual({
      via: expect.any(String),
      error: expect.stringMatching(message),
    });
    expect(err?.code).toBe(code);
  }
}

const NOT_PREFIXED = /is owned by gtown \(service "gatherer"\) but its name does not start with the service's prefix "gt_"/;

describe('scope 2: prefix enforcement has no side doors', () => {
  test.each([
    ['a table', 'ALTER INDEX gt_orders RENAME TO orders'],
    ['a sequence', 'ALTER INDEX gt_counter RENAME TO counter'],
    ['a view', 'ALTER INDEX gt_recent RENAME TO recent'],
    ['a table, onto another service\'s prefix', 'ALTER INDEX gt_orders RENAME TO ag_orders'],
  ])('ALTER INDEX … RENAME applied to %s', async (_what, sql) => {
    await rejectedEverywhere(sql, NOT_PREFIXED);
  });

  test('CREATE SCHEMA … AUTHORIZATION gtown with a CREATE TABLE inside (the applier, which may create schemas, runs it)', async () => {
    const err = await inTx(c.applier, 'CREATE SCHEMA gt_side AUTHORIZATION gtown CREATE TABLE orders (id int)');
    expect(err?.message).toMatch(/table "gt_side\.orders" is owned by gtown .* prefix "gt_"/);
    // An unprefixed schema handed to a service is refused too.
    expect((await inTx(c.applier, 'CREATE SCHEMA side AUTHORIZATION gtown'))?.message).toMatch(/schema "side\.side" is owned by gtown/);
    expect(await inTx(c.applier, 'CREATE SCHEMA gt_side AUTHORIZATION gtown CREATE TABLE gt_orders (id int) CREATE VIEW gt_v AS SELECT 1 AS one')).toBeUndefined();
  });

  test.each([
    ['an index', 'CREATE INDEX orders_note ON gt_orders (note)'],
    ['an index made by a constraint', 'ALTER TABLE gt_orders ADD CONSTRAINT note_unique UNIQUE (note)'],
    ['an index renamed through its constraint', 'ALTER TABLE gt_orders ADD CONSTRAINT gt_note_unique UNIQUE (note); ALTER TABLE gt_orders RENAME CONSTRAINT gt_note_unique TO note_unique'],
    ['a function', 'CREATE FUNCTION starts_with(name, text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$'],
    ['a procedure', 'CREATE PROCEDURE migrate() LANGUAGE sql AS $$ SELECT 1 $$'],
    ['an aggregate', 'CREATE AGGREGATE total(int) (sfunc = int4pl, stype = int)'],
    ['a function renamed', 'CREATE FUNCTION gt_f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; ALTER FUNCTION gt_f() RENAME TO f'],
    ['an enum type', "CREATE TYPE status AS ENUM ('a')"],
    ['a composite type', 'CREATE TYPE pair AS (a int, b int)'],
    ['a domain', 'CREATE DOMAIN positive AS int CHECK (VALUE > 0)'],
    ['a range type', 'CREATE TYPE span AS RANGE (subtype = int4)'],
    ['a type renamed', "CREATE TYPE gt_status AS ENUM ('a'); ALTER TYPE gt_status RENAME TO status"],
    ['a materialized view', 'CREATE MATERIALIZED VIEW totals AS SELECT 1 AS one'],
    ['a collation', 'CREATE COLLATION nocase (provider = icu, locale = \'und-u-ks-level2\', deterministic = false)'],
    ['a text search configuration', 'CREATE TEXT SEARCH CONFIGURATION search (COPY = simple)'],
    ['a statistics object', 'CREATE STATISTICS note_stats ON id, note FROM gt_orders'],
    ['a table in a DO block', "DO $$ BEGIN EXECUTE 'CREATE TABLE in_do (id int)'; END $$"],
    ['a table made by SELECT INTO', 'SELECT 1 AS one INTO selected'],
    ['a table made by CREATE TABLE AS', 'CREATE TABLE copied AS SELECT 1 AS one'],
    ['a partition', 'CREATE TABLE gt_parts (id int) PARTITION BY RANGE (id); CREATE TABLE part_1 PARTITION OF gt_parts FOR VALUES FROM (1) TO (10)'],
    ['a sequence made by a serial column', 'CREATE TABLE gt_serial (id int); ALTER TABLE gt_serial ADD COLUMN n serial; ALTER SEQUENCE gt_serial_n_seq RENAME TO n_seq'],
  ])('%s without the prefix', async (_what, sql) => {
    await rejectedEverywhere(sql, NOT_PREFIXED);
  });

  test('name squatting on another service\'s prefix breaks nothing: each kind is refused', async () => {
    for (const sql of [
      'CREATE TABLE ag_invoices (id int)',
      'CREATE INDEX ag_orders_idx ON gt_orders (note)',
      'CREATE FUNCTION ag_total() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
      "CREATE TYPE ag_status AS ENUM ('a')",
      'CREATE SEQUENCE ag_seq',
      'CREATE VIEW ag_view AS SELECT 1 AS one',
    ]) {
      await rejectedEverywhere(sql, NOT_PREFIXED);
    }
    // agown's own migration then works.
    expect(await inTx(c.agown, "CREATE TABLE ag_invoices (id int); CREATE FUNCTION ag_total() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; CREATE TYPE ag_status AS ENUM ('a')")).toBeUndefined();
  });

  test('operators: only on the service\'s own types (a look-alike of a catalog operator is refused)', async () => {
    await rejectedEverywhere(
      'CREATE FUNCTION gt_eq(oid, integer) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$; CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = integer, FUNCTION = gt_eq)',
      /operator public\.= is owned by gtown \(service "gatherer"\) but takes none of the service's own types/,
    );
    expect(
      await inTx(c.gtown, "CREATE TYPE gt_money AS (cents bigint); CREATE FUNCTION gt_money_eq(gt_money, gt_money) RETURNS boolean LANGUAGE sql AS $$ SELECT $1.cents = $2.cents $$; CREATE OPERATOR === (LEFTARG = gt_money, RIGHTARG = gt_money, FUNCTION = gt_money_eq)"),
    ).toBeUndefined();
  });

  test('ALTER … OWNER TO gtown of an unprefixed object is refused, whoever runs it', async () => {
    // The applier is stopped by PostgreSQL itself (the new owner needs CREATE on the schema, which an
    // owner role holds only while its own DDL runs); a superuser, who skips that check, by the trigger.
    expect((await inTx(c.applier, 'CREATE TABLE handed_over (id int); ALTER TABLE handed_over OWNER TO gtown'))?.message).toMatch(/permission denied for schema public/);
    expect((await inTx(c.su, 'CREATE TABLE handed_over (id int); ALTER TABLE handed_over OWNER TO gtown'))?.message).toMatch(/table "public\.handed_over" is owned by gtown/);
  });

  test('a legitimate migration, logged in as gtown: its own prefixed objects of every kind, altered and dropped', async () => {
    const migration = `
      CREATE TABLE gt_items (id bigserial PRIMARY KEY, sku text UNIQUE, qty int CHECK (qty >= 0));
      CREATE INDEX gt_items_qty ON gt_items (qty);
      CREATE SEQUENCE gt_batch;
      CREATE VIEW gt_in_stock AS SELECT * FROM gt_items WHERE qty > 0;
      CREATE MATERIALIZED VIEW gt_totals AS SELECT count(*) AS n FROM gt_items;
      CREATE TYPE gt_state AS ENUM ('new', 'done');
      CREATE DOMAIN gt_qty AS int CHECK (VALUE >= 0);
      CREATE FUNCTION gt_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
      CREATE TRIGGER touch BEFORE UPDATE ON gt_items FOR EACH ROW EXECUTE FUNCTION gt_touch();
      CREATE TABLE gt_copy AS SELECT * FROM gt_items;
      SELECT * INTO gt_copy2 FROM gt_items;
      ALTER TABLE gt_items ADD COLUMN state gt_state DEFAULT 'new', ADD CONSTRAINT gt_items_sku_qty UNIQUE (sku, qty);
      ALTER TABLE gt_items RENAME COLUMN qty TO quantity;
      ALTER TABLE gt_items RENAME TO gt_stock;
      ALTER INDEX gt_items_qty RENAME TO gt_stock_qty;
      COMMENT ON TABLE gt_stock IS 'stock';
      REFRESH MATERIALIZED VIEW gt_totals;
      INSERT INTO gt_stock (sku, quantity) VALUES ('a', 1);
      DROP VIEW gt_in_stock;
      DROP TABLE gt_copy, gt_copy2;
      DROP FUNCTION gt_touch() CASCADE;
      DROP TYPE gt_qty;
      GRANT SELECT ON gt_stock TO gtuser`;
    expect(await inTx(c.gtown, migration)).toBeUndefined();
    expect(await inTx(c.applier, migration, 'gtown')).toBeUndefined();
  });
});

describe('scope 2: routes that fire no event trigger (EXPLAIN ANALYZE, REASSIGN OWNED)', () => {
  const DENIED = /permission denied for schema public/;

  test.each([
    ['EXPLAIN ANALYZE CREATE TABLE … AS', 'EXPLAIN ANALYZE CREATE TABLE explained AS SELECT 1 AS one'],
    ['EXPLAIN ANALYZE CREATE TABLE … AS … WITH NO DATA', 'EXPLAIN ANALYZE CREATE TABLE explained AS SELECT 1 AS one WITH NO DATA'],
    ['EXPLAIN ANALYZE SELECT … INTO', 'EXPLAIN ANALYZE SELECT 1 AS one INTO explained'],
    ['EXPLAIN ANALYZE CREATE MATERIALIZED VIEW', 'EXPLAIN ANALYZE CREATE MATERIALIZED VIEW explained AS SELECT 1 AS one'],
    ['EXPLAIN ANALYZE CREATE TABLE … AS onto another service\'s prefix', 'EXPLAIN ANALYZE CREATE TABLE ag_explained AS SELECT 1 AS one'],
    ['EXPLAIN ANALYZE CREATE TABLE … AS right after a DDL command in the same transaction', 'CREATE TABLE gt_before (id int); EXPLAIN ANALYZE CREATE TABLE explained AS SELECT 1 AS one'],
  ])('%s: refused, no CREATE privilege outside a DDL command', async (_what, sql) => {
    await rejectedEverywhere(sql, DENIED, '42501');
  });

  test('EXPLAIN ANALYZE run by code inside a DDL command (while the CREATE window is open) is caught when the command ends', async () => {
    await rejectedEverywhere(
      "CREATE FUNCTION gt_sneak() RETURNS int LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'EXPLAIN ANALYZE CREATE TABLE sneaky AS SELECT 1 AS one'; RETURN 1; END $$; CREATE TABLE gt_cover AS SELECT gt_sneak() AS n",
      /table "public\.sneaky" is owned by gtown .* prefix "gt_"/,
    );
  });

  test('the CREATE window closes: after a committed DDL command no owner holds CREATE or platform_ddl', async () => {
    await c.gtown.query('CREATE TABLE gt_window (id int); DROP TABLE gt_window');
    const r = await c.su.query(
      "SELECT has_schema_privilege('gtown', 'public', 'CREATE') AS can, (SELECT count(*)::int FROM pg_auth_members WHERE roleid = 'platform_ddl'::regrole) AS members",
    );
    expect(r.rows[0]).toEqual({ can: false, members: 0 });
  });

  test('REASSIGN OWNED … TO gtown: refused for every role the registry lets gtown hold', async () => {
    await c.su.query("CREATE ROLE legacy NOLOGIN; CREATE TABLE legacy_orders (id int); ALTER TABLE legacy_orders OWNER TO legacy");
    for (const from of ['agown', APPLIER, 'legacy', 'gtapp', 'platform_ddl']) {
      await rejectedEverywhere(`REASSIGN OWNED BY ${from} TO gtown`, /permission denied to reassign objects/, '42501');
    }
  });

  test('platform_ddl owns nothing: handing objects to it from inside a DDL command is refused', async () => {
    // gtown holds platform_ddl during its command, but without SET, so PostgreSQL refuses itself.
    await rejectedEverywhere(
      "CREATE FUNCTION gt_hand_over() RETURNS int LANGUAGE plpgsql AS $$ BEGIN REASSIGN OWNED BY gtown TO platform_ddl; RETURN 1; END $$; CREATE TABLE gt_cover AS SELECT gt_hand_over() AS n",
      /must be able to SET ROLE "platform_ddl"/,
      '42501',
    );
    // And the trigger refuses it even from a superuser, who skips that check.
    expect((await inTx(c.su, 'CREATE TABLE gt_given (id int); ALTER TABLE gt_given OWNER TO platform_ddl'))?.message).toMatch(/table public\.gt_given is owned by platform_ddl, which may own nothing/);
  });
});

describe('scope 3: the trigger cannot be undermined', () => {
  test('the applier can neither replace nor drop the function, nor create beside it', async () => {
    for (const sql of [
      'CREATE OR REPLACE FUNCTION platform_guard.enforce_prefix() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$',
      'DROP FUNCTION platform_guard.enforce_prefix() CASCADE',
      'DROP SCHEMA platform_guard CASCADE',
      'ALTER FUNCTION platform_guard.enforce_prefix() SECURITY INVOKER',
      'CREATE TABLE platform_guard.x (id int)',
      'DROP EVENT TRIGGER platform_roles_enforce_prefix',
      'ALTER EVENT TRIGGER platform_roles_enforce_prefix DISABLE',
    ]) {
      expect({ sql, error: (await inTx(c.applier, sql))?.message }).toEqual({ sql, error: expect.stringMatching(/must be owner|permission denied/) });
    }
    // The registry it reads is checked to be a plain table: the applier (its owner) swapping in a
    // view does not make the superuser's function run the view's code, and does not disarm it.
    await c.applier.query('BEGIN');
    try {
      await c.applier.query('ALTER TABLE platform_roles.service RENAME TO service_t');
      await c.applier.query('CREATE VIEW platform_roles.service AS SELECT * FROM platform_roles.service_t');
      await c.applier.query('COMMIT');
    } catch (e) {
      await c.applier.query('ROLLBACK');
      throw e;
    }
    try {
      // With no plain table to read, the functions read nothing (so no view code runs as their
      // owner), and no CREATE window opens: it fails closed.
      expect((await inTx(c.gtown, 'CREATE TABLE gt_via_view (id int)'))?.message).toMatch(/permission denied for schema public/);
    } finally {
      await c.applier.query('DROP VIEW platform_roles.service; ALTER TABLE platform_roles.service_t RENAME TO service');
    }
    expect((await inTx(c.gtown, 'CREATE TABLE via_table (id int)'))?.message).toMatch(NOT_PREFIXED);
  });

  test.each([
    [
      'replaced by a no-op',
      "CREATE OR REPLACE FUNCTION platform_guard.enforce_prefix() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ BEGIN END $$",
      /function platform_guard\.enforce_prefix\(\) had been replaced/,
    ],
    [
      'replaced by one that fails every command',
      // (disabled meanwhile, or the replacement would refuse its own CREATE OR REPLACE)
      "ALTER EVENT TRIGGER platform_roles_enforce_prefix DISABLE; CREATE OR REPLACE FUNCTION platform_guard.enforce_prefix() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ BEGIN RAISE EXCEPTION 'no DDL for anyone'; END $$; ALTER EVENT TRIGGER platform_roles_enforce_prefix ENABLE",
      /function platform_guard\.enforce_prefix\(\) had been replaced/,
    ],
    ['dropped with its trigger', 'DROP FUNCTION platform_guard.enforce_prefix() CASCADE', /function platform_guard\.enforce_prefix\(\) was missing; event trigger platform_roles_enforce_prefix was missing/],
    ['made SECURITY INVOKER', 'ALTER FUNCTION platform_guard.enforce_prefix() SECURITY INVOKER', /had lost SECURITY DEFINER/],
    ['handed to the applier', `ALTER FUNCTION platform_guard.enforce_prefix() OWNER TO ${APPLIER}`, new RegExp(`was owned by ${APPLIER}, not by a privileged role`)],
    ['its schema opened to the applier', `GRANT CREATE ON SCHEMA platform_guard TO ${APPLIER}`, new RegExp(`schema platform_guard granted privileges to ${APPLIER}`)],
    ['a CREATE window left open (the closing trigger disabled)', 'ALTER EVENT TRIGGER platform_roles_enforce_prefix DISABLE; GRANT platform_ddl TO gtown', /role platform_ddl had memberships \(gtown\)/],
    ['the whole schema dropped', 'DROP SCHEMA platform_guard CASCADE', /schema platform_guard was missing; event trigger platform_roles_enforce_prefix was missing/],
  ])('tampered (%s, as on RDS where the master user is the privileged role): the next privileged apply repairs it and says what it repaired', async (what, tamper, repaired) => {
    await pg.query(tamper, [], DB);
    // The main step alone (the applier cannot repair it) is not blocked, unless the function now
    // fails every DDL command: only the privileged role, which planted it, can lift that.
    const mainAlone = applyRoleSchema(c.applier, SEEDS, { steps: 'main' });
    if (what.includes('fails every command')) await expect(mainAlone).rejects.toThrow(/no DDL for anyone/);
    else await expect(mainAlone).resolves.toBeDefined();
    // Whatever was done, a full apply by the privileged role succeeds (the repair runs first) and
    // names the repair.
    const lines: string[] = [];
    const env = Object.fromEntries(SEEDS.roles.map((r) => [`ROLES_PASSWORD_${r.name.toUpperCase()}`, passwordOf(r.name)]));
    const url = pg.url({ database: DB });
    expect(await rolesCli(['apply', '--env', 'dev', '--database-url', url], env, { out: (l) => lines.push(l), err: (l) => lines.push(l) })).toBe(0);
    expect(lines.join('\n')).toMatch(new RegExp(`roles: (repaired|installed) the prefix-enforcement trigger: .*${repaired.source}`));
    // Enforced again, and the next apply has nothing to repair.
    expect((await inTx(c.gtown, 'CREATE TABLE after_repair (id int)'))?.message).toMatch(NOT_PREFIXED);
    const again = await applyBoth(pg, DB, SEEDS);
    expect(again.privileged.statements).toEqual([]);
    expect(again.main.executed).toBe(0);
  });

  test('an unprefixed composite type handed to gtown by an administrator is refused (reported as a type, checked as one)', async () => {
    expect((await inTx(c.su, 'CREATE TYPE pair AS (a int); ALTER TYPE pair OWNER TO gtown'))?.message).toMatch(/type "public\.pair" is owned by gtown/);
  });

  test('a full apply with main-step changes repairs a function that fails every command first, so its own statements run', async () => {
    await pg.query(
      "ALTER EVENT TRIGGER platform_roles_enforce_prefix DISABLE; CREATE OR REPLACE FUNCTION platform_guard.enforce_prefix() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ BEGIN RAISE EXCEPTION 'no DDL for anyone'; END $$; ALTER EVENT TRIGGER platform_roles_enforce_prefix ENABLE",
      [],
      DB,
    );
    const more = desiredFor([...DEFAULT_SERVICES, { name: 'newcomer', prefix: 'nw_' }]);
    const r = await applyRoleSchema(c.su, more, { steps: 'all' });
    expect(r.statements[0].repair).toMatch(/had been replaced/);
    expect(r.statements.some((s) => s.kind === 'schema')).toBe(true);
    await applyRoleSchema(c.su, SEEDS, { steps: 'all' });
  });

  test('the privileged step alone repairs it too, and plan shows the repair without making it', async () => {
    await pg.query("CREATE OR REPLACE FUNCTION platform_guard.enforce_prefix() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ BEGIN END $$", [], DB);
    const planned = await applyRoleSchema(c.su, SEEDS, { mode: 'plan' });
    expect(planned.statements.map((s) => s.repair).filter(Boolean)).toEqual([expect.stringMatching(/had been replaced/)]);
    expect(await inTx(c.gtown, 'CREATE TABLE still_open (id int)')).toBeUndefined();
    const r = await applyRoleSchema(c.su, SEEDS, { steps: 'privileged' });
    expect(r.statements.map((s) => s.display.split('\n')[0])).toEqual([expect.stringMatching(/^-- repaired the prefix-enforcement trigger: function platform_guard\.enforce_prefix\(\) had been replaced/), 'GRANT CREATE ON SCHEMA "public" TO platform_ddl;']);
    expect((await inTx(c.gtown, 'CREATE TABLE closed (id int)'))?.message).toMatch(NOT_PREFIXED);
  });
});

