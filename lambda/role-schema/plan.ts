/**
 * The planner: compares the catalog state with the desired state and returns the statements that
 * make them equal, in dependency order. Pure: no I/O. An empty plan means nothing to do, and then
 * the applier executes no DDL at all.
 *
 * What "equal" means, per service `{p}` (own/app/user):
 * - the three roles exist, LOGIN when they have a credential (password or IAM), with no
 *   SUPERUSER/CREATEDB/CREATEROLE/REPLICATION/BYPASSRLS, marked by their COMMENT;
 * - `{p}own` may USAGE+CREATE in the application schema, `{p}app`/`{p}user` USAGE; PUBLIC may not
 *   CREATE there; every managed role may CONNECT to the database, PUBLIC has nothing on it;
 * - default privileges FOR ROLE `{p}own` IN SCHEMA app: tables SELECT/INSERT/UPDATE/DELETE to
 *   `{p}app` and SELECT to `{p}user`; sequences USAGE/SELECT to `{p}app`, SELECT to `{p}user`;
 * - default privileges FOR ROLE `{p}own` (all schemas): functions get no EXECUTE for PUBLIC; in the
 *   application schema, EXECUTE to `{p}app`;
 * - the same grants on every existing relation and routine `{p}own` owns, and nothing for anyone
 *   else: no other managed role, no role outside the registry (pg_monitor, rds_iam, …), not PUBLIC,
 *   and no column privilege for anyone (that is the "no cross-service access" rule);
 * - managed roles are members of nothing but rds_iam (`auth: iam`) and pg_monitor (monitoring role),
 *   and no other role is a member of a managed role, except the applier and administrators
 *   (superusers, CREATEROLE roles) that hold the role's ADMIN OPTION, as PostgreSQL 16 records for
 *   a role's creator. A membership the applier may not revoke (granted by a role it cannot act for,
 *   e.g. a superuser) is reported by name in `warnings` instead of failing the apply.
 * A retired service (its roles still carry the marker, but it left the registry) gets NOLOGIN and
 * loses every grant, membership and default privilege; its tables stay where they are.
 */
import { createHash } from 'node:crypto';
import stateSql from '../../sql/roles/state.sql';
import eventTriggerSql from '../../sql/roles/event-trigger.sql';
import extensionsSql from '../../sql/roles/extensions.sql';
import templatesSql from '../../sql/roles/templates.sql';
import { roleNames } from '../../lib/config/service-registry';
import { parseRoleComment, roleComment, type DesiredRole, type DesiredState, type Tier } from './desired';
import type { AclEntry, CatalogState } from './inspect';
import { passwordFromSetting } from './credentials';
import * as s from './sql';

export type StatementKind =
  | 'state'
  | 'role'
  | 'password'
  | 'membership'
  | 'database'
  | 'schema'
  | 'default-privileges'
  | 'object-grants'
  | 'registry'
  | 'extension'
  | 'event-trigger';

export interface Statement {
  readonly sql: string;
  /** The statement as shown to people and logs: password verifiers and digests redacted. */
  readonly display: string;
  /** `privileged` statements need a superuser (or rds_superuser): extensions and the event trigger. */
  readonly step: 'main' | 'privileged';
  readonly kind: StatementKind;
  /** Set when the statement installs or repairs the prefix-enforcement trigger: what it found wrong. */
  readonly repair?: string;
  /**
   * Role → SCRAM verifier this statement reads from the transaction-local setting
   * `platform_roles.verifiers` (sent first as a bind parameter: see templates.sql), so that no
   * verifier is ever part of a statement's text.
   */
  readonly verifiers?: Readonly<Record<string, string>>;
}

export type CredentialAction =
  | { readonly kind: 'keep' }
  | { readonly kind: 'set'; readonly verifier: string; readonly salt: string; readonly iterations: number; readonly digest: string }
  /** Record the role as IAM-authenticated; `clearPassword` also removes an existing password. */
  | { readonly kind: 'iam'; readonly clearPassword: boolean };

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

const T = new Map([...s.parseTemplates(templatesSql), ...s.parseTemplates(eventTriggerSql), ...s.parseTemplates(extensionsSql)]);

/** Identifies the version of state.sql; stored as the comment of schema platform_roles. */
export const STATE_VERSION = `platform-role-schema state ${createHash('sha256').update(stateSql).digest('hex').slice(0, 16)}`;
export const EVENT_TRIGGER_FUNCTION = 'platform_guard.enforce_prefix()';
/** Where the platform's extensions live (sql/roles/extensions.sql): a schema only the privileged role can create in. */
export const STATS_SCHEMA = 'platform_stats';

