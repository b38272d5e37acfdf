/**
 * The desired state: which roles exist, how they authenticate, and the names everything else is
 * derived from. Built from the service registry (validated again here with parseServiceRegistry,
 * whatever the caller already checked).
 */
import { parseServiceRegistry, roleNames, type Service } from '../../lib/config/service-registry';

/** The monitoring login role (member of pg_monitor) that the db-health probe logs in as. */
export const MONITORING_ROLE = 'platform_monitor';
/** Comment prefix on every role the applier manages; how it recognises retired services. */
export const ROLE_MARKER = 'platform-role-schema:';
/** Extensions the applier creates (privileged step). */
export const EXTENSIONS = ['pg_stat_statements'] as const;

export type Tier = 'own' | 'app' | 'user' | 'monitor';

export type Auth =
  /** LOGIN with this password (set as a SCRAM verifier). */
  | { readonly kind: 'password'; readonly password: string }
  /** LOGIN through RDS IAM authentication: member of rds_iam, no password. */
  | { readonly kind: 'iam' }
  /** No credential known (local use without a password): NOLOGIN. */
  | { readonly kind: 'none' };

export interface DesiredRole {
  readonly name: string;
  readonly tier: Tier;
  /** Service name and prefix, for `own`/`app`/`user`. */
  readonly service?: string;
  readonly prefix?: string;
  readonly auth: Auth;
}

export type EventTriggerMode =
  /** Installed and enabled (privileged step). */
  | 'present'
  /** Dropped if present (before a major version upgrade). */
  | 'absent'
  /** Left as it is (`--skip-event-trigger`). */
  | 'unmanaged';

export interface DesiredState {
  readonly appSchema: string;
  readonly services: readonly Service[];
  /** Active managed roles: three per service, then the monitoring role. */
  readonly roles: readonly DesiredRole[];
  readonly eventTrigger: EventTriggerMode;
  readonly extensions: readonly string[];
}

export interface DesiredInput {
  /** Schema in which each `{p}own` may create objects. */
  readonly appSchema: string;
  /** The raw service registry (validated here). */
  readonly services: unknown;
  /** The password of a login role, or undefined for none (the role is then NOLOGIN). */
  readonly password: (role: string) => string | undefined;
  /** @default 'present' */
  readonly eventTrigger?: EventTriggerMode;
  /** Where the registry came from, for error messages. @default 'services' */
  readonly where?: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function validateAppSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`Invalid application schema ${JSON.stringify(schema)}: must be a lower-case SQL identifier (letters, digits, "_"; at most 63 characters)`);
  }
  if (schema === 'platform_roles' || schema.startsWith('pg_') || schema === 'information_schema') {
    throw new Error(`Invalid application schema "${schema}": reserved (pg_*, information_schema, or the role schema's own platform_roles)`);
  }
  return schema;
}

/**
 * The COMMENT that marks a role as managed, e.g.
 * `platform-role-schema: db=platform tier=own service=gatherer prefix=gt_`. Roles are cluster-wide,
 * so the comment names the database whose registry manages the role: a registry applied to
 * another database of the same cluster leaves it alone.
 */
export function roleComment(database: string, role: Pick<DesiredRole, 'tier' | 'service' | 'prefix'>): string {
  // The monitoring role serves every database of the cluster alike, and is never retired.
  if (role.tier === 'monitor') return `${ROLE_MARKER} tier=monitor`;
  return `${ROLE_MARKER} db=${database} tier=${role.tier} service=${role.service} prefix=${role.prefix}`;
}

/** Reads a managed role's comment back; undefined when it is not one of ours. */
export function parseRoleComment(comment: string | null | undefined): { db?: string; tier: Tier; service?: string; prefix?: string } | undefined {
  if (!comment || !comment.startsWith(ROLE_MARKER)) return undefined;
  const fields = Object.fromEntries(
    comment
      .slice(ROLE_MARKER.length)
      .trim()
      .split(/\s+/)
      .map((kv) => kv.split('=', 2) as [string, string]),
  );
  const tier = fields.tier as Tier;
  if (!['own', 'app', 'user', 'monitor'].includes(tier)) return undefined;
  return { db: fields.db, tier, service: fields.service, prefix: fields.prefix };
}

export function buildDesired(input: DesiredInput): DesiredState {
  const appSchema = validateAppSchema(input.appSchema);
  const services = parseServiceRegistry(input.services, input.where ?? 'services');
  const roles: DesiredRole[] = [];
  for (const s of services) {
    const names = roleNames(s.prefix);
    for (const tier of ['own', 'app', 'user'] as const) {
      const name = names[tier];
      let auth: Auth;
      if (s.auth === 'iam') {
        auth = { kind: 'iam' };
      } else {
        const password = input.password(name);
        auth = password === undefined ? { kind: 'none' } : { kind: 'password', password };
      }
      roles.push({ name, tier, service: s.name, prefix: s.prefix, auth });
    }
  }
  const monitorPassword = input.password(MONITORING_ROLE);
  roles.push({
    name: MONITORING_ROLE,
    tier: 'monitor',
    auth: monitorPassword === undefined ? { kind: 'none' } : { kind: 'password', password: monitorPassword },
  });
  return { appSchema, services, roles, eventTrigger: input.eventTrigger ?? 'present', extensions: [...EXTENSIONS] };
}
