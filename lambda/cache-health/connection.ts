/**
 * The handler's settings (from the environment the CDK construct sets) and the node-redis client
 * options: TLS with the certificate chain and host name verified (ElastiCache's in-transit
 * certificates are publicly trusted, so Node's bundled roots verify them; a CA bundle file can
 * replace them), short timeouts, no reconnects, and no `CLIENT SETINFO` (the monitor user may not
 * run CLIENT). Pure; the handler does the reading.
 */
import net from 'node:net';
import type { RedisClientOptions } from '@redis/client';
import { METRICS_NAMESPACE } from './contract';
import { checkBudget, DEFAULT_BUDGET, type ProbeOptions } from './probe';

export interface HandlerConfig {
  /** Environment name: the `Environment` dimension and part of the digest title. */
  readonly environment: string;
  readonly namespace: string;
  /** Primary endpoint address; must match the server certificate. */
  readonly host: string;
  readonly port: number;
  /** The replication group id the IAM token is signed for (lower-case). */
  readonly replicationGroupId: string;
  /** The monitor user (IAM authentication: user id == user name). */
  readonly userId: string;
  readonly region: string;
  /** PEM bundle the server certificate must chain to. @default - Node's bundled roots */
  readonly caPath?: string;
  readonly probe: ProbeOptions;
  /** Topic the digest is published to (the `info` alert topic). */
  readonly digestTopicArn?: string;
}

function required(env: Record<string, string | undefined>, key: string): string {
  const v = env[key]?.trim();
  if (!v) throw new Error(`cache-health: environment variable ${key} is required`);
  return v;
}

function integer(env: Record<string, string | undefined>, key: string, fallback: number): number {
  const raw = env[key]?.trim();
  if (!raw) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0) throw new Error(`cache-health: ${key} must be a non-negative integer (got ${JSON.stringify(raw)})`);
  return v;
}

const list = (v: string): string[] => v.split(',').map((p) => p.trim()).filter((p) => p.length > 0);

/** Reads the handler's settings; throws naming the bad variable. */
export function readConfig(env: Record<string, string | undefined>): HandlerConfig {
  const port = integer(env, 'CACHE_PORT', 6379);
  if (port < 1 || port > 65535) throw new Error(`cache-health: CACHE_PORT must be a TCP port (got ${port})`);
  const replicationGroupId = required(env, 'CACHE_REPLICATION_GROUP_ID');
  return {
    environment: required(env, 'ENVIRONMENT_NAME'),
    namespace: env.METRICS_NAMESPACE?.trim() || METRICS_NAMESPACE,
    host: required(env, 'CACHE_HOST'),
    port,
    // ElastiCache signs and checks the token with the lower-case id (auth-iam.html, Limitations).
    replicationGroupId: replicationGroupId.toLowerCase(),
    userId: required(env, 'CACHE_USER_ID'),
    region: required(env, 'AWS_REGION'),
    caPath: env.CACHE_CA_PATH?.trim() || undefined,
    probe: {
      patterns: list(required(env, 'KEY_PATTERNS')),
      mustExpire: list(env.MUST_EXPIRE ?? ''),
      budget: checkBudget({ maxKeys: integer(env, 'SCAN_MAX_KEYS', DEFAULT_BUDGET.maxKeys), scanCount: integer(env, 'SCAN_COUNT', DEFAULT_BUDGET.scanCount) }),
    },
    digestTopicArn: env.DIGEST_TOPIC_ARN?.trim() || undefined,
  };
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** TLS (`rediss://`). */
  readonly tls: boolean;
  /** PEM the server certificate must chain to. @default - Node's bundled roots */
  readonly ca?: string;
}

/** node-redis options for one probe connection. */
export function clientOptions(e: Endpoint): RedisClientOptions {
  const common = { host: e.host, port: e.port, connectTimeout: 5_000, socketTimeout: 15_000, reconnectStrategy: false as const };
  return {
    socket: e.tls
      ? {
          ...common,
          tls: true,
          rejectUnauthorized: true,
          ...(e.ca !== undefined ? { ca: e.ca } : {}),
          // SNI and the host-name check need a name; an IP address is checked against the IP SANs.
          ...(net.isIP(e.host) ? {} : { servername: e.host }),
        }
      : { ...common, tls: false },
    username: e.username,
    password: e.password,
    disableClientInfo: true,
    // node-redis times each command from when it is queued (default 5 s); a sample batch queues up
    // to 2 x COUNT commands at once, so allow more than the default on a slow (small) function.
    commandOptions: { timeout: 15_000 },
  };
}
