/**
 * The cache's users, derived from the cache registry the way the database roles are derived from
 * the service registry: pure, no CDK, so the tests load exactly these access strings into a real
 * redis-server and the construct (lib/constructs/cache-users.ts) turns them into ElastiCache users.
 *
 * Per environment:
 *
 * | user id                 | user name       | access                                                    |
 * |-------------------------|-----------------|-----------------------------------------------------------|
 * | `{env}-{p}-app`         | same (IAM)      | read/write its namespaces, read its readPatterns, its channels, no dangerous commands |
 * | `{env}-{p}-ro`          | same (IAM)      | read its namespaces and readPatterns, subscribe to its channels |
 * | `{env}-cache-monitor`   | same (IAM)      | INFO, PING, SCAN, TYPE, TTL, MEMORY USAGE …; never a value |
 * | `{env}-cache-admin`     | same (IAM)      | everything (break-glass; no role is granted it by default) |
 * | `{env}-default-off`     | `default`       | `off`: the user group must hold a user named "default"    |
 *
 * ElastiCache access strings are Redis ACL rules with limits
 * (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html): no passwords in
 * the string, no `reset`, no renamed commands, `on`/`off` says whether the user may log in.
 * IAM users need user id == user name (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html).
 */
import { checkCacheRegistry, type CacheService, type ResolvedCacheService } from './cache-registry';

export type CacheUserKind = 'app' | 'readonly' | 'monitor' | 'admin' | 'default';

/** One ElastiCache user. */
export interface CacheUserSpec {
  /** ElastiCache user id, unique in the account and region (hence the environment in it). */
  readonly userId: string;
  /** The name clients log in with; equals userId for IAM users. */
  readonly userName: string;
  readonly kind: CacheUserKind;
  /** The registry service, for `app` and `readonly`. */
  readonly service?: string;
  /** The ACL rules, ElastiCache access-string syntax. */
  readonly accessString: string;
  /** `iam`: clients log in with a SigV4 token; `none`: the user is off and nobody logs in as it. */
  readonly authentication: 'iam' | 'none';
}

/**
 * Commands no service user may run even inside its own namespace, named on top of `-@dangerous`
 * (which already holds them in Redis 7) so that a future category change cannot bring them back:
 * wiping the keyspace, full-keyspace scans that also leak other services' key names, server
 * configuration and introspection.
 */
export const DENIED_FOR_SERVICES = ['flushall', 'flushdb', 'keys', 'config', 'debug', 'monitor', 'shutdown', 'scan', 'randomkey', 'swapdb', 'migrate', 'acl'] as const;

/**
 * What the monitor user may run: server statistics and key metadata, never a value. MEMORY USAGE,
 * TYPE and TTL need key access, so the monitor gets read permission on every key (`%R~*`) but no
 * command that returns a value (GET, HGETALL, DUMP, …: none of them is granted).
 */
export const MONITOR_COMMANDS = [
  'ping',
  'hello',
  'auth',
  'info',
  'dbsize',
  'scan',
  'type',
  'ttl',
  'pttl',
  'exists',
  'memory|usage',
  'object|encoding',
  'object|idletime',
  'slowlog|get',
  'latency|latest',
] as const;

const SERVICE_ID = /^[a-z][a-z0-9-]*$/;

/** `{env}-{p}-app` / `{env}-{p}-ro` for a table prefix `p_`. */
export function cacheUserIds(envName: string, prefix: string): { app: string; readonly: string } {
  const base = prefix.slice(0, -1);
  return { app: `${envName}-${base}-app`, readonly: `${envName}-${base}-ro` };
}

export function monitorUserId(envName: string): string {
  return `${envName}-cache-monitor`;
}

export function adminUserId(envName: string): string {
  return `${envName}-cache-admin`;
}

export function defaultUserId(envName: string): string {
  return `${envName}-default-off`;
}

