/** The planner and SQL rendering, without a database. */
import { buildDesired, MONITORING_ROLE } from '../../../lambda/role-schema/desired';
import type { CatalogState } from '../../../lambda/role-schema/inspect';
import { EVENT_TRIGGER_FUNCTION, GUARD_CONFIG, GUARD_SOURCE_MD5, PlanError, planStatements, STATE_VERSION } from '../../../lambda/role-schema/plan';
import { scramVerifier, verifierDigest } from '../../../lambda/role-schema/scram';
import { ident, keywords, literal, parseTemplates, render } from '../../../lambda/role-schema/sql';

const empty: CatalogState = {
  user: 'platform_admin',
  superuser: false,
  privileged: true,
  serverVersion: 160013,
  inRecovery: false,
  database: 'platform',
  databaseAcl: [{ grantee: 'PUBLIC', privilege: 'CONNECT', grantable: false }, { grantee: 'PUBLIC', privilege: 'TEMPORARY', grantable: false }],
  schemaExists: true,
  schemaAcl: [{ grantee: 'PUBLIC', privilege: 'USAGE', grantable: false }],
  roles: [],
  existingRoles: ['pg_monitor', 'rds_iam', 'rds_superuser'],
  memberships: [],
  defaultAcls: [],
  objects: [],
  routines: [],
  extensions: [{ name: 'plpgsql', schema: 'pg_catalog' }],
  statsSchema: false,
  eventTrigger: null,
  stateVersion: null,
  registryHash: null,
  hasCredentials: false,
};
const desired = (services: unknown = [{ name: 'gatherer', prefix: 'gt_' }]) => buildDesired({ appSchema: 'public', services, password: () => undefined });

