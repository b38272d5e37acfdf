/**
 * db-health Lambda: a thin adapter. Two modes, chosen by the event:
 *   - probe (the EventBridge `Scheduled Event`, or `{ "mode": "probe" }`): run the one-statement
 *     probe and publish the metric map as EMF;
 *   - digest (`{ "mode": "digest" }`, the daily schedule's constant input): collect the digest and
 *     publish it to the `info` topic as one self-describing JSON message.
 * It reads the monitoring role's secret once per container (again only if the password was
 * rotated under it) and opens one verified-TLS connection per invocation.
 */
import fs from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { Client, type ClientConfig } from 'pg';
import { probeModeOf, type Mode } from '../shared/probe-mode';
import { publishDigest } from '../shared/publish-digest';
import { DIGEST_KIND, type MetricMap } from './contract';
import { clientConfig, parseSecret, readConfig, type DbSecret, type HandlerConfig } from './connection';
import { collectDigest, formatDigest } from './digest';
import { createMetrics, emitMetrics } from './emf';
import { runProbe, type Queryable } from './probe';

export type { Mode };

/** What the handler returns (visible in a manual invocation). */
export type Result =
  | { readonly mode: 'probe'; readonly metrics: MetricMap; readonly queries: number; readonly durationMs: number }
  | { readonly mode: 'digest'; readonly messageId?: string; readonly queries: number; readonly durationMs: number };

/** A connected database session. */
export interface DbSession extends Queryable {
  end(): Promise<void>;
}

export interface Deps {
  readonly config: HandlerConfig;
  readonly secrets: Pick<SecretsManagerClient, 'send'>;
  readonly sns: Pick<SNSClient, 'send'>;
  readonly metrics: Metrics;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Opens a session. @default a pg Client */
  readonly connect?: (config: ClientConfig) => Promise<DbSession>;
  /** Reads the CA bundle. @default fs.readFileSync(path, 'utf8') */
  readonly readCa?: (path: string) => string;
  readonly now?: () => Date;
}

/** Picks the mode: an explicit `mode`, else a scheduled event means a probe. */
export const modeOf = (event: unknown): Mode => probeModeOf('db-health', event);

async function pgConnect(config: ClientConfig): Promise<DbSession> {
  const client = new Client(config);
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
  return client;
}

export function createHandler(deps: Deps): (event: unknown) => Promise<Result> {
  const { config, logger } = deps;
  const connect = deps.connect ?? pgConnect;
  const now = deps.now ?? (() => new Date());
  let secret: Promise<DbSecret> | undefined;
  let ca: string | undefined;

  const loadSecret = (): Promise<DbSecret> => {
    secret ??= deps.secrets
      .send(new GetSecretValueCommand({ SecretId: config.secretId }))
      .then((r) => parseSecret(r.SecretString))
      .catch((e: unknown) => {
        secret = undefined; // do not cache a failure
        throw e;
      });
    return secret;
  };
  const caPem = (): string => {
    if (ca === undefined) {
      try {
        ca = (deps.readCa ?? ((p) => fs.readFileSync(p, 'utf8')))(config.caPath);
      } catch (e) {
        throw new Error(`db-health: cannot read the CA bundle ${config.caPath} (DB_CA_PATH): ${(e as Error).message}`);
      }
    }
    return ca;
  };

  async function withDb<T>(fn: (db: Queryable) => Promise<T>): Promise<T> {
    let session: DbSession;
    try {
      session = await connect(clientConfig(await loadSecret(), config, caPem()));
    } catch (e) {
      // 28P01 invalid_password: the secret was rotated since we cached it. Read it once more.
      if ((e as { code?: string }).code !== '28P01') throw e;
      logger.warn('authentication failed with the cached secret; reading it again');
      secret = undefined;
      session = await connect(clientConfig(await loadSecret(), config, caPem()));
    }
    try {
      return await fn(session);
    } finally {
      await session.end().catch(() => undefined);
    }
  }

  return async (event: unknown): Promise<Result> => {
    const mode = modeOf(event);
    const started = Date.now();
    if (mode === 'probe') {
      const r = await withDb((db) => runProbe(db, config.probe));
      emitMetrics(deps.metrics, r.metrics);
      const durationMs = Date.now() - started;
      logger.info('probe done', { durationMs, queries: r.queries, inRecovery: r.inRecovery });
      return { mode, metrics: r.metrics, queries: r.queries, durationMs };
    }
    if (!config.digestTopicArn) throw new Error('db-health: DIGEST_TOPIC_ARN is required for the digest');
    const data = await withDb((db) => collectDigest(db, config.probe));
    const message = formatDigest(data, config.environment, now());
    if (!data.statements.available) logger.warn('digest without statement statistics', { reason: data.statements.reason });
    const messageId = await publishDigest(deps.sns, config.digestTopicArn, DIGEST_KIND, message);
    const durationMs = Date.now() - started;
    logger.info('digest published', { durationMs, queries: data.queries, messageId });
    return { mode, messageId, queries: data.queries, durationMs };
  };
}

let live: ((event: unknown) => Promise<Result>) | undefined;

/** The Lambda entry. Dependencies are built on first use, once per container. */
export const handler = (event: unknown): Promise<Result> => {
  if (!live) {
    const config = readConfig(process.env);
    live = createHandler({
      config,
      secrets: new SecretsManagerClient({}),
      sns: new SNSClient({}),
      metrics: createMetrics(config.environment, config.namespace),
      logger: new Logger({ serviceName: 'db-health' }),
    });
  }
  return live(event);
};