/** App user: read/write its own namespaces, read (`%R~`) the ones it may read, its channels. */
export function appAccessString(s: ResolvedCacheService): string {
  return [
    'on',
    ...s.writes.map((p) => `~${p}`),
    ...s.reads.map((p) => `%R~${p}`),
    ...s.channels.map((c) => `&${c}`),
    '+@all',
    '-@dangerous',
    ...DENIED_FOR_SERVICES.map((c) => `-${c}`),
  ].join(' ');
}

/** Read-only user: reads (`%R~`) of everything the app user may touch, subscribe to its channels. */
export function readOnlyAccessString(s: ResolvedCacheService): string {
  return [
    'on',
    ...[...s.writes, ...s.reads].map((p) => `%R~${p}`),
    ...s.channels.map((c) => `&${c}`),
    '-@all',
    '+@read',
    '+@connection',
    '+subscribe',
    '+psubscribe',
    '+unsubscribe',
    '+punsubscribe',
    '-@dangerous',
    ...DENIED_FOR_SERVICES.map((c) => `-${c}`),
  ].join(' ');
}

export const MONITOR_ACCESS_STRING = ['on', '%R~*', '-@all', ...MONITOR_COMMANDS.map((c) => `+${c}`)].join(' ');
export const ADMIN_ACCESS_STRING = 'on ~* &* +@all';
/** The group's mandatory "default" user: switched off, no keys, no channels, no commands. */
export const DEFAULT_OFF_ACCESS_STRING = 'off -@all';

/**
 * Rejects what ElastiCache does not accept in an access string (passwords, `nopass`, `reset`,
 * `resetpass`) and anything that is not a plain rule token. Throws naming the user and token.
 */
export function assertElastiCacheAccessString(userId: string, accessString: string): void {
  for (const token of accessString.split(' ')) {
    if (token === '' || /^[<>#!]/.test(token) || ['nopass', 'reset', 'resetpass'].includes(token)) {
      throw new Error(`Cache user "${userId}": access-string token ${JSON.stringify(token)} is not allowed by ElastiCache (no passwords, nopass or reset in an access string)`);
    }
  }
  if (!/^(on|off)( |$)/.test(accessString)) throw new Error(`Cache user "${userId}": access string must start with "on" or "off"`);
}

/**
 * Every user of one environment's user group, in a stable order: default-off, admin, monitor,
 * then app and read-only per registered service. Throws if the registry is inconsistent (the
 * config schema reports the same problems with field paths at synth).
 */
export function deriveCacheUsers(
  envName: string,
  cache: { readonly services: readonly CacheService[]; readonly mustExpire: readonly string[] },
  services: readonly { name: string; prefix: string }[],
): CacheUserSpec[] {
  if (!SERVICE_ID.test(envName)) throw new Error(`deriveCacheUsers: environment name ${JSON.stringify(envName)} cannot be part of an ElastiCache user id`);
  const { resolved, issues } = checkCacheRegistry(cache.services, cache.mustExpire, services);
  if (issues.length > 0) {
    throw new Error(`Invalid cache registry: ${issues.map((i) => `cache.${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[')}: ${i.message}`).join('; ')}`);
  }
  const users: CacheUserSpec[] = [
    { userId: defaultUserId(envName), userName: 'default', kind: 'default', accessString: DEFAULT_OFF_ACCESS_STRING, authentication: 'none' },
    { userId: adminUserId(envName), userName: adminUserId(envName), kind: 'admin', accessString: ADMIN_ACCESS_STRING, authentication: 'iam' },
    { userId: monitorUserId(envName), userName: monitorUserId(envName), kind: 'monitor', accessString: MONITOR_ACCESS_STRING, authentication: 'iam' },
  ];
  for (const s of resolved) {
    const ids = cacheUserIds(envName, s.prefix);
    users.push({ userId: ids.app, userName: ids.app, kind: 'app', service: s.service, accessString: appAccessString(s), authentication: 'iam' });
    users.push({ userId: ids.readonly, userName: ids.readonly, kind: 'readonly', service: s.service, accessString: readOnlyAccessString(s), authentication: 'iam' });
  }
  for (const u of users) assertElastiCacheAccessString(u.userId, u.accessString);
  return users;
}
