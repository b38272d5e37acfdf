/** The custom resource handler: properties, secrets (mocked Secrets Manager), retries, a real PostgreSQL 16. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { MONITORING_ROLE } from '../../../lambda/role-schema/desired';
import { makeHandler, type HandlerDeps } from '../../../lambda/role-schema/handler';
import { roleNames, type ServiceInput } from '../../../lib/config/service-registry';
import { freePort, startPostgres, type TestPostgres } from '../../support/postgres';
import { APPLIER, APPLIER_PASSWORD, createDatabase, passwordOf, setupCluster } from './fixtures';

let pg: TestPostgres;
const sm = mockClient(SecretsManagerClient);
const DB = 'hdb';
const MASTER_ARN = 'arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:platform/dev/postgres/master-AbCdEf';
const arnOf = (role: string) => `arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:platform/dev/postgres/${role}-XyZ123`;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

const SERVICES: ServiceInput[] = [
  { name: 'gatherer', prefix: 'gt_' },
  { name: 'ledger', prefix: 'lg_' },
];

function loginRoles(services: readonly ServiceInput[]): string[] {
  return [...services.flatMap((s) => (s.auth === 'iam' ? [] : Object.values(roleNames(s.prefix)))), MONITORING_ROLE];
}

function properties(services: readonly ServiceInput[], over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ServiceToken: 'arn:aws:lambda:ap-northeast-2:111122223333:function:provider',
    DatabaseHost: '127.0.0.1',
    DatabasePort: String(pg.port),
    DatabaseName: DB,
    MasterSecretArn: MASTER_ARN,
    AppSchema: 'public',
    Services: JSON.stringify(services),
    LoginSecrets: JSON.stringify(Object.fromEntries(loginRoles(services).map((r) => [r, arnOf(r)]))),
    EventTrigger: 'present',
    SchemaVersion: 'v1',
    ...over,
  };
}

function event(type: 'Create' | 'Update' | 'Delete', props: Record<string, unknown>): CloudFormationCustomResourceEvent {
  const base = {
    ServiceToken: String(props.ServiceToken),
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:ap-northeast-2:111122223333:stack/dev-Data/1',
    RequestId: 'req-1',
    LogicalResourceId: 'RoleSchema',
    ResourceType: 'Custom::RoleSchema',
    ResourceProperties: props as { ServiceToken: string },
  };
  if (type === 'Create') return { ...base, RequestType: 'Create' };
  return { ...base, RequestType: type, PhysicalResourceId: `role-schema-${DB}`, OldResourceProperties: props } as CloudFormationCustomResourceEvent;
}

/** Secrets as CDK's DatabaseSecret + attachment would hold them. */
function mockSecrets(master: { username: string; password: string }, roles: readonly string[]): void {
  sm.reset();
  sm.on(GetSecretValueCommand, { SecretId: MASTER_ARN }).resolves({ SecretString: JSON.stringify({ ...master, host: '127.0.0.1', port: pg.port, dbname: DB, engine: 'postgres' }) });
  for (const r of roles) {
    sm.on(GetSecretValueCommand, { SecretId: arnOf(r) }).resolves({ SecretString: JSON.stringify({ username: r, password: passwordOf(r), host: '127.0.0.1', port: pg.port, dbname: DB }) });
  }
}

const deps = (over: Partial<HandlerDeps> = {}): HandlerDeps => ({
  secrets: new SecretsManagerClient({ region: 'ap-northeast-2' }),
  ssl: () => false,
  retry: { budgetMs: 2000, initialDelayMs: 50 },
  apply: { steps: 'main' },
  logger: silent,
  ...over,
});

beforeAll(async () => {
  pg = await startPostgres();
  await setupCluster(pg);
  await createDatabase(pg, DB);
  // The privileged step (extension, event trigger) is exercised once, with a superuser as the master stand-in.
});
afterAll(async () => pg?.stop());
beforeEach(() => mockSecrets({ username: APPLIER, password: APPLIER_PASSWORD }, loginRoles(SERVICES)));

test('Create applies the registry as the (non-superuser) master user; the login secrets work', async () => {
  const res = await makeHandler(deps())(event('Create', properties(SERVICES)));
  expect(res.PhysicalResourceId).toBe(`role-schema-${DB}`);
  expect(Number(res.Data?.Executed)).toBeGreaterThan(0);
  expect(JSON.parse(String(res.Data?.Summary))).toMatchObject({ role: expect.any(Number), password: expect.any(Number) });
  const c = await pg.connect({ user: 'lgapp', password: passwordOf('lgapp'), database: DB });
  await c.end();
});

