/**
 * The Lambda handler end to end on a real PostgreSQL 16 that speaks TLS with a certificate from a
 * test CA: Secrets Manager and SNS faked with aws-sdk-client-mock, EMF read from stdout.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { Client, type ClientConfig } from 'pg';
import { ASSEMBLY_DIR, templateJson } from '../../support/assembly';
import { startPostgres, type TestPostgres } from '../../support/postgres';
import { captureStdout } from '../../support/stdout';
import type { HandlerConfig } from '../../../lambda/db-health/connection';
import { createMetrics } from '../../../lambda/db-health/emf';
import { createHandler, modeOf, type DbSession, type Deps } from '../../../lambda/db-health/handler';
import { INDEX_FLOOR, MONITOR, PREFIXES, createFixture } from './fixture';
import { makeTestCerts } from '../../support/test-certs';

const SECRET_ARN = 'arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:platform/test/db-health-AbCdEf';
const TOPIC_ARN = 'arn:aws:sns:ap-northeast-2:123456789012:test-alerts-info';

let pg: TestPostgres;
let certs: string;

/** A CA, a second unrelated CA, and a server certificate for DNS:localhost signed by the first. */
function makeCerts(): void {
  certs = fs.mkdtempSync(path.join(os.tmpdir(), 'db-health-tls-'));
  makeTestCerts(certs, 'db-health test CA');
}

/** Turns TLS on in the running server (a reload is enough since PostgreSQL 10). */
async function enableTls(): Promise<void> {
  const owner = fs.statSync(pg.dataDir);
  for (const f of ['server.crt', 'server.key']) {
    const dest = path.join(pg.dataDir, f);
    fs.copyFileSync(path.join(certs, f), dest);
    fs.chownSync(dest, owner.uid, owner.gid);
    fs.chmodSync(dest, 0o600);
  }
  await pg.query("ALTER SYSTEM SET ssl_cert_file = 'server.crt'");
  await pg.query("ALTER SYSTEM SET ssl_key_file = 'server.key'");
  await pg.query('ALTER SYSTEM SET ssl = on');
  await pg.query('SELECT pg_reload_conf()');
  for (let i = 0; i < 100; i++) {
    if ((await pg.query('SHOW ssl')).rows[0].ssl === 'on') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('ssl never turned on');
}

beforeAll(async () => {
  makeCerts();
  pg = await startPostgres();
  await createFixture(pg);
  await enableTls();
});
afterAll(async () => {
  await pg?.stop();
  if (certs) fs.rmSync(certs, { recursive: true, force: true });
});

const config = (o: Partial<HandlerConfig> = {}): HandlerConfig => ({
  environment: 'test',
  namespace: 'Platform/DbHealth',
  secretId: SECRET_ARN,
  caPath: path.join(certs, 'ca.crt'),
  probe: { longQuerySeconds: 300, appSchema: 'public', servicePrefixes: PREFIXES, unusedIndexMinBytes: INDEX_FLOOR },
  digestTopicArn: TOPIC_ARN,
  ...o,
});

const secretString = (password = MONITOR.password) =>
  JSON.stringify({ username: MONITOR.user, password, host: 'localhost', port: pg.port, dbname: MONITOR.database, engine: 'postgres' });

/** Connects with exactly the config the handler built and records whether the session is TLS. */
function recordingConnect(seen: { config: ClientConfig; ssl: boolean }[]) {
  return async (cfg: ClientConfig): Promise<DbSession> => {
    const c = new Client(cfg);
    try {
      await c.connect();
    } catch (e) {
      await c.end().catch(() => undefined);
      throw e;
    }
    const r = await c.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    seen.push({ config: cfg, ssl: r.rows[0].ssl === true });
    return c;
  };
}

function setup(o: { config?: Partial<HandlerConfig>; secrets?: string[] } = {}) {
  const secrets = new SecretsManagerClient({ region: 'ap-northeast-2' });
  const sns = new SNSClient({ region: 'ap-northeast-2' });
  const sm = mockClient(secrets);
  const values = o.secrets ?? [secretString()];
  let read = 0;
  sm.on(GetSecretValueCommand).callsFake(async () => ({ SecretString: values[Math.min(read++, values.length - 1)] }));
  const snsMock = mockClient(sns);
  snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });
  const seen: { config: ClientConfig; ssl: boolean }[] = [];
  const logs: unknown[][] = [];
  const cfg = config(o.config);
  const deps: Deps = {
    config: cfg,
    secrets,
    sns,
    metrics: createMetrics(cfg.environment),
    logger: { info: (...a: unknown[]) => logs.push(a), warn: (...a: unknown[]) => logs.push(a), error: (...a: unknown[]) => logs.push(a) } as Deps['logger'],
    connect: recordingConnect(seen),
    now: () => new Date('2026-11-24T00:00:00Z'),
  };
  return { handler: createHandler(deps), sm, snsMock, seen, logs };
}

