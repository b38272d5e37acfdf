/** Single-user rotation on a real PostgreSQL 16, with a stateful fake Secrets Manager (aws-sdk-client-mock). */
import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { Client } from 'pg';
import { rotate, type RotationEvent } from '../../../lambda/role-schema/rotate';
import type { DbSecret } from '../../../lambda/role-schema/secrets';
import { readServerLogs, startPostgres, type TestPostgres } from '../../support/postgres';
import { applyBoth, createDatabase, desiredFor, passwordOf, setupCluster } from './fixtures';

let pg: TestPostgres;
const sm = mockClient(SecretsManagerClient);
const ID = 'arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:platform/dev/postgres/rtapp-Q1w2E3';
const NEW_PASSWORD = 'N3wRotatedPassw0rdNeverLogged9x';

/** Versions: id → { value, stages }. */
let versions: Map<string, { value: string; stages: string[] }>;

function fakeSecretsManager(): void {
  sm.reset();
  const notFound = () => Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
  sm.on(DescribeSecretCommand).callsFake(() => ({
    RotationEnabled: true,
    VersionIdsToStages: Object.fromEntries([...versions].map(([k, v]) => [k, [...v.stages]])),
  }));
  sm.on(GetSecretValueCommand).callsFake((input: { VersionId?: string; VersionStage?: string }) => {
    const hit = [...versions].find(([k, v]) => (!input.VersionId || k === input.VersionId) && (!input.VersionStage || v.stages.includes(input.VersionStage)));
    if (!hit) throw notFound();
    return { SecretString: hit[1].value, VersionId: hit[0] };
  });
  sm.on(GetRandomPasswordCommand).resolves({ RandomPassword: NEW_PASSWORD });
  sm.on(PutSecretValueCommand).callsFake((input: { ClientRequestToken: string; SecretString: string; VersionStages: string[] }) => {
    versions.set(input.ClientRequestToken, { value: input.SecretString, stages: input.VersionStages });
    return {};
  });
  sm.on(UpdateSecretVersionStageCommand).callsFake((input: { MoveToVersionId: string; RemoveFromVersionId?: string }) => {
    for (const [k, v] of versions) {
      if (k === input.RemoveFromVersionId) v.stages = ['AWSPREVIOUS'];
      else if (k === input.MoveToVersionId) v.stages = ['AWSCURRENT'];
      else v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
    }
    return {};
  });
}

const connect = async (s: DbSecret): Promise<Client> => {
  const c = new Client({ host: '127.0.0.1', port: s.port, database: s.dbname, user: s.username, password: s.password });
  await c.connect();
  return c;
};

beforeAll(async () => {
  pg = await startPostgres(['-c', 'log_statement=all']);
  await setupCluster(pg);
  await createDatabase(pg, 'rdb');
  await applyBoth(pg, 'rdb', desiredFor([{ name: 'rotated', prefix: 'rt_' }]));
});
afterAll(async () => pg?.stop());

test('the four steps move the secret to a new password, set as a SCRAM verifier by the role itself', async () => {
  versions = new Map([['v1', { value: JSON.stringify({ username: 'rtapp', password: passwordOf('rtapp'), host: '127.0.0.1', port: pg.port, dbname: 'rdb', engine: 'postgres' }), stages: ['AWSCURRENT'] }]]);
  fakeSecretsManager();
  const deps = { secrets: new SecretsManagerClient({ region: 'ap-northeast-2' }), connect, excludeCharacters: '"@/\\' };
  // Secrets Manager starts rotation by staging the new token as AWSPENDING with no value yet;
  // the fake only tracks stages per stored version, so DescribeSecret must list the token.
  sm.on(DescribeSecretCommand).callsFake(() => ({
    RotationEnabled: true,
    VersionIdsToStages: { ...Object.fromEntries([...versions].map(([k, v]) => [k, [...v.stages]])), ...(versions.has('v2') ? {} : { v2: ['AWSPENDING'] }) },
  }));
  for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
    await rotate({ SecretId: ID, ClientRequestToken: 'v2', Step } as RotationEvent, deps);
  }
  expect(versions.get('v2')!.stages).toEqual(['AWSCURRENT']);
  expect(versions.get('v1')!.stages).toEqual(['AWSPREVIOUS']);
  expect(JSON.parse(versions.get('v2')!.value)).toMatchObject({ username: 'rtapp', password: NEW_PASSWORD, host: '127.0.0.1', dbname: 'rdb' });
  expect(sm.commandCalls(GetRandomPasswordCommand)[0].args[0].input).toEqual({ PasswordLength: 32, ExcludeCharacters: '"@/\\' });

  const c = await pg.connect({ user: 'rtapp', password: NEW_PASSWORD, database: 'rdb' });
  await c.end();
  await expect(pg.connect({ user: 'rtapp', password: passwordOf('rtapp'), database: 'rdb' })).rejects.toThrow(/password authentication failed/);
  const log = readServerLogs(pg);
  expect(log).toMatch(/format\('ALTER ROLE CURRENT_USER PASSWORD %2\$L'/);
  expect(log).not.toMatch(/PASSWORD 'SCRAM-SHA-256\$/);
  expect(log.includes(NEW_PASSWORD)).toBe(false);

  // Repeating a step (Secrets Manager retries) is harmless: setSecret sees the new password works.
  await rotate({ SecretId: ID, ClientRequestToken: 'v2', Step: 'setSecret' }, deps);
});

test('rotation refuses a secret without rotation enabled, or a token that is not pending', async () => {
  versions = new Map([['v1', { value: '{}', stages: ['AWSCURRENT'] }]]);
  fakeSecretsManager();
  const deps = { secrets: new SecretsManagerClient({ region: 'ap-northeast-2' }), connect, excludeCharacters: '' };
  await expect(rotate({ SecretId: ID, ClientRequestToken: 'nope', Step: 'createSecret' }, deps)).rejects.toThrow(/has no stage for rotation/);
  sm.on(DescribeSecretCommand).resolves({ RotationEnabled: false });
  await expect(rotate({ SecretId: ID, ClientRequestToken: 'v1', Step: 'createSecret' }, deps)).rejects.toThrow(/does not have rotation enabled/);
});
