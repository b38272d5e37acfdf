/**
 * The handler's settings (from the environment the CDK construct sets) and the PostgreSQL client
 * configuration: TLS with certificate and host-name verification against a CA bundle read from a
 * file. Pure; the handler does the reading.
 */
import type { ClientConfig } from 'pg';
import { METRICS_NAMESPACE } from './contract';
import type { ProbeOptions } from './probe';
import { parseDbSecret, type DbSecret } from '../shared/db-secret';
import { LAMBDA_RUNTIME_CA_BUNDLE, verifiedTlsOptions } from '../shared/db-tls';
import { SAFE_SESSION_OPTIONS } from '../shared/safe-session';

/** Default CA bundle; read for the database connection only, so the SDK's cold start is unaffected. */
export { LAMBDA_RUNTIME_CA_BUNDLE };

export interface HandlerConfig {
  /** Environment name: the `Environment` dimension and part of the digest title. */
  readonly environment: string;
  readonly namespace: string;
  /** Secrets Manager secret of the monitoring role (`{ username, password, host?, port?, dbname? }`). */
  readonly secretId: string;
  /** Override the secret's host/port/database (e.g. to probe the replica). */
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  /** PEM bundle the server certificate must chain to. */
  readonly caPath: string;
  readonly probe: ProbeOptions;
  /** Topic the digest is published to (the `info` alert topic). */
  readonly digestTopicArn?: string;
}

function required(env: Record<string, string | undefined>, key: string): string {
  const v = env[key]?.trim();
  if (!v) throw new Error(`db-health: environment variable ${key} is required`);
  return v;
}

function positive(env: Record<string, string | undefined>, key: string, fallback: number, integer = true): number {
  const raw = env[key]?.trim();
  if (!raw) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new Error(`db-health: ${key} must be a non-negative ${integer ? 'integer' : 'number'} (got ${JSON.stringify(raw)})`);
  }
  return v;
}

/** Reads the handler's settings; throws naming the bad variable. */
export function readConfig(env: Record<string, string | undefined>): HandlerConfig {
  const prefixes = required(env, 'SERVICE_PREFIXES')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const port = env.DB_PORT?.trim() ? positive(env, 'DB_PORT', 0) : undefined;
  return {
    environment: required(env, 'ENVIRONMENT_NAME'),
    namespace: env.METRICS_NAMESPACE?.trim() || METRICS_NAMESPACE,
    secretId: required(env, 'DB_SECRET_ARN'),
    host: env.DB_HOST?.trim() || undefined,
    port,
    database: env.DB_NAME?.trim() || undefined,
    caPath: env.DB_CA_PATH?.trim() || LAMBDA_RUNTIME_CA_BUNDLE,
    probe: {
      longQuerySeconds: positive(env, 'LONG_QUERY_SECONDS', 300, false),
      appSchema: env.APP_SCHEMA?.trim() || 'public',
      servicePrefixes: prefixes,
      unusedIndexMinBytes: positive(env, 'UNUSED_INDEX_MIN_BYTES', 1_048_576),
    },
    digestTopicArn: env.DIGEST_TOPIC_ARN?.trim() || undefined,
  };
}

/** The monitoring role's secret, in the RDS secret JSON shape. */
export type { DbSecret };

/** Parses a secret string; the message never includes the secret's content. */
export function parseSecret(secretString: string | undefined): DbSecret {
  return parseDbSecret('db-health: the database secret', secretString);
}

/**
 * node-postgres settings for one probe connection: verified TLS (`rejectUnauthorized`, and the
 * host name checked against the certificate), a name that shows in pg_stat_activity, and timeouts
 * so that a stuck server or a lock held by a migration cannot hold the function until its timeout.
 */
export function clientConfig(secret: DbSecret, cfg: Pick<HandlerConfig, 'host' | 'port' | 'database'>, caPem: string): ClientConfig {
  const host = cfg.host ?? secret.host;
  if (!host) throw new Error('db-health: no database host (set DB_HOST or add "host" to the secret)');
  const database = cfg.database ?? secret.dbname;
  if (!database) throw new Error('db-health: no database name (set DB_NAME or add "dbname" to the secret)');
  return {
    host,
    port: cfg.port ?? secret.port ?? 5432,
    database,
    user: secret.username,
    password: secret.password,
    ssl: verifiedTlsOptions(host, caPem, 'db-health: the CA bundle'),
    application_name: 'db-health',
    // No user-writable schema on the search_path (lambda/shared/safe-session.ts).
    options: SAFE_SESSION_OPTIONS,
    connectionTimeoutMillis: 5_000,
    statement_timeout: 10_000,
    lock_timeout: 2_000,
    query_timeout: 15_000,
  };
}