describe('planStatements', () => {
  test('on an empty database: state, roles, PUBLIC revoked, grants, registry, then the privileged step last', () => {
    const plan = planStatements(empty, desired(), new Map());
    expect(plan[0].kind).toBe('state');
    expect(plan.map((s) => s.display)).toEqual(
      expect.arrayContaining([
        'CREATE ROLE "gtown" WITH NOLOGIN',
        `COMMENT ON ROLE "gtown" IS 'platform-role-schema: db=platform tier=own service=gatherer prefix=gt_'`,
        `COMMENT ON ROLE "${MONITORING_ROLE}" IS 'platform-role-schema: tier=monitor'`,
        'GRANT "gtown" TO CURRENT_USER WITH INHERIT TRUE, SET TRUE',
        `GRANT "pg_monitor" TO "${MONITORING_ROLE}" WITH INHERIT TRUE`,
        'REVOKE ALL ON DATABASE "platform" FROM PUBLIC',
        `GRANT CONNECT ON DATABASE "platform" TO "gtapp", "gtown", "gtuser", "${MONITORING_ROLE}"`,
        'GRANT USAGE, CREATE ON SCHEMA "public" TO "gtown"',
        'GRANT USAGE ON SCHEMA "public" TO "gtapp", "gtuser"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "gtown" IN SCHEMA "public" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "gtapp"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "gtown" IN SCHEMA "public" GRANT SELECT ON TABLES TO "gtuser"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "gtown" IN SCHEMA "public" GRANT SELECT, USAGE ON SEQUENCES TO "gtapp"',
        'CREATE EXTENSION IF NOT EXISTS "pg_stat_statements" SCHEMA platform_stats',
      ]),
    );
    expect(plan.slice(-2).map((s) => s.step)).toEqual(['privileged', 'privileged']);
    expect(plan.filter((s) => s.step === 'privileged').map((s) => s.kind)).toEqual(['extension', 'extension', 'event-trigger', 'event-trigger']);
  });

  test('a superuser applier needs no membership in the owner roles', () => {
    expect(planStatements({ ...empty, superuser: true }, desired(), new Map()).some((s) => /TO CURRENT_USER/.test(s.sql))).toBe(false);
  });

  test('roles of another database of the same cluster are not retired', () => {
    const state: CatalogState = {
      ...empty,
      stateVersion: STATE_VERSION,
      roles: [{ name: 'zzapp', login: true, superuser: false, createdb: false, createrole: false, replication: false, bypassrls: false, comment: 'platform-role-schema: db=other tier=app service=z prefix=zz_' }],
    };
    expect(planStatements(state, desired(), new Map()).some((s) => s.sql.includes('zzapp'))).toBe(false);
    const mine = { ...state, roles: [{ ...state.roles[0], comment: 'platform-role-schema: db=platform tier=app service=z prefix=zz_' }] };
    expect(planStatements(mine, desired(), new Map()).map((s) => s.display)).toContain('ALTER ROLE "zzapp" WITH NOLOGIN');
  });

  test('event trigger: absent drops it, unmanaged leaves it, a disabled one is enabled', () => {
    const fn = (name: string) => ({ name, owner: 'postgres', ownerPrivileged: true, sourceMd5: GUARD_SOURCE_MD5[name], securityDefiner: true, config: [GUARD_CONFIG], language: 'plpgsql' });
    const triggers = (enabled: string) => [
      { name: 'platform_roles_enforce_prefix', event: 'ddl_command_end', enabled, function: EVENT_TRIGGER_FUNCTION },
      { name: 'platform_roles_open_ddl', event: 'ddl_command_start', enabled, function: 'platform_guard.open_ddl()' },
    ];
    const guard = (enabled: string) => ({ schemaOwner: 'postgres', schemaOwnerPrivileged: true, schemaGrantees: [], functions: [fn('enforce_prefix'), fn('open_ddl')], triggers: triggers(enabled), ddlRole: { login: false, members: [], memberOf: [] } });
    const withTrigger = (enabled: string): CatalogState => ({ ...empty, guard: guard(enabled), eventTrigger: { enabled, function: EVENT_TRIGGER_FUNCTION } });
    const et = (state: CatalogState, mode: 'present' | 'absent' | 'unmanaged') =>
      planStatements(state, { ...desired(), eventTrigger: mode }, new Map()).filter((s) => s.kind === 'event-trigger').map((s) => s.sql.split(';\n')[0]);
    expect(et(withTrigger('O'), 'absent')).toEqual(['DROP EVENT TRIGGER IF EXISTS platform_roles_enforce_prefix']);
    expect(et(withTrigger('D'), 'unmanaged')).toEqual([]);
    expect(et(withTrigger('D'), 'present')).toEqual(['ALTER EVENT TRIGGER platform_roles_enforce_prefix ENABLE']);
    expect(et(withTrigger('O'), 'present')).toEqual([]);
  });

  test.each([
    [{ inRecovery: true }, /read replica \(in recovery\): apply the role schema to the primary/],
    [{ serverVersion: 150007 }, /needs PostgreSQL 16 or later/],
    [{ existingRoles: ['pg_monitor'] }, /service "ledger" uses auth: iam, but role rds_iam does not exist/],
    [{ user: 'gtown' }, /applier's own role "gtown" cannot also be a managed role/],
  ])('refuses %j', (over, message) => {
    const d = desired([{ name: 'gatherer', prefix: 'gt_' }, { name: 'ledger', prefix: 'lg_', auth: 'iam' }]);
    expect(() => planStatements({ ...empty, ...over } as CatalogState, d, new Map())).toThrow(PlanError);
    expect(() => planStatements({ ...empty, ...over } as CatalogState, d, new Map())).toThrow(message);
  });

  test('password verifiers appear in no statement text: only in the statement\'s verifiers, sent as a bind parameter', async () => {
    const v = await scramVerifier('Secret-Password-1');
    const d = buildDesired({ appSchema: 'public', services: [{ name: 'gatherer', prefix: 'gt_' }], password: () => 'Secret-Password-1' });
    const plan = planStatements(empty, d, new Map([['gtapp', { kind: 'set', verifier: v.verifier, salt: v.salt, iterations: v.iterations, digest: verifierDigest(v.verifier) }]]));
    const sql = plan.map((s) => s.sql).join('\n');
    const display = plan.map((s) => s.display).join('\n');
    expect(sql).not.toContain(v.verifier);
    expect(plan.find((st) => st.verifiers)?.verifiers).toEqual({ gtapp: v.verifier });
    expect(display).not.toContain(v.verifier);
    expect(display).not.toContain(v.salt);
    expect(display).toContain(`CREATE ROLE "gtapp" WITH LOGIN PASSWORD '<redacted SCRAM-SHA-256 verifier>'`);
  });
});

describe('SQL rendering', () => {
  test('identifiers and literals are quoted; placeholders must match exactly', () => {
    expect(render('GRANT {r} TO {m}', { r: ident('a"b'), m: ident('x') })).toBe('GRANT "a""b" TO "x"');
    expect(literal("it's")).toEqual(expect.objectContaining({ text: "'it''s'" }));
    expect(() => render('GRANT {r} TO {m}', { r: ident('a') })).toThrow(/\{m\} is missing/);
    expect(() => render('GRANT {r}', { r: ident('a'), extra: ident('b') })).toThrow(/\{extra\} is not used/);
    expect(() => render('GRANT {r}', { r: 'raw' as never })).toThrow(/not an Sql fragment/);
    expect(() => keywords(['SELECT; DROP TABLE x'])).toThrow(/not an allowed SQL keyword/);
  });

  test('templates parse into named statements', () => {
    const t = parseTemplates('-- header\n-- name: one\nSELECT 1;\n-- a comment\n-- name: two\nSELECT {x};\n');
    expect([...t]).toEqual([['one', 'SELECT 1'], ['two', 'SELECT {x}']]);
  });
});

describe('SCRAM verifiers', () => {
  test('format, determinism for a given salt, and refusal of non-ASCII', async () => {
    const a = await scramVerifier('pencil', { salt: 'W22ZaJ0SNY7soEsUEjb6gQ==' });
    expect(a.verifier).toMatch(/^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect((await scramVerifier('pencil', { salt: a.salt })).verifier).toBe(a.verifier);
    expect((await scramVerifier('pencil')).salt).not.toBe(a.salt);
    await expect(scramVerifier('pässword')).rejects.toThrow(/printable ASCII/);
  });
});
