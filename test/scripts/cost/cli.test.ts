/**
 * The cost CLI in-process on the shared synthesized assembly (test/support/assembly.ts): every
 * resource type the app creates is either priced or known to be free, and usage errors exit 2
 * naming the bad value.
 */
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, main } from '../../../scripts/cost/cli';
import { ASSEMBLY_DIR, REPO, synthResult } from '../../support/assembly';

function io() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s), cwd: REPO } };
}

beforeAll(() => synthResult());

describe('npm run cost', () => {
  test('--help prints the usage and exits 0', async () => {
    const { out, io: i } = io();
    expect(await main(['--help'], i)).toBe(EXIT_OK);
    expect(out.stdout).toMatch(/--format <f> +table \| json \| markdown/);
  });

  test.each([
    [['--env', 'qa'], /^cost: --env must be dev, staging or prod \(got "qa"\) \(see --help\)\n$/],
    [['--format', 'xml'], /^cost: --format must be table, json or markdown \(got "xml"\)/],
    [['--region', 'mars-east-1'], /^cost: --region must be ap-northeast-2 or us-east-1, the regions with a price file \(got "mars-east-1"\)/],
    [['--bogus'], /^cost: unknown option --bogus/],
    [['--format'], /^cost: --format needs a value/],
  ])('%j exits 2 with a one-line error naming the value', async (argv, msg) => {
    const { out, io: i } = io();
    expect(await main(argv, i)).toBe(EXIT_USAGE);
    expect(out.stderr).toMatch(msg);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stdout).toBe('');
  });

  test('an unreadable assembly exits 1 with a one-line error', async () => {
    const { out, io: i } = io();
    expect(await main(['--assembly', '/nonexistent/cdk.out'], i)).toBe(EXIT_FAILED);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('every resource of every environment is priced or known to be free', async () => {
    const { out, io: i } = io();
    expect(await main(['--assembly', ASSEMBLY_DIR, '--format', 'json'], i)).toBe(EXIT_OK);
    const { environments } = JSON.parse(out.stdout);
    expect(environments.map((e: { environment: string }) => e.environment)).toEqual(['dev', 'staging', 'prod']);
    for (const e of environments) {
      expect(e.notPriced).toEqual([]);
      expect(e.totalUsd).toBeGreaterThan(0);
      expect(e.priceFile).toEqual({ region: 'ap-northeast-2', readOn: '2026-12-06' });
    }
    // Prod is Multi-AZ with a replica and three NAT gateways: it must cost more than dev.
    expect(environments[2].totalUsd).toBeGreaterThan(environments[0].totalUsd);
  });

  test('--region us-east-1 --env prod --format markdown prices prod in N. Virginia', async () => {
    const { out, io: i } = io();
    expect(await main(['--assembly', ASSEMBLY_DIR, '--env', 'prod', '--region', 'us-east-1', '--format', 'markdown'], i)).toBe(EXIT_OK);
    expect(out.stdout).toMatch(/^\| Environment \| Region \| Monthly/);
    expect(out.stdout).toMatch(/\| prod \| us-east-1 \| \$[\d,]+\.\d\d \| 0 \|/);
    expect(out.stdout).toMatch(/Lambda, SQS, SNS and EventBridge together: \$\d+\.\d\d\/month/);
  });
});