const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };

describe('probe mode', () => {
  test('reads the secret once per container, connects over verified TLS and emits EMF', async () => {
    const { handler, sm, seen } = setup();
    const first = await captureStdout(() => handler(scheduled));
    const second = await captureStdout(() => handler(scheduled));
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(sm.commandCalls(GetSecretValueCommand)[0].args[0].input).toEqual({ SecretId: SECRET_ARN });

    expect(seen).toHaveLength(2);
    expect(seen[0].ssl).toBe(true);
    expect(seen[0].config.ssl).toMatchObject({ rejectUnauthorized: true, servername: 'localhost' });
    expect(seen[0].config.application_name).toBe('db-health');

    for (const { result, docs } of [first, second]) {
      expect(result.mode).toBe('probe');
      if (result.mode !== 'probe') throw new Error('unreachable');
      expect(result.queries).toBe(1);
      expect(result.metrics.unused_indexes).toBe(1);
      expect(result.metrics.tables_without_service_prefix).toBe(2);
      const emf = docs.filter((d) => d._aws);
      expect(emf).toHaveLength(1);
      expect(emf[0]._aws.CloudWatchMetrics[0].Namespace).toBe('Platform/DbHealth');
      expect(emf[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Environment']]);
      expect(emf[0].Environment).toBe('test');
      expect(emf[0].unused_indexes).toBe(1);
      expect(emf[0].tables_without_service_prefix).toBe(2);
      expect(emf[0].connections_max).toBe(result.metrics.connections_max);
    }
  });

  test('refuses a server whose certificate does not chain to the configured CA', async () => {
    const { handler } = setup({ config: { caPath: path.join(certs, 'other-ca.crt') } });
    await expect(captureStdout(() => handler(scheduled))).rejects.toThrow(/self[- ]signed|unable to (verify|get)/i);
  });

  test('refuses a certificate issued for another host name', async () => {
    // The certificate names DNS:localhost only; 127.0.0.1 is the same server under another name.
    const { handler } = setup({ config: { host: '127.0.0.1' } });
    await expect(captureStdout(() => handler(scheduled))).rejects.toThrow(/127\.0\.0\.1.*cert|altnames/i);
  });

  test('a missing CA bundle fails with the path and the variable to set', async () => {
    const { handler } = setup({ config: { caPath: path.join(certs, 'missing.pem') } });
    await expect(handler(scheduled)).rejects.toThrow(/missing\.pem \(DB_CA_PATH\)/);
  });

  test('after a password rotation, reads the secret again once and carries on', async () => {
    const { handler, sm, logs } = setup({ secrets: [secretString('stale-password'), secretString()] });
    const { result } = await captureStdout(() => handler(scheduled));
    expect(result.mode).toBe('probe');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(JSON.stringify(logs)).toMatch(/authentication failed/);
  });
});

describe('digest mode', () => {
  test('publishes one self-describing message to the info topic', async () => {
    const { handler, snsMock } = setup();
    const { result } = await captureStdout(() => handler({ mode: 'digest' }));
    expect(result).toMatchObject({ mode: 'digest', messageId: 'msg-1', queries: 1 });
    const calls = snsMock.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0].args[0].input;
    expect(input.TopicArn).toBe(TOPIC_ARN);
    expect(input.Subject).toBe('DB health digest: test / app');
    expect(input.MessageAttributes).toEqual({ kind: { DataType: 'String', StringValue: 'db-health-digest' } });
    const message = JSON.parse(input.Message!);
    expect(message).toMatchObject({ kind: 'db-health-digest', version: 1, environment: 'test', database: 'app' });
    expect(typeof message.text).toBe('string');
    expect(message.blocks[0].type).toBe('header');
    expect(message.data.unprefixedTables.map((t: { table: string }) => t.table)).toEqual(['gtxfoo', 'legacy_things']);
    // This server has no pg_stat_statements: the digest says so rather than failing.
    expect(message.data.statements.available).toBe(false);
  });

  test('without a topic it fails loudly instead of dropping the digest', async () => {
    const { handler } = setup({ config: { digestTopicArn: undefined } });
    await expect(handler({ mode: 'digest' })).rejects.toThrow(/DIGEST_TOPIC_ARN/);
  });
});

describe('modeOf', () => {
  test.each<[unknown, string]>([
    [scheduled, 'probe'],
    [{}, 'probe'],
    [{ mode: 'probe' }, 'probe'],
    [{ mode: 'digest' }, 'digest'],
  ])('%j -> %s', (event, mode) => expect(modeOf(event)).toBe(mode));

  test.each<[unknown, RegExp]>([
    [{ mode: 'weekly' }, /unknown mode "weekly"/],
    [null, /expected a scheduled event/],
    [{ Records: [] }, /expected a scheduled event/],
  ])('rejects %j', (event, message) => expect(() => modeOf(event)).toThrow(message));
});

describe('the deployed bundle', () => {
  /** The esbuild bundle `cdk synth` made for prod's db-health function (the shared synth). */
  function bundlePath(): string {
    const resources = templateJson('prod', 'Observability').Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
    const [fn] = Object.entries(resources).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('DbHealth'));
    const hash = String(fn[1].Properties.Code.S3Key).replace(/\.zip$/, '');
    return path.join(ASSEMBLY_DIR, `asset.${hash}`, 'index.js');
  }

  test('runs both modes from its environment, as Lambda would: .sql inlined, pg, Powertools and TLS bundled', async () => {
    const file = bundlePath();
    expect(fs.existsSync(file)).toBe(true);
    // The bundle reads the same clients' classes (the SDK is left to the runtime), so mock by class.
    const sm = mockClient(SecretsManagerClient);
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretString() });
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({ MessageId: 'bundle-1' });
    const env = {
      AWS_REGION: 'ap-northeast-2',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      ENVIRONMENT_NAME: 'bundle',
      DB_SECRET_ARN: SECRET_ARN,
      DB_CA_PATH: path.join(certs, 'ca.crt'),
      SERVICE_PREFIXES: PREFIXES.join(','),
      UNUSED_INDEX_MIN_BYTES: String(INDEX_FLOOR),
      DIGEST_TOPIC_ARN: TOPIC_ARN,
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(file) as { handler: (e: unknown) => Promise<Record<string, any>> };
      const probe = await captureStdout(() => mod.handler(scheduled));
      expect(probe.result.metrics).toMatchObject({ unused_indexes: 1, tables_without_service_prefix: 2 });
      const emf = probe.docs.filter((d) => d._aws);
      expect(emf).toHaveLength(1);
      expect(emf[0]).toMatchObject({ Environment: 'bundle', unused_indexes: 1 });
      const digest = await captureStdout(() => mod.handler({ mode: 'digest' }));
      expect(digest.result).toMatchObject({ mode: 'digest', messageId: 'bundle-1' });
      expect(JSON.parse(sns.commandCalls(PublishCommand)[0].args[0].input.Message!).kind).toBe('db-health-digest');
      expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    } finally {
      process.env = saved;
      sm.restore();
      sns.restore();
    }
  });
});