const TABLE_PRIVILEGES: Record<'app' | 'user', readonly string[]> = { app: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], user: ['SELECT'] };
const SEQUENCE_PRIVILEGES: Record<'app' | 'user', readonly string[]> = { app: ['SELECT', 'USAGE'], user: ['SELECT'] };
/** Routines (functions, procedures, aggregates) of `{p}own`: only the DML tier may call them. */
const ROUTINE_PRIVILEGES: Record<'app' | 'user', readonly string[]> = { app: ['EXECUTE'], user: [] };
const SCHEMA_PRIVILEGES: Record<Tier, readonly string[]> = { own: ['USAGE', 'CREATE'], app: ['USAGE'], user: ['USAGE'], monitor: [] };
const DEFAULT_ACL_OBJECTS: Record<string, string> = { r: 'TABLES', S: 'SEQUENCES', f: 'FUNCTIONS', T: 'TYPES', n: 'SCHEMAS' };
/** Objects per GRANT/REVOKE statement on existing relations. */
const OBJECTS_PER_STATEMENT = 500;

function tpl(name: string, params: Record<string, s.Sql>, display?: Record<string, s.Sql>): { sql: string; display: string } {
  const t = T.get(name);
  if (t === undefined) throw new Error(`unknown SQL template "${name}"`);
  const sql = s.render(t, params);
  return { sql, display: display ? s.render(t, { ...params, ...display }) : sql };
}

/** A statement that sets `role`'s verifier without carrying it in its text (templates.sql). */
function passwordStatement(template: 'create_role_with_password' | 'set_password', role: string, verifier: string): { sql: string; display: string; verifiers: Record<string, string> } {
  return {
    sql: passwordFromSetting(template, role),
    display: s.render(T.get(template)!, { role: s.ident(role), verifier: REDACTED_VERIFIER }),
    verifiers: { [role]: verifier },
  };
}

const REDACTED = s.literal('<redacted>');
const REDACTED_VERIFIER = s.literal('<redacted SCRAM-SHA-256 verifier>');

interface AclDiff {
  /** Grantees to revoke everything from. */
  readonly revoke: string[];
  /** Grantee → the full desired privilege list to grant. */
  readonly grant: Map<string, readonly string[]>;
}

/**
 * Compares one ACL with the desired grantee → privileges map, looking only at `relevant`
 * grantees. A grantee holding anything beyond its desired set (or a grant option) is revoked
 * from and granted afresh; one missing a privilege is granted its full desired set.
 */
function diffAcl(actual: readonly AclEntry[], desired: ReadonlyMap<string, readonly string[]>, relevant: (grantee: string) => boolean): AclDiff {
  const have = new Map<string, AclEntry[]>();
  for (const e of actual) {
    if (!relevant(e.grantee)) continue;
    have.set(e.grantee, [...(have.get(e.grantee) ?? []), e]);
  }
  const out: AclDiff = { revoke: [], grant: new Map() };
  for (const g of new Set([...have.keys(), ...desired.keys()])) {
    const want = desired.get(g) ?? [];
    const entries = have.get(g) ?? [];
    const extra = entries.some((e) => e.grantable || !want.includes(e.privilege));
    if (extra) out.revoke.push(g);
    if (want.length > 0 && (extra || want.some((p) => !entries.some((e) => e.privilege === p)))) out.grant.set(g, want);
  }
  out.revoke.sort();
  return out;
}

/** Groups grantees by identical privilege lists, for one statement per list. */
function byPrivileges(grant: ReadonlyMap<string, readonly string[]>): Array<[readonly string[], string[]]> {
  const groups = new Map<string, [readonly string[], string[]]>();
  for (const [g, privs] of grant) {
    const key = privs.join(',');
    const entry = groups.get(key) ?? [privs, []];
    entry[1].push(g);
    groups.set(key, entry);
  }
  return [...groups.values()].map(([p, gs]) => [p, gs.sort()] as [readonly string[], string[]]).sort((a, b) => a[0].join().localeCompare(b[0].join()));
}

interface ManagedRole {
  readonly name: string;
  readonly tier: Tier;
  readonly service?: string;
  readonly prefix?: string;
  readonly active: boolean;
  readonly desired?: DesiredRole;
}

export interface PlanOptions {
  /**
   * Whether this apply also runs the privileged step (so a missing or broken prefix-enforcement
   * guard is installed by this same transaction). @default false
   */
  readonly privilegedStep?: boolean;
}

/**
 * @param warnings receives what the plan cannot repair, by name (a membership the applier may not
 *   revoke); the apply goes on without it.
 */
