/**
 * `npm run diff:live`: one environment, bound to its own account and region (the same `-c` keys
 * the deploy workflow passes), diffed against its deployed stacks. No AWS here: `cdk` is replaced
 * by a recorder, and the spawned case has every credential source removed.
 */
import { cdkDiffArgs, runLiveDiff, type LiveDiffDeps } from '../../../scripts/diff/live';
import { credentialFreeEnv } from '../../support/assembly';
import { spawnCli, STACK_FRAME } from '../../support/cli';

interface Run {
  code: number | string;
  out: string[];
  err: string[];
  ran: string[][];
}

async function run(argv: string[], opts: { env?: NodeJS.ProcessEnv; credentials?: () => Promise<void>; cdkExit?: number } = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const ran: string[][] = [];
  const deps: LiveDiffDeps = {
    streams: { out: (l) => out.push(l), err: (l) => err.push(l) },
    env: opts.env ?? {},
    checkCredentials: opts.credentials ?? (async () => undefined),
    run: async (args) => {
      ran.push([...args]);
      return opts.cdkExit ?? 0;
    },
  };
  try {
    return { code: await runLiveDiff(argv, deps), out, err, ran };
  } catch (e) {
    // runMain turns these into `diff:live: <message>` and exit 2 (UsageError) or 1.
    return { code: `${(e as Error).name}: ${(e as Error).message}`, out, err, ran };
  }
}

const PROD = ['--env', 'prod', '--account', '123456789012', '--region', 'ap-northeast-2', '--alert-email', 'oncall@company.co.kr'];

test("diffs '<env>/*' of that environment only, bound with the deploy workflow's context keys", async () => {
  const r = await run(PROD);
  expect(r.code).toBe(0);
  expect(r.ran).toEqual([
    ['cdk', 'diff', 'prod/*', '-c', 'environments=prod', '-c', 'prod:account=123456789012', '-c', 'prod:region=ap-northeast-2', '-c', 'prod:alertEmail=oncall@company.co.kr', '--method', 'auto'],
  ]);
  expect(r.err).toEqual(['diff:live: prod bound to 123456789012/ap-northeast-2, against its deployed stacks (auto)']);
});

test('account, region and alert address also come from PLATFORM_<ENV>_* (as bin/app.ts reads them); --method and cdk options pass through', async () => {
  const r = await run(['--env', 'staging', '--method', 'template', '--', '--no-color', '--fail'], {
    env: { PLATFORM_STAGING_ACCOUNT: '210987654321', PLATFORM_STAGING_REGION: 'us-east-1' },
  });
  expect(r.code).toBe(0);
  expect(r.ran[0]).toEqual(cdkDiffArgs({ name: 'staging', account: '210987654321', region: 'us-east-1' }, 'template', ['--no-color', '--fail']));
});

test('cdk diff failing is exit 1', async () => {
  expect((await run(PROD, { cdkExit: 1 })).code).toBe(1);
});

test.each([
  [['--env', 'qa', '--account', '123456789012', '--region', 'us-east-1'], /--env must be dev, staging or prod \(got "qa"\)/],
  [['--account', '123456789012'], /--env is required/],
  [['--env', 'dev', '--region', 'us-east-1'], /no account for dev: pass --account <12 digits> or set PLATFORM_DEV_ACCOUNT/],
  [['--env', 'dev', '--account', '123456789012'], /no region for dev: pass --region <region> or set PLATFORM_DEV_REGION/],
  [['--env', 'dev', '--account', '12345', '--region', 'us-east-1'], /account: must be a 12-digit AWS account ID \(got "12345"\)/],
  [['--env', 'dev', '--account', '123456789012', '--region', 'mars-1'], /region: must be an AWS region .*\(got "mars-1"\)/],
  // A bound prod refuses the shipped placeholder mailbox, as the deploy would.
  [['--env', 'prod', '--account', '123456789012', '--region', 'ap-northeast-2'], /alerting.alertEmail: is a placeholder/],
  [[...PROD, '--method', 'fast'], /--method must be auto, change-set or template \(got "fast"\)/],
  [[...PROD, 'extra'], /unexpected argument "extra"/],
])('%j is a usage error before any AWS call', async (argv, message) => {
  const r = await run(argv, { credentials: async () => { throw new Error('must not be asked'); } });
  expect(r.code).toMatch(/^UsageError: /);
  expect(r.code).toMatch(message);
  expect(String(r.code)).not.toContain('\n');
  expect(r.ran).toEqual([]);
});

test('without credentials: one line naming the environment, account and region, and no synth', async () => {
  const r = await run(PROD, { credentials: async () => { throw new Error('Could not load credentials from any providers'); } });
  expect(r.code).toBe(
    "UsageError: no AWS credentials to read prod's deployed stacks in 123456789012/ap-northeast-2 (Could not load credentials from any providers); set AWS_PROFILE, run `aws sso login` or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
  );
  expect(r.ran).toEqual([]);
});

test('as a process with no credentials anywhere: exit 2, one line, no stack trace (the real SDK chain, nothing leaves the machine)', async () => {
  const { env } = credentialFreeEnv();
  const r = await spawnCli('diff:live', ['--env', 'dev', '--account', '123456789012', '--region', 'ap-northeast-2'], {
    env: { ...(env as Record<string, string>), HOME: '/nonexistent', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^diff:live: no AWS credentials to read dev's deployed stacks in 123456789012\/ap-northeast-2 \(/);
  expect(r.stderr).not.toMatch(STACK_FRAME);
  expect(r.stdout).toBe('');
});

test('--help', async () => {
  const r = await run(['--help']);
  expect(r.code).toBe(0);
  expect(r.out.join('\n')).toMatch(/^Usage: npm run diff:live -- --env <name>/);
});