test('Update with unchanged properties changes nothing', async () => {
  const res = await makeHandler(deps())(event('Update', properties(SERVICES, { SchemaVersion: 'v2' })));
  expect(res).toEqual({ PhysicalResourceId: `role-schema-${DB}`, Data: { Executed: 0, Changed: 'false', Summary: '{}' } });
});

test('Update re-plans: a removed service is locked out, its tables stay', async () => {
  const own = await pg.connect({ user: 'lgown', password: passwordOf('lgown'), database: DB });
  await own.query("CREATE TABLE lg_entries (v text); INSERT INTO lg_entries VALUES ('kept')");
  await own.end();
  mockSecrets({ username: APPLIER, password: APPLIER_PASSWORD }, loginRoles(SERVICES.slice(0, 1)));
  const res = await makeHandler(deps())(event('Update', properties(SERVICES.slice(0, 1))));
  expect(Number(res.Data?.Executed)).toBeGreaterThan(0);
  await expect(pg.connect({ user: 'lgapp', password: passwordOf('lgapp'), database: DB })).rejects.toThrow(/not permitted to log in/);
  expect((await pg.query('SELECT v FROM lg_entries', [], DB)).rows).toEqual([{ v: 'kept' }]);
});

test('Delete leaves the database alone and reads no secret', async () => {
  const before = (await pg.query("SELECT count(*) AS n FROM pg_roles WHERE rolname LIKE 'gt%'")).rows[0].n;
  const res = await makeHandler(deps())(event('Delete', properties(SERVICES, { DatabasePort: '1' })));
  expect(res).toEqual({ PhysicalResourceId: `role-schema-${DB}` });
  expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  expect((await pg.query("SELECT count(*) AS n FROM pg_roles WHERE rolname LIKE 'gt%'")).rows[0].n).toBe(before);
});

test.each([
  ['a bad prefix', [{ name: 'gatherer', prefix: 'GT' }], /Services\[0\]\.prefix: prefix must be 2–8 lower-case letters/],
  ['a duplicate prefix', [{ name: 'a', prefix: 'gt_' }, { name: 'b', prefix: 'gt_' }], /Services\[1\]\.prefix: duplicate prefix "gt_"/],
  ['an unknown field', [{ name: 'gatherer', prefix: 'gt_', owner: 'x' }], /Services\[0\]/],
  ['an empty registry', [], /at least one service/],
])('a bad registry entry (%s) is rejected before any secret or database access', async (_name, services, message) => {
  await expect(makeHandler(deps())(event('Create', properties(services as ServiceInput[])))).rejects.toThrow(message);
  expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
});

test.each([
  ['a non-JSON registry', { Services: '[{' }, /property Services is not valid JSON/],
  ['a bad port', { DatabasePort: 'abc' }, /DatabasePort must be a TCP port/],
  ['a bad schema', { AppSchema: 'App-Schema' }, /Invalid application schema "App-Schema"/],
  ['a bad event-trigger mode', { EventTrigger: 'maybe' }, /EventTrigger must be "present" or "absent"/],
])('%s fails with a clear reason', async (_n, over, message) => {
  await expect(makeHandler(deps())(event('Create', properties(SERVICES, over)))).rejects.toThrow(message);
});

test('a missing login secret is named', async () => {
  const props = properties(SERVICES);
  const logins = JSON.parse(String(props.LoginSecrets));
  delete logins.gtuser;
  await expect(makeHandler(deps())(event('Create', { ...props, LoginSecrets: JSON.stringify(logins) }))).rejects.toThrow(/no login secret for gtuser/);
});

test('a secret that cannot be read is named, without its content', async () => {
  sm.on(GetSecretValueCommand, { SecretId: arnOf('gtapp') }).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
  await expect(makeHandler(deps())(event('Create', properties(SERVICES)))).rejects.toThrow(/cannot read secret .*gtapp-XyZ123: AccessDeniedException/);
});

test('a secret for the wrong user is refused', async () => {
  sm.on(GetSecretValueCommand, { SecretId: arnOf('gtapp') }).resolves({ SecretString: JSON.stringify({ username: 'gtuser', password: 'x' }) });
  await expect(makeHandler(deps())(event('Create', properties(SERVICES)))).rejects.toThrow(/is for user "gtuser", expected "gtapp"/);
});