export function planStatements(state: CatalogState, desired: DesiredState, credentials: ReadonlyMap<string, CredentialAction>, warnings: string[] = [], opts: PlanOptions = {}): Statement[] {
  if (state.serverVersion < 160000) {
    throw new PlanError(`PostgreSQL ${state.serverVersion} is too old: the role schema needs PostgreSQL 16 or later (role membership options)`);
  }
  if (state.inRecovery) {
    throw new PlanError(`database "${state.database}" is a read replica (in recovery): apply the role schema to the primary; roles, grants and the event trigger reach replicas by replication`);
  }

  const out: Statement[] = [];
  const add = (kind: StatementKind, r: { sql: string; display: string; verifiers?: Record<string, string> }, step: 'main' | 'privileged' = 'main') => out.push({ ...r, kind, step });

  // --- who is managed -------------------------------------------------------------------------
  const actualRoles = new Map(state.roles.map((r) => [r.name, r]));
  const managed = new Map<string, ManagedRole>();
  for (const d of desired.roles) {
    if (d.name === state.user) throw new PlanError(`the applier's own role "${state.user}" cannot also be a managed role`);
    managed.set(d.name, { name: d.name, tier: d.tier, service: d.service, prefix: d.prefix, active: true, desired: d });
  }
  for (const r of state.roles) {
    if (managed.has(r.name)) continue;
    const c = parseRoleComment(r.comment);
    if (c && c.db === state.database) managed.set(r.name, { name: r.name, tier: c.tier, service: c.service, prefix: c.prefix, active: false });
  }
  const isManaged = (g: string) => managed.has(g);
  const active = [...managed.values()].filter((m) => m.active);
  const retired = [...managed.values()].filter((m) => !m.active).sort((a, b) => a.name.localeCompare(b.name));
  const ownRoles = [...managed.values()].filter((m) => m.tier === 'own');

  // --- the role schema's own state ----------------------------------------------------------
  if (state.stateVersion !== STATE_VERSION) {
    const sql = s.render(stateSql, { version: s.literal(STATE_VERSION) });
    add('state', { sql, display: `-- sql/roles/state.sql (schema platform_roles: registry, credentials, prefix-enforcement function) as ${STATE_VERSION}\n${sql}` });
  }

  // --- roles ----------------------------------------------------------------------------------
  const credentialRows: s.Sql[] = [];
  const credentialDisplay: s.Sql[] = [];
  // Salts and digests travel with the verifiers (a bind parameter), not in the INSERT's text: with
  // them, anyone reading a logged statement could test password guesses offline.
  const credentialValues: Record<string, string> = {};
  const recordPassword = (role: string, a: Extract<CredentialAction, { kind: 'set' }>) => {
    credentialValues[`salt:${role}`] = a.salt;
    credentialValues[`digest:${role}`] = a.digest;
    credentialRows.push(s.row([s.literal(role), s.literal('password'), s.sentValue(`salt:${role}`), s.integer(a.iterations), s.sentValue(`digest:${role}`)]));
    credentialDisplay.push(s.row([s.literal(role), s.literal('password'), REDACTED, s.integer(a.iterations), REDACTED]));
  };
  const passwordSetAtCreation = new Set<string>();
  for (const m of active) {
    const d = m.desired!;
    const login = d.auth.kind !== 'none';
    const a = actualRoles.get(m.name);
    const cred = credentials.get(m.name);
    if (!a && cred?.kind === 'set') {
      // A new login role gets its verifier in the same statement.
      add('role', passwordStatement('create_role_with_password', m.name, cred.verifier));
      recordPassword(m.name, cred);
      passwordSetAtCreation.add(m.name);
    } else if (!a) {
      add('role', tpl('create_role', { role: s.ident(m.name), login: s.keywords([login ? 'LOGIN' : 'NOLOGIN']) }));
    } else {
      const attrs: string[] = [];
      if (a.login !== login) attrs.push(login ? 'LOGIN' : 'NOLOGIN');
      if (a.superuser) attrs.push('NOSUPERUSER');
      if (a.createdb) attrs.push('NOCREATEDB');
      if (a.createrole) attrs.push('NOCREATEROLE');
      if (a.replication) attrs.push('NOREPLICATION');
      if (a.bypassrls) attrs.push('NOBYPASSRLS');
      if (attrs.length) add('role', tpl('alter_role', { role: s.ident(m.name), attributes: s.keywords(attrs, ' ') }));
    }
    const comment = roleComment(state.database, d);
    if (a?.comment !== comment) add('role', tpl('comment_role', { role: s.ident(m.name), comment: s.literal(comment) }));
  }
  for (const m of retired) {
    if (actualRoles.get(m.name)?.login) add('role', tpl('alter_role', { role: s.ident(m.name), attributes: s.keywords(['NOLOGIN']) }));
  }

  // The applier holds every owner role with INHERIT (default privileges, grants on its objects).
  if (!state.superuser) {
    const missing = ownRoles
      .filter((m) => !state.memberships.some((r) => r.role === m.name && r.member === state.user && r.inherit && r.set))
      .map((m) => m.name)
      .sort();
    if (missing.length) add('membership', tpl('grant_roles_to_applier', { roles: s.idents(missing) }));
  }

  // --- credentials ----------------------------------------------------------------------------
  for (const m of active) {
    const action = credentials.get(m.name) ?? { kind: 'keep' };
    if (action.kind === 'set' && !passwordSetAtCreation.has(m.name)) {
      add('password', passwordStatement('set_password', m.name, action.verifier));
      recordPassword(m.name, action);
    } else if (action.kind === 'iam') {
      if (action.clearPassword) add('password', tpl('clear_password', { role: s.ident(m.name) }));
      const r = s.row([s.literal(m.name), s.literal('iam'), s.literal(null), s.integer(null), s.literal(null)]);
      credentialRows.push(r);
      credentialDisplay.push(r);
    }
  }

  // --- memberships ----------------------------------------------------------------------------
  const wantGroups = (m: ManagedRole): string[] => {
    if (!m.active) return [];
    if (m.tier === 'monitor') return ['pg_monitor'];
    return m.desired!.auth.kind === 'iam' ? ['rds_iam'] : [];
  };
  const grantsByGroup = new Map<string, string[]>();
  const revokes: Array<{ group: string; member: string; grantor: string }> = [];
  const unwanted: typeof state.memberships[number][] = [];
  for (const m of [...managed.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const rows = state.memberships.filter((r) => r.member === m.name);
    const want = wantGroups(m);
    for (const g of want) {
      if (!state.existingRoles.includes(g)) {
        throw new PlanError(
          g === 'rds_iam'
            ? `service "${m.service}" uses auth: iam, but role rds_iam does not exist: IAM database authentication needs RDS (use auth: password elsewhere)`
            : `role ${g} does not exist`,
        );
      }
      if (!rows.some((r) => r.role === g && r.inherit)) grantsByGroup.set(g, [...(grantsByGroup.get(g) ?? []), m.name]);
    }
    // A membership in platform_ddl left over (a CREATE window nobody closed) is the guard's to
    // revoke, in the privileged step (guardProblems): the applier holds no ADMIN on it.
    for (const r of rows) if (!want.includes(r.role) && r.role !== DDL_ROLE) unwanted.push(r);
  }
  // Members of a managed role that are not managed: granted by hand (drift). Kept: the applier's
  // own memberships, and those of an administrator (superuser or CREATEROLE) that holds the role's
  // ADMIN OPTION, as PostgreSQL 16 records for a role's creator: it may grant itself the role at
  // any time, so revoking would change nothing but make two appliers undo each other.
  const administrators = new Set(state.memberships.filter((r) => r.admin && r.memberAdmin).map((r) => `${r.role}|${r.member}`));
  for (const r of state.memberships) {
    if (!managed.has(r.role) || managed.has(r.member) || r.member === state.user) continue;
    if (administrators.has(`${r.role}|${r.member}`)) continue;
    unwanted.push(r);
  }
  unwanted.sort((a, b) => `${a.role}|${a.member}|${a.grantor}`.localeCompare(`${b.role}|${b.member}|${b.grantor}`));
  // CASCADE would also take the applier's own membership if the member granted it: not revoked.
  const mine = (r: (typeof unwanted)[number]) => state.memberships.some((x) => x.role === r.role && x.member === state.user && x.grantor === r.member);
  const revoked = new Set(unwanted.filter((r) => r.revocable && !mine(r)));
  // A membership the applier may not revoke itself still goes, by CASCADE, when every ADMIN
  // OPTION its grantor holds on that role is revoked (to a fixpoint, for chains of grants).
  const cascaded = new Set<(typeof unwanted)[number]>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const r of unwanted) {
      if (revoked.has(r) || cascaded.has(r)) continue;
      const grantorAdmin = state.memberships.filter((x) => x.role === r.role && x.member === r.grantor && x.admin);
      if (grantorAdmin.length > 0 && grantorAdmin.every((x) => revoked.has(x) || cascaded.has(x))) {
        cascaded.add(r);
        changed = true;
      }
    }
  }
  for (const r of unwanted) {
    if (cascaded.has(r)) continue;
    if (revoked.has(r)) {
      revokes.push({ group: r.role, member: r.member, grantor: r.grantor });
    } else {
      warnings.push(
        `membership of "${r.member}" in "${r.role}" (granted by "${r.grantor}") is not in the registry, but "${state.user}" cannot revoke it` +
          (mine(r) ? ` (its own membership in "${r.role}" was granted by "${r.member}")` : ` (it does not act for "${r.grantor}")`) +
          `: as "${r.grantor}" or a superuser, run REVOKE "${r.role}" FROM "${r.member}" GRANTED BY "${r.grantor}" CASCADE`,
      );
    }
  }
  for (const r of revokes) add('membership', tpl('revoke_membership', { group: s.ident(r.group), member: s.ident(r.member), grantor: s.ident(r.grantor) }));
  for (const [g, members] of [...grantsByGroup].sort()) add('membership', tpl('grant_membership', { group: s.ident(g), members: s.idents(members) }));

  // --- database -------------------------------------------------------------------------------
  const db = s.ident(state.database);
  {
    const want = new Map<string, readonly string[]>(active.map((m) => [m.name, ['CONNECT']]));
    const d = diffAcl(state.databaseAcl, want, (g) => g === 'PUBLIC' || isManaged(g));
    if (d.revoke.length) add('database', tpl('revoke_database_from', { database: db, grantees: s.grantees(d.revoke) }));
    for (const [privs, gs] of byPrivileges(d.grant)) add('database', tpl('grant_database', { privileges: s.keywords(privs), database: db, grantees: s.grantees(gs) }));
  }

  // --- application schema ---------------------------------------------------------------------
  const schema = s.ident(desired.appSchema);
  const guardProblemList = desired.eventTrigger === 'present' ? guardProblems(state) : [];
  const guardBroken = guardProblemList.length > 0;
  const guardActive = desired.eventTrigger === 'present' && (!guardBroken || (opts.privilegedStep === true && state.privileged));
  {
    if (!state.schemaExists) add('schema', tpl('create_schema', { schema }));
    if (state.schemaAcl.some((e) => e.grantee === 'PUBLIC' && e.privilege === 'CREATE')) {
      add('schema', tpl('revoke_schema_create_from_public', { schema }));
    }
    const want = new Map<string, readonly string[]>();
    for (const m of active) if (SCHEMA_PRIVILEGES[m.tier].length) want.set(m.name, SCHEMA_PRIVILEGES[m.tier]);
    // With the prefix-enforcement guard intact, an owner role holds CREATE only while its DDL
    // command runs, through platform_ddl (sql/roles/event-trigger.sql); otherwise directly, so
    // migrations never depend on a privileged step that has not run.
    if (guardActive) {
      for (const m of active) if (m.tier === 'own') want.set(m.name, ['USAGE']);
      want.set(DDL_ROLE, ['CREATE']);
    }
    const d = diffAcl(state.schemaExists ? state.schemaAcl : [], want, (g) => isManaged(g) || g === DDL_ROLE);
    if (d.revoke.length) add('schema', tpl('revoke_schema_from', { schema, grantees: s.grantees(d.revoke) }));
    for (const [privs, gs] of byPrivileges(d.grant)) add('schema', tpl('grant_schema', { privileges: s.keywords(privs), schema, grantees: s.grantees(gs) }));
  }

  // --- default privileges ---------------------------------------------------------------------
  const serviceRoles = (m: ManagedRole) => (m.prefix ? roleNames(m.prefix) : undefined);
  // Revokes are the same for many owners (PUBLIC's EXECUTE on new functions, for every owner on a
  // first apply): one statement names them all (FOR ROLE a, b, …). Then the grants.
  const defaultRevokes = new Map<string, string[]>();
  const defaultGrants: Array<{ sql: string; display: string }> = [];
  for (const o of ownRoles.sort((a, b) => a.name.localeCompare(b.name))) {
    const names = serviceRoles(o);
    const wantFor = (schemaName: string | null, objtype: string): Map<string, readonly string[]> => {
      if (!o.active || !names || schemaName !== desired.appSchema) return new Map();
      if (objtype === 'r') return new Map([[names.app, TABLE_PRIVILEGES.app], [names.user, TABLE_PRIVILEGES.user]]);
      if (objtype === 'S') return new Map([[names.app, SEQUENCE_PRIVILEGES.app], [names.user, SEQUENCE_PRIVILEGES.user]]);
      if (objtype === 'f') return new Map([[names.app, ROUTINE_PRIVILEGES.app]]);
      return new Map();
    };
    const rows = state.defaultAcls.filter((r) => r.owner === o.name);
    const targets: Array<{ schema: string | null; objtype: string; acl: readonly AclEntry[] }> = rows.map((r) => ({ schema: r.schema, objtype: r.objtype, acl: r.acl }));
    if (o.active) {
      for (const t of ['r', 'S', 'f']) {
        if (!rows.some((r) => r.schema === desired.appSchema && r.objtype === t)) targets.push({ schema: desired.appSchema, objtype: t, acl: [] });
      }
    }
    // PostgreSQL's built-in default gives PUBLIC EXECUTE on every new function; only a global
    // (all-schema) entry can take that away. Without one, the built-in default is in force.
    if (!rows.some((r) => r.schema === null && r.objtype === 'f')) {
      targets.push({ schema: null, objtype: 'f', acl: [{ grantee: 'PUBLIC', privilege: 'EXECUTE', grantable: false }] });
    }
    targets.sort((a, b) => `${a.schema}|${a.objtype}`.localeCompare(`${b.schema}|${b.objtype}`));
    for (const t of targets) {
      const objects = DEFAULT_ACL_OBJECTS[t.objtype];
      if (!objects) continue;
      // Every grantee but the owner; PUBLIC's USAGE on new types is PostgreSQL's default, kept.
      const relevant = (g: string) => g !== o.name && !(g === 'PUBLIC' && t.objtype === 'T');
      const d = diffAcl(t.acl, wantFor(t.schema, t.objtype), relevant);
      for (const g of d.revoke) {
        const key = JSON.stringify([t.schema, objects, g]);
        defaultRevokes.set(key, [...(defaultRevokes.get(key) ?? []), o.name]);
      }
      for (const [g, privs] of [...d.grant].sort()) {
        defaultGrants.push(tpl('grant_default_privileges', { owner: s.ident(o.name), schema: s.ident(t.schema!), privileges: s.keywords(privs), objects: s.keywords([objects]), grantee: s.ident(g) }));
      }
    }
  }

  for (const [key, owners] of [...defaultRevokes].sort(([a], [b]) => a.localeCompare(b))) {
    const [schemaName, objects, g] = JSON.parse(key) as [string | null, string, string];
    const params = { owner: s.idents(owners), objects: s.keywords([objects]), grantee: s.grantees([g]) };
    add('default-privileges', schemaName === null ? tpl('revoke_default_privileges_global', params) : tpl('revoke_default_privileges_in_schema', { ...params, schema: s.ident(schemaName) }));
  }
  for (const g of defaultGrants) add('default-privileges', g);

  // --- existing objects -----------------------------------------------------------------------
  {
    const revokeGroups = new Map<string, s.Sql[]>();
    const grantGroups = new Map<string, s.Sql[]>();
    // Relations and routines of managed owners: every grantee but the owner is compared.
    const objects = [...state.objects].sort((a, b) => `${a.schema}.${a.name}`.localeCompare(`${b.schema}.${b.name}`));
    const collect = (type: string, target: s.Sql, d: AclDiff) => {
      for (const g of d.revoke) revokeGroups.set(`${type}|${g}`, [...(revokeGroups.get(`${type}|${g}`) ?? []), target]);
      for (const [g, p] of d.grant) grantGroups.set(`${type}|${g}|${p.join(',')}`, [...(grantGroups.get(`${type}|${g}|${p.join(',')}`) ?? []), target]);
    };
    const ownerRoles = (owner: string) => {
      const o = managed.get(owner);
      return o && o.tier === 'own' && o.active ? serviceRoles(o) : undefined;
    };
    for (const obj of objects) {
      const seq = obj.kind === 'S';
      const names = ownerRoles(obj.owner);
      const privs = seq ? SEQUENCE_PRIVILEGES : TABLE_PRIVILEGES;
      const want = new Map<string, readonly string[]>(names ? [[names.app, privs.app], [names.user, privs.user]] : []);
      // A column privilege is never desired: it counts as one more privilege its grantee should not
      // have, so that grantee is revoked from (which clears its column privileges) and re-granted.
      const acl = [...obj.acl, ...(obj.columnAcl ?? []).map((e) => ({ ...e, privilege: `${e.privilege} (column)` }))];
      collect(seq ? 'SEQUENCE' : 'TABLE', s.qualified(obj.schema, obj.name), diffAcl(acl, want, (g) => g !== obj.owner));
    }
    for (const r of [...(state.routines ?? [])].sort((a, b) => a.signature.localeCompare(b.signature))) {
      const names = ownerRoles(r.owner);
      const want = new Map<string, readonly string[]>(names ? [[names.app, ROUTINE_PRIVILEGES.app]] : []);
      collect('ROUTINE', s.signature(r.signature), diffAcl(r.acl, want, (g) => g !== r.owner));
    }
    for (const [key, names] of [...revokeGroups].sort(([a], [b]) => a.localeCompare(b))) {
      const [type, g] = key.split('|');
      for (let i = 0; i < names.length; i += OBJECTS_PER_STATEMENT) {
        add('object-grants', tpl('revoke_objects', { objecttype: s.keywords([type]), objects: s.list(names.slice(i, i + OBJECTS_PER_STATEMENT)), grantee: s.grantees([g]) }));
      }
    }
    for (const [key, names] of [...grantGroups].sort(([a], [b]) => a.localeCompare(b))) {
      const [type, g, p] = key.split('|');
      for (let i = 0; i < names.length; i += OBJECTS_PER_STATEMENT) {
        add('object-grants', tpl('grant_objects', { privileges: s.keywords(p.split(',')), objecttype: s.keywords([type]), objects: s.list(names.slice(i, i + OBJECTS_PER_STATEMENT)), grantee: s.ident(g) }));
      }
    }
  }

  // --- the prefix registry the event trigger reads --------------------------------------------
  {
    const rows = new Map<string, { owner: string; prefix: string; service: string; active: boolean }>();
    for (const sv of desired.services) rows.set(sv.prefix, { owner: roleNames(sv.prefix).own, prefix: sv.prefix, service: sv.name, active: true });
    for (const m of retired) {
      if (m.tier === 'own' && m.prefix && !rows.has(m.prefix)) rows.set(m.prefix, { owner: m.name, prefix: m.prefix, service: m.service ?? m.name, active: false });
    }
    const sorted = [...rows.values()].sort((a, b) => a.owner.localeCompare(b.owner));
    const hash = `registry ${createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 32)}`;
    if (state.registryHash !== hash) {
      add(
        'registry',
        tpl('write_registry', {
          rows: s.list(sorted.map((r) => s.row([s.literal(r.owner), s.literal(r.prefix), s.literal(r.service), s.bool(r.active)]))),
          hash: s.literal(hash),
        }),
      );
    }
  }
  if (credentialRows.length) {
    const values = Object.keys(credentialValues).length ? { verifiers: credentialValues } : {};
    add('password', { ...tpl('record_credentials', { rows: s.list(credentialRows) }, { rows: s.list(credentialDisplay) }), ...values });
  }

  // --- privileged: extensions and the event trigger -------------------------------------------
  const extensionChanges = desired.extensions
    .map((ext) => ({ ext, have: state.extensions.find((e) => e.name === ext) }))
    .filter(({ have }) => have?.schema !== STATS_SCHEMA);
  if (extensionChanges.length && !state.statsSchema) add('extension', tpl('create_extension_schema', {}), 'privileged');
  for (const { ext, have } of extensionChanges) {
    add('extension', tpl(have ? 'move_extension' : 'create_extension', { extension: s.ident(ext) }), 'privileged');
  }
  const et = state.eventTrigger;
  const owners = active.filter((m) => m.tier === 'own').map((m) => m.name).sort();
  if (desired.eventTrigger === 'present') {
    if (guardBroken) {
      const install = tpl('install_guard', {});
      const repair = `${state.guard || et ? 'repaired' : 'installed'} the prefix-enforcement trigger: ${guardProblemList.join('; ')}`;
      const st: Statement = { ...install, display: `-- ${repair}\n${install.display}`, kind: 'event-trigger', step: 'privileged', repair };
      // It runs before everything else, so that a broken function cannot fail the statements of the
      // main step that fire it (steps 'all'); a first install waits for the registry table.
      if (state.stateVersion !== null) out.unshift(st);
      else out.push(st);
      // The schema's CREATE moves to platform_ddl last, when every owner role of this plan exists.
      const parts = [tpl('guard_schema_grants', { schema })];
      if (owners.length) parts.push(tpl('guard_revoke_owner_create', { schema, owners: s.idents(owners) }));
      add('event-trigger', { sql: parts.map((x) => x.sql).join(';\n'), display: parts.map((x) => x.display).join(';\n') }, 'privileged');
    } else if ((state.guard?.triggers ?? []).some((t) => t.enabled !== 'O' && t.enabled !== 'A')) add('event-trigger', tpl('enable_event_trigger', {}), 'privileged');
  } else if (desired.eventTrigger === 'absent' && (et || state.guard?.triggers.length)) {
    const parts = [tpl('drop_event_trigger', {})];
    if (owners.length) parts.push(tpl('restore_owner_create', { schema, owners: s.idents(owners) }));
    add('event-trigger', { sql: parts.map((x) => x.sql).join(';\n'), display: parts.map((x) => x.display).join(';\n') }, 'privileged');
  }
  return out;
}

