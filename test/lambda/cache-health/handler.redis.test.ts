/**
 * The Lambda handler end to end on a real redis-server 7.0 speaking TLS with a test CA's
 * certificate: the monitor user's only password is the IAM token the handler must send
 * (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html: AUTH <user id> <token>),
 * SNS faked with aws-sdk-client-mock, EMF read from stdout. Also the deployed bundle from the
 * shared assembly, and the no-TTL / unregistered alarms of the templates evaluated against what
 * the probe reports.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { ENVIRONMENTS, loadEnvironment, monitorUserId, MONITOR_ACCESS_STRING, registeredNamespaces } from '../../../lib/config';
import type { HandlerConfig } from '../../../lambda/cache-health/connection';
import { createMetrics } from '../../../lambda/cache-health/emf';
import { createHandler } from '../../../lambda/cache-health/handler';
import { iamAuthToken } from '../../../lambda/cache-health/iam-token';
import { ASSEMBLY_DIR, templateJson } from '../../support/assembly';
import { startRedis, type RedisClient, type TestRedis } from '../../support/redis';
import { captureStdout } from '../../support/stdout';

const dev = loadEnvironment('dev', ENVIRONMENTS.dev);
const MONITOR = monitorUserId('dev');
const RG = 'dev-cache-rg';
const REGION = 'ap-northeast-2';
const CREDS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret', sessionToken: 'test-session' };
const TOPIC_ARN = 'arn:aws:sns:ap-northeast-2:123456789012:dev-alerts-info';
const NOW = new Date('2026-12-07T00:05:00Z');
const PATTERNS = registeredNamespaces(dev.cache.services, dev.cache.mustExpire, dev.roles.services);

let redis: TestRedis;
let admin: RedisClient;

/** Makes `tokens` the monitor user's only passwords. */
async function acceptOnly(tokens: string[]): Promise<void> {
  await admin.sendCommand(['ACL', 'SETUSER', MONITOR, 'resetpass', ...tokens.map((t) => `>${t}`)]);
}

beforeAll(async () => {
  redis = await startRedis({ users: [{ name: MONITOR, rules: MONITOR_ACCESS_STRING }], tls: true });
  admin = await redis.connect();
  await Promise.all([
    admin.sendCommand(['SET', 'progress:1', 'x']), // no TTL in a must-expire namespace
    admin.sendCommand(['SET', 'progress:2', 'x', 'EX', '600']),
    admin.sendCommand(['HSET', 'job:status:9', 'pct', '50']), // no TTL either
    admin.sendCommand(['SET', 'sc:config', 'x']),
    admin.sendCommand(['SET', 'legacy:session:1', 'x', 'EX', '600']), // unregistered
  ]);
});
afterAll(async () => {
  await admin?.close();
  await redis?.stop();
});

function config(): HandlerConfig {
  return {
    environment: 'dev',
    namespace: 'Platform/CacheHealth',
    host: 'localhost',
    port: redis.tls!.port,
    replicationGroupId: RG,
    userId: MONITOR,
    region: REGION,
    caPath: redis.tls!.caFile,
    probe: { patterns: PATTERNS, mustExpire: dev.cache.mustExpire },
    digestTopicArn: TOPIC_ARN,
  };
}

test('probe: logs in with the IAM token over verified TLS, emits EMF per environment and per namespace', async () => {
  await acceptOnly([await iamAuthToken({ cacheName: RG, userId: MONITOR, region: REGION, credentials: CREDS, signingDate: NOW })]);
  const sns = { send: jest.fn() };
  const logs: unknown[] = [];
  const handler = createHandler({
    config: config(),
    sns,
    metrics: createMetrics('dev'),
    perPattern: (p) => createMetrics('dev', undefined, p),
    logger: { info: (...a: unknown[]) => logs.push(a), warn: () => undefined, error: () => undefined },
    credentials: async () => CREDS,
    now: () => NOW,
  });
  const { result, docs } = await captureStdout(() => handler({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }));
  expect(result).toMatchObject({ mode: 'probe', metrics: { keys_total: 5, keys_without_ttl: 2, keys_unregistered: 1 } });
  const emf = docs.filter((d) => d._aws);
  expect(emf).toHaveLength(1 + PATTERNS.length);
  expect(emf[0]._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'Platform/CacheHealth', Dimensions: [['Environment']] });
  expect(emf[0]).toMatchObject({ Environment: 'dev', keys_without_ttl: 2, keys_unregistered: 1, keys_total: 5 });
  const progress = emf.find((d) => d.KeyPattern === 'progress:*')!;
  expect(progress._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Environment', 'KeyPattern']]);
  expect(progress).toMatchObject({ pattern_keys: 2, pattern_keys_without_ttl: 1 });
  // The log names offenders by key name only.
  expect(JSON.stringify(logs)).toContain('progress:1');
  expect(sns.send).not.toHaveBeenCalled();
});