test('an unreachable database is retried within a bounded budget, then fails with the reason', async () => {
  const port = await freePort();
  const retries: number[] = [];
  const started = Date.now();
  const err = await makeHandler(deps({ retry: { budgetMs: 600, initialDelayMs: 50, maxDelayMs: 200 }, logger: { ...silent, warn: () => void retries.push(1) } }))(
    event('Create', properties(SERVICES, { DatabasePort: String(port) })),
  ).catch((e: Error) => e);
  expect((err as Error).message).toMatch(new RegExp(`Role schema not applied to database "${DB}" at 127.0.0.1:${port}: PostgreSQL at 127.0.0.1:${port}/${DB} as ${APPLIER} was not reachable after \\d+ attempt\\(s\\).*ECONNREFUSED.*security group`));
  expect(retries.length).toBeGreaterThan(1);
  expect(Date.now() - started).toBeLessThan(10_000);
});

test('a wrong master password fails at once, without retries', async () => {
  mockSecrets({ username: APPLIER, password: 'wrong' }, loginRoles(SERVICES));
  const retries: number[] = [];
  await expect(makeHandler(deps({ logger: { ...silent, warn: () => void retries.push(1) } }))(event('Create', properties(SERVICES)))).rejects.toThrow(
    /cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/hdb as applier: password authentication failed/,
  );
  expect(retries).toEqual([]);
});

test('with a privileged master (superuser here, rds_superuser on RDS) all steps run: extension and event trigger', async () => {
  mockSecrets({ username: pg.user, password: pg.password }, loginRoles(SERVICES));
  const res = await makeHandler(deps({ apply: undefined }))(event('Update', properties(SERVICES)));
  expect(JSON.parse(String(res.Data?.Summary))).toMatchObject({ 'event-trigger': 2, extension: 2 });
  const own = await pg.connect({ user: 'gtown', password: passwordOf('gtown'), database: DB });
  try {
    await expect(own.query('CREATE TABLE unprefixed (id int)')).rejects.toThrow(/prefix "gt_"/);
  } finally {
    await own.end();
  }
});

/**
 * First-deploy race (issue 11): the master secret's first rotation may run while the custom
 * resource applies. AWS's single-user rotation sets the new password in the database at setSecret
 * and labels it AWSCURRENT only at finishSecret
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html#rotate-secrets_lambda-functions-code),
 * so the password read at the start can be refused by PostgreSQL with 28P01 (a real refusal here).
 */
describe('a master rotation that overlaps the apply', () => {
  const ROTATED = 'applier-rotated-9d2e';
  const masterValue = (password: string) => ({ SecretString: JSON.stringify({ username: APPLIER, password, host: '127.0.0.1', port: pg.port, dbname: DB, engine: 'postgres' }) });
  beforeEach(async () => pg.query(`ALTER ROLE ${APPLIER} PASSWORD '${ROTATED}'`));
  afterEach(async () => pg.query(`ALTER ROLE ${APPLIER} PASSWORD '${APPLIER_PASSWORD}'`));

  test('finished after the secret was read: the re-read AWSCURRENT password connects', async () => {
    // The first read (before the rotation) returns the old password; the re-read the new one.
    sm.on(GetSecretValueCommand, { SecretId: MASTER_ARN }).resolvesOnce(masterValue(APPLIER_PASSWORD)).resolves(masterValue(ROTATED));
    const res = await makeHandler(deps())(event('Update', properties(SERVICES)));
    expect(res.PhysicalResourceId).toBe(`role-schema-${DB}`);
    expect(sm.commandCalls(GetSecretValueCommand, { SecretId: MASTER_ARN }).length).toBe(2);
  });

  test('between setSecret and finishSecret: AWSCURRENT is still old, the AWSPENDING password connects', async () => {
    sm.on(GetSecretValueCommand, { SecretId: MASTER_ARN }).resolves(masterValue(APPLIER_PASSWORD));
    sm.on(GetSecretValueCommand, { SecretId: MASTER_ARN, VersionStage: 'AWSPENDING' }).resolves(masterValue(ROTATED));
    const res = await makeHandler(deps())(event('Update', properties(SERVICES)));
    expect(res.PhysicalResourceId).toBe(`role-schema-${DB}`);
  });

  test('no rotation explains it (no pending version, same password): the 28P01 stands, after one re-read', async () => {
    sm.on(GetSecretValueCommand, { SecretId: MASTER_ARN }).resolves(masterValue(APPLIER_PASSWORD));
    sm.on(GetSecretValueCommand, { SecretId: MASTER_ARN, VersionStage: 'AWSPENDING' }).rejects(
      Object.assign(new Error("Secrets Manager can't find the specified secret value for staging label: AWSPENDING"), { name: 'ResourceNotFoundException' }),
    );
    await expect(makeHandler(deps())(event('Update', properties(SERVICES)))).rejects.toThrow(
      /password authentication failed for user "applier" \(the master secret was re-read: no current or pending password is accepted either\)/,
    );
    expect(sm.commandCalls(GetSecretValueCommand, { SecretId: MASTER_ARN }).length).toBe(3);
  });
});
