/**
 * `npm run diff:live -- --env prod [--account 123456789012] [--region ap-northeast-2]`
 *
 * What a deploy of one environment would change, against what is deployed: `cdk diff '<env>/*'`
 * with the app synthesized for that environment bound to its own account and region, exactly as
 * `deploy-environment.yml` deploys it (`-c environments=<env> -c <env>:account=… -c <env>:region=…`).
 *
 * Why not a plain `npx cdk diff`: every stack sits inside a Stage, so with no argument it reports
 * "0 stacks with differences". And why bound: an environment-agnostic synth resolves availability
 * zones, account and region to tokens, so against the deployed (bound) stacks the interface
 * endpoints, the worker instances and the prod replica would all show as replaced when nothing
 * changed (test/app/environment-bound.test.ts shows both).
 *
 * Needs AWS credentials that can read the environment's stacks (any profile, SSO or the PR
 * workflow's `github-diff` role); without them it stops before synthesizing, with one line.
 * Exit codes: 0 the diff ran (differences or not), 1 `cdk diff` failed, 2 bad usage, config or
 * no credentials.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { ConfigError, ENVIRONMENTS, loadEnvironment } from '../../lib/config';
import { EXIT, listOr, oneLine, parseCommandLine, processStreams, runMain, UsageError, wantsHelp, type CliStreams } from '../cli-kit';

const REPO = path.resolve(__dirname, '..', '..');
const METHODS = ['auto', 'change-set', 'template'] as const;
type Method = (typeof METHODS)[number];

export const USAGE = `Usage: npm run diff:live -- --env <name> [options] [-- <cdk diff options>]

Diffs one environment, synthesized bound to its own account and region, against its deployed
stacks ('<env>/*'). Needs AWS credentials that can read those stacks.

Options:
  --env <name>              the environment: ${listOr(Object.keys(ENVIRONMENTS))} (required)
  --account <id>            its AWS account (default: PLATFORM_<ENV>_ACCOUNT, else the config)
  --region <region>         its region (default: PLATFORM_<ENV>_REGION, else the config)
  --alert-email <address>   who hears alert-path failures; a bound prod refuses the placeholder
                            (default: PLATFORM_<ENV>_ALERT_EMAIL, else the config)
  --method <m>              auto (a change set, template if it cannot create one), change-set or
                            template (only reads the deployed templates: the lookup role is enough).
                            Default auto.
  -h, --help                this text

Anything after a second -- goes to cdk diff (e.g. -- --no-color --fail).
Exit codes: 0 the diff ran; 1 cdk diff failed; 2 bad usage or config, or no AWS credentials.`;

/** What the command runs and asks; tests replace these. */
export interface LiveDiffDeps {
  readonly streams: CliStreams;
  readonly env: NodeJS.ProcessEnv;
  /** Resolves AWS credentials for the region, or throws why not. */
  readonly checkCredentials: (region: string) => Promise<void>;
  /** Runs `npx <args>` in the repository, output to the terminal; resolves its exit code. */
  readonly run: (args: readonly string[]) => Promise<number>;
}

/** One environment, bound: what `cdk diff` is given. */
export interface BoundEnvironment {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly alertEmail?: string;
}

/**
 * The `cdk diff` command line for a bound environment, with the same context keys the deploy
 * workflow passes to `cdk deploy` (bin/app.ts reads them).
 */
export function cdkDiffArgs(e: BoundEnvironment, method: Method, extra: readonly string[] = []): string[] {
  return [
    'cdk', 'diff', `${e.name}/*`,
    '-c', `environments=${e.name}`,
    '-c', `${e.name}:account=${e.account}`,
    '-c', `${e.name}:region=${e.region}`,
    ...(e.alertEmail ? ['-c', `${e.name}:alertEmail=${e.alertEmail}`] : []),
    '--method', method,
    ...extra,
  ];
}

/**
 * The environment's account, region and alert address (flag, then `PLATFORM_<ENV>_…`, then the
 * config), validated by the same schema a synth uses, so a typo is one line before any AWS call.
 */