test('a token signed for another user, or with other credentials, is refused by the server', async () => {
  await acceptOnly([await iamAuthToken({ cacheName: RG, userId: MONITOR, region: REGION, credentials: CREDS, signingDate: NOW })]);
  const base = { config: config(), sns: { send: jest.fn() }, metrics: createMetrics('dev'), perPattern: (p: string) => createMetrics('dev', undefined, p), logger: { info: () => undefined, warn: () => undefined, error: () => undefined }, now: () => NOW };
  const otherKey = createHandler({ ...base, credentials: async () => ({ ...CREDS, secretAccessKey: 'another' }) });
  await expect(otherKey({ mode: 'probe' })).rejects.toThrow(/WRONGPASS/);
});

test('digest: published to the info topic with its kind marker, namespaces without TTL listed', async () => {
  await acceptOnly([await iamAuthToken({ cacheName: RG, userId: MONITOR, region: REGION, credentials: CREDS, signingDate: NOW })]);
  const sns = mockClient(SNSClient);
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  try {
    const handler = createHandler({
      config: config(),
      sns: new SNSClient({ region: REGION, credentials: CREDS }),
      metrics: createMetrics('dev'),
      perPattern: (p) => createMetrics('dev', undefined, p),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      credentials: async () => CREDS,
      now: () => NOW,
    });
    const { result } = await captureStdout(() => handler({ mode: 'digest' }));
    expect(result).toMatchObject({ mode: 'digest', messageId: 'm-1' });
    const input = sns.commandCalls(PublishCommand)[0].args[0].input;
    expect(input).toMatchObject({ TopicArn: TOPIC_ARN, Subject: 'Cache health digest: dev', MessageAttributes: { kind: { DataType: 'String', StringValue: 'cache-health-digest' } } });
    const message = JSON.parse(input.Message!);
    expect(message.kind).toBe('cache-health-digest');
    expect(message.text).toContain(':warning: `progress:*`: 1 of 2 (must expire');
    expect(message.text).toContain(':warning: `job:status:*`: 1 of 1 (must expire');
  } finally {
    sns.restore();
  }
});

test('the deployed bundle (shared assembly) probes as Lambda would; the templates\' no-TTL and unregistered alarms would fire on what it reports', async () => {
  const resources = templateJson('dev', 'Observability').Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
  const [, fn] = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('CacheHealthProbe'))!;
  const file = path.join(ASSEMBLY_DIR, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`, 'index.js');
  expect(fs.existsSync(file)).toBe(true);
  // The bundle signs with the clock: accept the tokens of every second of the next two minutes.
  const start = Math.floor(Date.now() / 1000);
  const tokens = await Promise.all(Array.from({ length: 120 }, (_, i) => iamAuthToken({ cacheName: RG, userId: MONITOR, region: REGION, credentials: CREDS, signingDate: new Date((start + i) * 1000) })));
  await acceptOnly(tokens);
  const vars = fn.Properties.Environment.Variables as Record<string, unknown>;
  const env = {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
    AWS_SESSION_TOKEN: CREDS.sessionToken,
    ENVIRONMENT_NAME: 'dev',
    CACHE_HOST: 'localhost',
    CACHE_PORT: String(redis.tls!.port),
    CACHE_REPLICATION_GROUP_ID: RG,
    CACHE_USER_ID: String(vars.CACHE_USER_ID),
    CACHE_CA_PATH: redis.tls!.caFile,
    KEY_PATTERNS: String(vars.KEY_PATTERNS),
    MUST_EXPIRE: String(vars.MUST_EXPIRE),
    SCAN_MAX_KEYS: String(vars.SCAN_MAX_KEYS),
    SCAN_COUNT: String(vars.SCAN_COUNT),
  };
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(file) as { handler: (e: unknown) => Promise<Record<string, any>> };
    const { result, docs } = await captureStdout(() => mod.handler({ mode: 'probe' }));
    const emf = docs.find((d) => d._aws && d.Environment === 'dev' && d.KeyPattern === undefined)!;
    expect(emf).toMatchObject({ keys_without_ttl: 2, keys_unregistered: 1 });
    expect(result.metrics).toMatchObject({ keys_without_ttl: 2, keys_unregistered: 1 });
    // Each alarm of the template, evaluated on the datapoint the bundle emitted.
    for (const name of ['dev-cache-health-keys-without-ttl', 'dev-cache-health-unregistered-keys']) {
      const a = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.AlarmName === name)!.Properties;
      expect(a.ComparisonOperator).toBe('GreaterThanThreshold');
      expect(a.EvaluationPeriods).toBe(1);
      expect(emf[a.MetricName]).toBeGreaterThan(a.Threshold);
    }
  } finally {
    process.env = saved;
  }
});
