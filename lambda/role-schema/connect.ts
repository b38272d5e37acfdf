/**
 * Connecting to PostgreSQL with bounded retries: right after CloudFormation creates the instance
 * (or during a reboot or failover) it may refuse connections for a while. Retries only what can
 * pass by itself (network errors, "the database system is starting up", too many connections),
 * with exponential backoff, within a time budget; anything else (a wrong password, a missing
 * database) fails at once. The final error says what was tried and what to check.
 */
import { readFileSync } from 'node:fs';
import { Client, type ClientConfig } from 'pg';
import { LAMBDA_RUNTIME_CA_BUNDLE, verifiedTlsOptions } from '../shared/db-tls';

export interface RetryPolicy {
  /** Stop retrying after this long, in ms. */
  readonly budgetMs: number;
  /** First wait, doubled after each failure, in ms. @default 1000 */
  readonly initialDelayMs?: number;
  /** Longest single wait, in ms. @default 15000 */
  readonly maxDelayMs?: number;
}

const RETRYABLE_NET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
/** cannot_connect_now (starting up, recovery), admin_shutdown, crash_shutdown, too_many_connections. */
const RETRYABLE_SQLSTATE = new Set(['57P03', '57P01', '57P02', '53300']);

export function isRetryable(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  if (err?.code && (RETRYABLE_NET.has(err.code) || RETRYABLE_SQLSTATE.has(err.code))) return true;
  return /timeout expired|Connection terminated unexpectedly|connect ETIMEDOUT/i.test(err?.message ?? '');
}

/** Verified TLS against a CA bundle (host name checked), as rds.force_ssl requires. */
export function verifiedTls(host: string, caPath = LAMBDA_RUNTIME_CA_BUNDLE): ClientConfig['ssl'] {
  return verifiedTlsOptions(host, readFileSync(caPath, 'utf8'), `the CA bundle ${caPath}`);
}

export interface ConnectDeps {
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly onRetry?: (info: { attempt: number; delayMs: number; error: string }) => void;
}

export async function connectWithRetry(config: ClientConfig, policy: RetryPolicy, deps: ConnectDeps = {}): Promise<Client> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const start = now();
  let delay = policy.initialDelayMs ?? 1000;
  for (let attempt = 1; ; attempt++) {
    const client = new Client({ connectionTimeoutMillis: 5000, ...config });
    // An error after connect (server restart) must not crash the process; queries report it.
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch (e) {
      await client.end().catch(() => undefined);
      const error = (e as Error).message || String(e);
      const where = `${config.host}:${config.port}/${config.database} as ${config.user}`;
      if (!isRetryable(e)) {
        // Keep the SQLSTATE: the caller tells a changed password (28P01) from other refusals.
        throw Object.assign(new Error(`cannot connect to PostgreSQL at ${where}: ${error}`), { code: (e as { code?: string }).code });
      }
      const elapsed = now() - start;
      if (elapsed + delay > policy.budgetMs) {
        throw new Error(
          `PostgreSQL at ${where} was not reachable after ${attempt} attempt(s) over ${Math.round(elapsed / 1000)} s: ${error}. ` +
            'Check that the instance is available and that the function\'s security group may reach its port.',
        );
      }
      deps.onRetry?.({ attempt, delayMs: delay, error });
      await sleep(delay);
      delay = Math.min(delay * 2, policy.maxDelayMs ?? 15_000);
    }
  }
}