export function resolveEnvironment(
  name: string,
  flags: { account?: string; region?: string; alertEmail?: string },
  env: NodeJS.ProcessEnv,
): BoundEnvironment {
  const raw = ENVIRONMENTS[name as keyof typeof ENVIRONMENTS];
  if (!raw) throw new UsageError(`--env must be ${listOr(Object.keys(ENVIRONMENTS))} (got ${JSON.stringify(name)})`);
  const prefix = `PLATFORM_${name.toUpperCase()}_`;
  const account = flags.account ?? env[`${prefix}ACCOUNT`] ?? (raw as { account?: string }).account;
  const region = flags.region ?? env[`${prefix}REGION`] ?? (raw as { region?: string }).region;
  const alertEmail = flags.alertEmail ?? env[`${prefix}ALERT_EMAIL`];
  if (!account) throw new UsageError(`no account for ${name}: pass --account <12 digits> or set ${prefix}ACCOUNT (a live diff must be bound to the deployed account)`);
  if (!region) throw new UsageError(`no region for ${name}: pass --region <region> or set ${prefix}REGION (a live diff must be bound to the deployed region)`);
  try {
    loadEnvironment(name, { ...raw, account, region, ...(alertEmail ? { alerting: { ...raw.alerting, alertEmail } } : {}) });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // The schema's message lists one "  - field: problem" line per issue; keep them on one line.
    const issues = e.message.split('\n').filter((l) => l.startsWith('  - ')).map((l) => l.slice(4));
    throw new UsageError(`${name} bound to ${account}/${region} is not a valid config: ${issues.join('; ') || oneLine(e)}`);
  }
  return { name, account, region, ...(alertEmail ? { alertEmail } : {}) };
}

export async function runLiveDiff(argv: readonly string[], deps: LiveDiffDeps): Promise<number> {
  if (wantsHelp(argv)) {
    deps.streams.out(USAGE);
    return EXIT.OK;
  }
  const { values, positionals } = parseCommandLine(
    argv,
    {
      env: { type: 'string' },
      account: { type: 'string' },
      region: { type: 'string' },
      'alert-email': { type: 'string' },
      method: { type: 'string' },
    },
    true,
  );
  const dashDash = argv.indexOf('--');
  const stray = positionals.slice(0, positionals.length - (dashDash === -1 ? 0 : argv.length - dashDash - 1));
  if (stray.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(stray[0])} (cdk diff options go after a second --)`);
  if (values.env === undefined) throw new UsageError(`--env is required: ${listOr(Object.keys(ENVIRONMENTS))}`);
  const method = values.method ?? 'auto';
  if (!(METHODS as readonly string[]).includes(method)) throw new UsageError(`--method must be ${listOr(METHODS)} (got ${JSON.stringify(method)})`);
  const bound = resolveEnvironment(values.env, { account: values.account, region: values.region, alertEmail: values['alert-email'] }, deps.env);
  try {
    await deps.checkCredentials(bound.region);
  } catch (e) {
    throw new UsageError(
      `no AWS credentials to read ${bound.name}'s deployed stacks in ${bound.account}/${bound.region} (${oneLine(e)}); set AWS_PROFILE, run \`aws sso login\` or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`,
    );
  }
  deps.streams.err(`diff:live: ${bound.name} bound to ${bound.account}/${bound.region}, against its deployed stacks (${method})`);
  const code = await deps.run(cdkDiffArgs(bound, method as Method, dashDash === -1 ? [] : argv.slice(dashDash + 1)));
  return code === 0 ? EXIT.OK : EXIT.FAILED;
}

/** The SDK's default credential chain (env, profile, SSO, process, container, instance metadata). */
async function sdkCredentials(region: string): Promise<void> {
  const { CloudWatchClient } = await import('@aws-sdk/client-cloudwatch');
  const client = new CloudWatchClient({ region });
  try {
    await client.config.credentials();
  } finally {
    client.destroy();
  }
}

function runNpx(args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('npx', [...args], { cwd: REPO, stdio: 'inherit' });
    child.on('error', () => resolve(EXIT.FAILED));
    child.on('close', (code) => resolve(code ?? EXIT.FAILED));
  });
}

if (require.main === module) {
  runMain('diff:live', (s) => s, () => runLiveDiff(process.argv.slice(2), { streams: processStreams, env: process.env, checkCredentials: sdkCredentials, run: runNpx }));
}
