/**
 * cache-health Lambda: a thin adapter. Two modes, chosen by the event:
 *   - probe (`{ "mode": "probe" }` or a `Scheduled Event`): run the probe and publish EMF metrics;
 *   - digest (`{ "mode": "digest" }`): run the probe and publish the digest to the `info` topic.
 * Each invocation opens one connection over verified TLS as the monitor user, with a fresh IAM
 * token (SigV4, 15 minutes) as its password. The previous probe's counters stay in the container
 * so that rates cover the last interval (lambda/cache-health/info.ts).
 */
import fs from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { SNSClient } from '@aws-sdk/client-sns';
import { createClient, type RedisClientOptions } from '@redis/client';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { probeModeOf, type Mode } from '../shared/probe-mode';
import { publishDigest } from '../shared/publish-digest';
import { DIGEST_KIND, type MetricMap } from './contract';
import { clientOptions, readConfig, type HandlerConfig } from './connection';
import { digestData, formatDigest } from './digest';
import { createMetrics, emitMetrics } from './emf';
import { iamAuthToken } from './iam-token';
import type { CounterReading } from './info';
import { runProbe, type RedisCommands, type SampleInfo } from './probe';

export type { Mode };

export type Result =
  | { readonly mode: 'probe'; readonly metrics: MetricMap; readonly sample: SampleInfo; readonly durationMs: number }
  | { readonly mode: 'digest'; readonly messageId?: string; readonly sample: SampleInfo; readonly durationMs: number };

/** A connected session. */
export interface CacheSession extends RedisCommands {
  close(): Promise<void>;
}

export interface Deps {
  readonly config: HandlerConfig;
  readonly sns: Pick<SNSClient, 'send'>;
  /** The environment's metrics; `perPattern` makes one per namespace. */
  readonly metrics: Metrics;
  readonly perPattern: (pattern: string) => Metrics;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** AWS credentials that sign the IAM token. @default the Lambda's (environment variables) */
  readonly credentials?: AwsCredentialIdentityProvider;
  /** Opens a session. @default a node-redis client */
  readonly connect?: (options: RedisClientOptions) => Promise<CacheSession>;
  /** Reads the CA bundle when CACHE_CA_PATH is set. @default fs.readFileSync(path, 'utf8') */
  readonly readCa?: (path: string) => string;
  readonly now?: () => Date;
}

/** Picks the mode: an explicit `mode`, else a scheduled event means a probe. */
export const modeOf = (event: unknown): Mode => probeModeOf('cache-health', event);

async function redisConnect(options: RedisClientOptions): Promise<CacheSession> {
  const client = createClient(options);
  client.on('error', () => undefined); // the failing command reports it
  await client.connect();
  return { sendCommand: (args) => client.sendCommand(args), close: () => client.close() };
}

export function createHandler(deps: Deps): (event: unknown) => Promise<Result> {
  const { config, logger } = deps;
  const connect = deps.connect ?? redisConnect;
  const credentials = deps.credentials ?? fromEnv();
  const now = deps.now ?? (() => new Date());
  let ca: string | undefined;
  let previous: CounterReading | undefined;

  const caPem = (): string | undefined => {
    if (config.caPath === undefined) return undefined;
    if (ca === undefined) {
      try {
        ca = (deps.readCa ?? ((p) => fs.readFileSync(p, 'utf8')))(config.caPath);
      } catch (e) {
        throw new Error(`cache-health: cannot read the CA bundle ${config.caPath} (CACHE_CA_PATH): ${(e as Error).message}`);
      }
    }
    return ca;
  };

  async function probe() {
    const token = await iamAuthToken({ cacheName: config.replicationGroupId, userId: config.userId, region: config.region, credentials, signingDate: now() });
    const session = await connect(clientOptions({ host: config.host, port: config.port, username: config.userId, password: token, tls: true, ca: caPem() }));
    try {
      return await runProbe(session, config.probe, previous);
    } finally {
      await session.close().catch(() => undefined);
    }
  }

  return async (event: unknown): Promise<Result> => {
    const mode = modeOf(event);
    const started = Date.now();
    const r = await probe();
    if (mode === 'probe') {
      previous = r.reading;
      emitMetrics(deps.metrics, r.metrics, r.patterns, deps.perPattern);
      const durationMs = Date.now() - started;
      logger.info('probe done', {
        durationMs,
        sample: r.sample,
        keysWithoutTtl: r.metrics.keys_without_ttl,
        keysUnregistered: r.metrics.keys_unregistered,
        // Key names only, never values: the first few offenders, for whoever answers the alarm.
        examples: { withoutTtl: r.missingTtl.examples, unregistered: r.unregistered.examples },
      });
      return { mode, metrics: r.metrics, sample: r.sample, durationMs };
    }
    if (!config.digestTopicArn) throw new Error('cache-health: DIGEST_TOPIC_ARN is required for the digest');
    const message = formatDigest(digestData(r), config.environment, now());
    const messageId = await publishDigest(deps.sns, config.digestTopicArn, DIGEST_KIND, message);
    const durationMs = Date.now() - started;
    logger.info('digest published', { durationMs, sample: r.sample, messageId });
    return { mode, messageId, sample: r.sample, durationMs };
  };
}

let live: ((event: unknown) => Promise<Result>) | undefined;

/** The Lambda entry. Dependencies are built on first use, once per container. */
export const handler = (event: unknown): Promise<Result> => {
  if (!live) {
    const config = readConfig(process.env);
    live = createHandler({
      config,
      sns: new SNSClient({}),
      metrics: createMetrics(config.environment, config.namespace),
      perPattern: (p) => createMetrics(config.environment, config.namespace, p),
      logger: new Logger({ serviceName: 'cache-health' }),
    });
  }
  return live(event);
};
