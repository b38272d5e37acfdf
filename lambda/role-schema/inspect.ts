/** The catalog state the planner compares with the desired state (sql/roles/inspect.sql). */
import inspectSql from '../../sql/roles/inspect.sql';
import { ROLE_MARKER, type DesiredState } from './desired';
import { literal, render } from './sql';

export interface AclEntry {
  /** Role name, or `PUBLIC`. */
  readonly grantee: string;
  /** `SELECT`, `CONNECT`, `USAGE`, … as aclexplode names them. */
  readonly privilege: string;
  readonly grantable: boolean;
}

export interface RoleRow {
  readonly name: string;
  readonly login: boolean;
  readonly superuser: boolean;
  readonly createdb: boolean;
  readonly createrole: boolean;
  readonly replication: boolean;
  readonly bypassrls: boolean;
  readonly comment: string | null;
}

export interface MembershipRow {
  readonly role: string;
  readonly member: string;
  readonly grantor: string;
  readonly admin: boolean;
  readonly inherit: boolean;
  readonly set: boolean;
  /** Whether the applier may revoke it: a superuser, or acting with the grantor's privileges. */
  readonly revocable: boolean;
  /** The member is a superuser or has CREATEROLE: an administrator, not a service. */
  readonly memberAdmin: boolean;
}

export interface DefaultAclRow {
  readonly owner: string;
  /** NULL for the global (all-schema) defaults. */
  readonly schema: string | null;
  /** r tables, S sequences, f functions, T types, n schemas. */
  readonly objtype: 'r' | 'S' | 'f' | 'T' | 'n';
  readonly acl: readonly AclEntry[];
}

export interface ObjectRow {
  readonly schema: string;
  readonly name: string;
  /** pg_class.relkind: r p v m f (table-like) or S (sequence). */
  readonly kind: string;
  readonly owner: string;
  readonly acl: readonly AclEntry[];
  /** Column privileges (pg_attribute.attacl), every column together. */
  readonly columnAcl: readonly AclEntry[];
}

export interface RoutineRow {
  /** regprocedure text, server-quoted and schema-qualified, e.g. `public.ag_leak(integer)`. */
  readonly signature: string;
  readonly owner: string;
  readonly securityDefiner: boolean;
  readonly acl: readonly AclEntry[];
}

/** What the planner compares with sql/roles/event-trigger.sql (issue 10, scope 3). */
export interface GuardState {
  readonly schemaOwner: string;
  /** The owner is a superuser or a member of rds_superuser. */
  readonly schemaOwnerPrivileged: boolean;
  /** Roles other than the owner holding any privilege on the schema (`PUBLIC` included). */
  readonly schemaGrantees: readonly string[];
  /** The functions in schema platform_guard. */
  readonly functions: readonly {
    readonly name: string;
    readonly owner: string;
    readonly ownerPrivileged: boolean;
    readonly sourceMd5: string;
    readonly securityDefiner: boolean;
    readonly config: readonly string[] | null;
    readonly language: string;
  }[];
  /** Event triggers named platform_roles_*. */
  readonly triggers: readonly { readonly name: string; readonly event: string; readonly enabled: string; readonly function: string }[];
  /** Role platform_ddl (holds the application schema's CREATE); null when missing. */
  readonly ddlRole: { readonly login: boolean; readonly members: readonly string[]; readonly memberOf: readonly string[] } | null;
}

export interface CatalogState {
  readonly user: string;
  readonly superuser: boolean;
  /** Superuser, or member of rds_superuser: may create the event trigger and extensions. */
  readonly privileged: boolean;
  readonly serverVersion: number;
  readonly inRecovery: boolean;
  readonly database: string;
  readonly databaseAcl: readonly AclEntry[];
  readonly schemaExists: boolean;
  readonly schemaAcl: readonly AclEntry[];
  /** Desired roles that exist, and every other role carrying the managed marker. */
  readonly roles: readonly RoleRow[];
  /** Which of rds_iam, pg_monitor, rds_superuser exist. */
  readonly existingRoles: readonly string[];
  readonly memberships: readonly MembershipRow[];
  readonly defaultAcls: readonly DefaultAclRow[];
  readonly objects: readonly ObjectRow[];
  /** Functions, procedures and aggregates owned by managed roles. */
  readonly routines: readonly RoutineRow[];
  /** Installed extensions and their schemas. */
  readonly extensions: readonly { readonly name: string; readonly schema: string }[];
  /** Whether schema platform_stats (the extensions' home) exists. */
  readonly statsSchema: boolean;
  readonly eventTrigger: { readonly enabled: string; readonly function: string } | null;
  /** Schema platform_guard and the prefix-enforcement function in it; null when the schema is missing. */
  readonly guard?: GuardState | null;
  readonly stateVersion: string | null;
  readonly registryHash: string | null;
  readonly hasCredentials: boolean;
}

export interface CredentialRow {
  readonly role: string;
  readonly auth: 'password' | 'iam';
  readonly salt: string | null;
  readonly iterations: number | null;
  readonly digest: string | null;
}

/** The inspect statement for a desired state. */
export function inspectQuery(desired: DesiredState): string {
  const input = { roles: desired.roles.map((r) => r.name), schema: desired.appSchema, marker: ROLE_MARKER };
  return render(inspectSql.trim().replace(/;\s*$/, ''), { input: literal(JSON.stringify(input)) });
}