/** The guard functions' sources as installed, between their dollar quotes (what pg_proc.prosrc holds). */
const GUARD_FUNCTIONS: ReadonlyMap<string, string> = (() => {
  const text = T.get('install_guard') ?? '';
  const out = new Map<string, string>();
  for (const m of text.matchAll(/CREATE FUNCTION platform_guard\.([a-z_]+)\(\)[\s\S]*?AS \$fn\$([\s\S]*?)\$fn\$/g)) {
    out.set(m[1], createHash('md5').update(m[2]).digest('hex'));
  }
  if (out.size !== 2) throw new Error('sql/roles/event-trigger.sql: install_guard must define platform_guard.enforce_prefix() and platform_guard.open_ddl()');
  return out;
})();
/** md5 of each guard function's source, by name. */
export const GUARD_SOURCE_MD5: Readonly<Record<string, string>> = Object.fromEntries(GUARD_FUNCTIONS);
export const GUARD_CONFIG = 'search_path=pg_catalog, pg_temp';
/** The NOLOGIN role that holds the application schema's CREATE (sql/roles/event-trigger.sql). */
export const DDL_ROLE = 'platform_ddl';
const GUARD_TRIGGERS = [
  { name: 'platform_roles_enforce_prefix', event: 'ddl_command_end', function: 'platform_guard.enforce_prefix()' },
  { name: 'platform_roles_open_ddl', event: 'ddl_command_start', function: 'platform_guard.open_ddl()' },
];

