/** `npm run roles` (main() called directly) against a real PostgreSQL 16. */
import { main, passwordFromEnv } from '../../../lambda/role-schema/cli';
import { startPostgres, type TestPostgres } from '../../support/postgres';
import { APPLIER, APPLIER_PASSWORD, createDatabase, setupCluster } from './fixtures';

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
  await setupCluster(pg);
  await createDatabase(pg, 'platform');
});
afterAll(async () => pg?.stop());

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const PASSWORD = 'local-dev-Pa55word';

test('plan prints redacted statements and changes nothing; apply applies; a second apply is a no-op', async () => {
  const url = pg.url({ user: APPLIER, password: APPLIER_PASSWORD, database: 'platform' });
  const env = { ROLES_DEFAULT_PASSWORD: PASSWORD, ROLES_PASSWORD_GTAPP: 'another-Pa55word' };

  const plan = await run(['plan', '--env', 'dev', '--database-url', url, '--skip-privileged'], env);
  expect(plan).toMatchObject({ code: 0, err: '' });
  expect(plan.out).toMatch(/^CREATE ROLE "gtown" WITH LOGIN PASSWORD '<redacted SCRAM-SHA-256 verifier>';$/m);
  expect(plan.out).toMatch(/^GRANT "agown", "alown", .*"scown" TO CURRENT_USER WITH INHERIT TRUE, SET TRUE;$/m);
  expect(plan.out).toMatch(/statements would run .*; nothing was changed/);
  expect(plan.out).toMatch(/skipped 4 privileged statement\(s\) \(--skip-privileged\): extension, extension, event-trigger, event-trigger/);
  expect(plan.out).not.toContain(PASSWORD);
  expect(plan.out).not.toContain('SCRAM-SHA-256$');
  expect((await pg.query("SELECT count(*) AS n FROM pg_roles WHERE rolname = 'gtown'")).rows[0].n).toBe('0');

  const apply = await run(['apply', '--env', 'dev', '--database-url', url, '--skip-privileged'], env);
  expect(apply.code).toBe(0);
  expect(apply.out).toMatch(/^roles: applied \d+ statements to platform as applier in one transaction \(state 1, role 74, membership 2, database 2, schema 2, default-privileges 61, registry 1, password 1;/m);
  const gtapp = await pg.connect({ user: 'gtapp', password: 'another-Pa55word', database: 'platform' });
  await gtapp.end();

  const again = await run(['apply', '--env', 'dev', '--database-url', url, '--skip-privileged'], env);
  expect(again.out).toMatch(/already matches dev's registry \(12 services\); no statement executed/);
});

test('without passwords the roles are NOLOGIN, and the output says so', async () => {
  await createDatabase(pg, 'nopw');
  const r = await run(['plan', '--env', 'dev', '--database-url', pg.url({ database: 'nopw' })]);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/NOLOGIN \(no password given\): gtown, gtapp, gtuser, agown/);
});

test('an apply with no password set at all is refused before connecting (exit 2); --privileged-only is the explicit way', async () => {
  // Issue 10, scope 7: it would have turned every login role NOLOGIN. 'platform' was applied with passwords above.
  const canLogin = async () => (await pg.query("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'gtapp'")).rows[0].rolcanlogin as boolean;
  expect(await canLogin()).toBe(true);
  const url = pg.url({ database: 'platform' });
  const refused = await run(['apply', '--env', 'dev', '--database-url', url]);
  expect(refused.code).toBe(2);
  expect(refused.err).toMatch(/^roles: refusing to apply: no password is set \(ROLES_PASSWORD_<ROLE> or ROLES_DEFAULT_PASSWORD\), so all \d+ login roles would become NOLOGIN \(gtown, gtapp, gtuser, agown, …\).*--privileged-only/);
  expect(await canLogin()).toBe(true);
  // plan still shows what it would do, and --privileged-only applies the trigger and extensions alone.
  expect((await run(['plan', '--env', 'dev', '--database-url', url])).code).toBe(0);
  const priv = await run(['apply', '--env', 'dev', '--database-url', url, '--privileged-only']);
  expect(priv).toMatchObject({ code: 0, err: '' });
  expect(priv.out).toMatch(/left out \d+ statement\(s\) of the main step \(--privileged-only\)/);
  expect(await canLogin()).toBe(true);
  expect((await run(['apply', '--env', 'dev', '--database-url', url, '--privileged-only', '--skip-privileged'])).code).toBe(2);
});

test('privileged statements without the rights fail with a hint', async () => {
  await createDatabase(pg, 'privcli');
  const r = await run(['apply', '--env', 'dev', '--database-url', pg.url({ user: APPLIER, password: APPLIER_PASSWORD, database: 'privcli' })], { ROLES_DEFAULT_PASSWORD: PASSWORD });
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/^roles: apply failed: role "applier" is neither a superuser nor a member of rds_superuser.*--skip-privileged/);
});

test.each([
  [['frob'], /^roles: the command must be plan or apply \(got "frob"\)/],
  [[], /^roles: give a command: plan or apply/],
  [['plan', '--database-url', 'postgres://x'], /--env is required/],
  [['plan', '--env', 'dev'], /--database-url is required/],
  [['plan', '--env', 'dev', '--database-url', 'postgres://x', '--bogus'], /unknown option --bogus/],
  [['plan', '--env', 'qa', '--database-url', 'postgres://u:p@127.0.0.1:1/db'], /--env must be dev, staging or prod \(got "qa"\)/],
  [['plan', '--env', 'dev', '--database-url', 'localhost:5432/platform'], /--database-url must start with postgres:\/\/ or postgresql:\/\/ \(got "localhost:5432\/platform"\)/],
  [['plan', '--env', 'dev', '--database-url', 'postgres://admin:s3cret@127.0.0.1:65536/platform'], /the port in --database-url must be a port from 1 to 65535 \(got "65536"\)/],
  [['plan', '--env', 'dev', '--database-url', 'postgres://x', '--skip-event-trigger', '--drop-event-trigger'], /exclude each other/],
])('%j exits 2 with one line naming the problem, before connecting', async (argv, message) => {
  const r = await run(argv);
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).toMatch(message);
  expect(r.err.split('\n')).toHaveLength(1);
  expect(r.err).not.toContain('s3cret');
});

test('--help prints the usage and exits 0', async () => {
  const r = await run(['plan', '--help']);
  expect(r).toMatchObject({ code: 0, err: '' });
  expect(r.out).toMatch(/^usage: npm run roles -- plan\|apply/);
});

test('an unreachable database fails with the URL, password hidden', async () => {
  const r = await run(['plan', '--env', 'dev', '--database-url', 'postgres://someone:s3cret@127.0.0.1:1/platform']);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/cannot connect to postgres:\/\/someone:\*\*\*@127\.0\.0\.1:1\/platform: .*ECONNREFUSED/);
  expect(r.err).not.toContain('s3cret');
});

test('passwords come from ROLES_PASSWORD_<ROLE>, then ROLES_DEFAULT_PASSWORD', () => {
  expect(passwordFromEnv({ ROLES_PASSWORD_GTAPP: 'a', ROLES_DEFAULT_PASSWORD: 'b' }, 'gtapp')).toBe('a');
  expect(passwordFromEnv({ ROLES_DEFAULT_PASSWORD: 'b' }, 'platform_monitor')).toBe('b');
  expect(passwordFromEnv({}, 'gtapp')).toBeUndefined();
});