/**
 * What differs between the prefix-enforcement guard in the database (schema platform_guard, its two
 * functions, their event triggers, role platform_ddl) and sql/roles/event-trigger.sql (issue 10,
 * scope 3); empty when it is intact. Each entry names what a re-install repairs.
 */
export function guardProblems(state: CatalogState): string[] {
  const out: string[] = [];
  const g = state.guard;
  if (!g) out.push('schema platform_guard was missing');
  else {
    if (!g.schemaOwnerPrivileged) out.push(`schema platform_guard was owned by ${g.schemaOwner}, not by a privileged role`);
    if (g.schemaGrantees.length) out.push(`schema platform_guard granted privileges to ${[...g.schemaGrantees].sort().join(', ')}`);
    for (const [name, md5] of GUARD_FUNCTIONS) {
      const f = g.functions.find((x) => x.name === name);
      const fn = `function platform_guard.${name}()`;
      if (!f) out.push(`${fn} was missing`);
      else {
        if (!f.ownerPrivileged) out.push(`${fn} was owned by ${f.owner}, not by a privileged role`);
        if (f.sourceMd5 !== md5 || f.language !== 'plpgsql') out.push(`${fn} had been replaced (its definition differed from sql/roles/event-trigger.sql)`);
        if (!f.securityDefiner || (f.config ?? []).join(';') !== GUARD_CONFIG) out.push(`${fn} had lost SECURITY DEFINER or its pinned search_path`);
      }
    }
    if (!g.ddlRole) out.push(`role ${DDL_ROLE} was missing`);
    else {
      if (g.ddlRole.login) out.push(`role ${DDL_ROLE} had LOGIN or another attribute`);
      if (g.ddlRole.members.length || g.ddlRole.memberOf.length) out.push(`role ${DDL_ROLE} had memberships (${[...g.ddlRole.members, ...g.ddlRole.memberOf].sort().join(', ')})`);
    }
  }
  const triggers = g?.triggers ?? (state.eventTrigger ? [{ name: 'platform_roles_enforce_prefix', event: 'ddl_command_end', ...state.eventTrigger }] : []);
  for (const want of GUARD_TRIGGERS) {
    const t = triggers.find((x) => x.name === want.name);
    if (!t) out.push(`event trigger ${want.name} was missing`);
    else if (t.function !== want.function || t.event !== want.event) out.push(`event trigger ${want.name} ran ${t.function} on ${t.event} instead of ${want.function} on ${want.event}`);
  }
  return out;
}

/** Counts statements by kind, e.g. `{ role: 36, 'object-grants': 4 }`. */
export function summarize(statements: readonly Statement[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const st of statements) out[st.kind] = (out[st.kind] ?? 0) + 1;
  return out;
}

