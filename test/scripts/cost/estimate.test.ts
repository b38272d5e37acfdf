/**
 * The estimator on small hand-written templates, checked line by line against totals worked out
 * by hand from a round-number price file (test/scripts/cost/fixtures.ts). Billing rules followed:
 * - Multi-AZ bills both instances and both copies of storage:
 *   https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_OnDemandDBInstances.html
 * - Interface endpoints bill per endpoint per AZ hour: https://aws.amazon.com/privatelink/pricing/
 * - Snapshot storage model: docs/runbooks/workers.md ("Monthly snapshot storage …").
 */
import { byResource, estimateEnvironment } from '../../../scripts/cost/estimate';
import type { Template } from '../../../scripts/diff/assembly';
import { assumptions, testPrices } from './fixtures';

const db = (over: Record<string, unknown> = {}) => ({
  Type: 'AWS::RDS::DBInstance',
  Properties: { DBInstanceClass: 'db.t4g.medium', AllocatedStorage: '20', StorageType: 'gp3', MultiAZ: false, BackupRetentionPeriod: 1, EnablePerformanceInsights: true, PerformanceInsightsRetentionPeriod: 7, ...over },
});

function small(dbOver: Record<string, unknown> = {}): Array<{ stackId: string; template: Template }> {
  return [
    {
      stackId: 'Data',
      template: {
        Resources: {
          Db: db(dbOver),
          Key: { Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true } },
          Secret: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
          Role: { Type: 'AWS::IAM::Role', Properties: {} },
          Mystery: { Type: 'AWS::AppRunner::Service', Properties: {} },
        },
      },
    },
    {
      stackId: 'Network',
      template: { Resources: { Nat: { Type: 'AWS::EC2::NatGateway', Properties: {} }, Eip: { Type: 'AWS::EC2::EIP', Properties: {} } } },
    },
  ];
}

const run = (stacks = small(), over = {}, priceOver = {}) =>
  estimateEnvironment({ environment: 'test', stacks, prices: testPrices(priceOver), assumptions: assumptions({ customMetrics: 10, natProcessedGiB: 20, ...over }) });

const cents = (n: number) => Math.round(n * 100) / 100;

describe('estimateEnvironment on a known small template', () => {
  test('gives the known total, line by line', () => {
    const e = run();
    const got = e.lines.map((l) => [l.stack, l.logicalId, l.priceKey, cents(l.quantity), cents(l.monthlyUsd)]);
    expect(got).toEqual([
      ['Data', 'Db', 'rds.instance.db.t4g.medium', 730, 73], // 730 h × $0.10
      ['Data', 'Db', 'rds.storage.gp3', 20, 2], // 20 GiB × $0.10
      ['Data', 'Db', 'rds.backup', 0, 0], // 10 GiB of backups < 20 GiB free allowance
      ['Data', 'Key', 'kms.key', 1, 1],
      ['Data', 'Secret', 'secretsManager.secret', 1, 0.4],
      ['Network', 'Nat', 'vpc.natGateway.hour', 730, 36.5], // 730 h × $0.05
      ['Network', 'Nat', 'vpc.natGateway.gb', 20, 1], // 20 GiB (assumption) × $0.05
      ['Network', 'Eip', 'vpc.publicIpv4.hour', 730, 3.65], // 730 h × $0.005
      ['(environment)', 'CustomMetrics', 'cloudwatch.metric', 10, 3], // 10 metrics × $0.30
    ]);
    expect(cents(e.totalUsd)).toBe(120.55);
    expect(e.lines.filter((l) => l.assumption).map((l) => l.priceKey)).toEqual(['rds.backup', 'vpc.natGateway.gb', 'cloudwatch.metric']);
    expect(e.lines.find((l) => l.priceKey === 'vpc.natGateway.gb')!.assumption).toMatch(/cost\.assumptions\.natProcessedGiB/);
  });

  test('an unknown resource type is listed as not priced, and never counted as zero', () => {
    const e = run();
    expect(e.notPriced).toEqual([{ stack: 'Data', logicalId: 'Mystery', resourceType: 'AWS::AppRunner::Service', reason: 'no pricer for resource type AWS::AppRunner::Service' }]);
    expect(e.lines.some((l) => l.logicalId === 'Mystery')).toBe(false);
    expect(e.noCharge).toEqual([{ resourceType: 'AWS::IAM::Role', count: 1, reason: 'IAM is free' }]);
  });

  test('a class with no price in the file is "not priced" (naming the key), and the rest still counts', () => {
    const e = run(small({ DBInstanceClass: 'db.x9.huge' }));
    expect(e.notPriced).toContainEqual(expect.objectContaining({ logicalId: 'Db', reason: expect.stringContaining('"rds.instance.db.x9.huge"') }));
    expect(cents(e.totalUsd)).toBe(cents(120.55 - 73 - 2)); // the instance failed, so the whole resource is listed as not priced
  });

  test.each([
    ['Single-AZ', false, 73, 2],
    ['Multi-AZ doubles instance hours and storage', true, 146, 4],
  ])('%s', (_n, multiAz, instance, storage) => {
    const e = run(small({ MultiAZ: multiAz }));
    expect(cents(e.lines.find((l) => l.priceKey === 'rds.instance.db.t4g.medium')!.monthlyUsd)).toBe(instance);
    expect(cents(e.lines.find((l) => l.priceKey === 'rds.storage.gp3')!.monthlyUsd)).toBe(storage);
  });

  test.each([
    [7, []],
    [31, [['rds.performanceInsights.firstMonth', 2]]],
    [93, [['rds.performanceInsights.firstMonth', 2], ['rds.performanceInsights.additionalMonth', 4]]],
  ])('Performance Insights retention of %i days bills %j vCPU-months beyond the free 7 days', (days, expected) => {
    const e = run(small({ PerformanceInsightsRetentionPeriod: days }));
    expect(e.lines.filter((l) => l.priceKey.startsWith('rds.performanceInsights')).map((l) => [l.priceKey, l.quantity])).toEqual(expected);
  });

  test('backup storage beyond the free allowance grows with retention and daily change', () => {
    // 20 GiB allocated, 100% used, 10% a day, 8 days: 20 × (1 + 0.1 × 7) = 34 GiB stored, 14 GiB billable.
    const e = run(small({ BackupRetentionPeriod: 8 }), { dbStorageUsedPercent: 100, dbDailyChangePercent: 10 });
    expect(cents(e.lines.find((l) => l.priceKey === 'rds.backup')!.quantity)).toBe(14);
  });

  test('byResource groups lines per resource, largest first', () => {
    expect(byResource(run()).slice(0, 2).map((g) => [g.logicalId, cents(g.monthlyUsd)])).toEqual([
      ['Db', 75],
      ['Nat', 37.5],
    ]);
  });
});

describe('worker volumes and their snapshots (docs/runbooks/workers.md model)', () => {
  test('100 GiB, 2% a day, 30-day AWS Backup horizon and 14 daily DLM snapshots: 160 GiB-month, as in docs/runbooks/workers.md', () => {
    const volume = { Type: 'AWS::EC2::Volume', Properties: { Size: 100, VolumeType: 'gp3', Iops: 3000, Throughput: 125, Tags: [{ Key: 'platform:snapshot-policy', Value: 'p' }] } };
    const dlm = {
      Type: 'AWS::DLM::LifecyclePolicy',
      Properties: {
        PolicyDetails: {
          TargetTags: [{ Key: 'platform:snapshot-policy', Value: 'p' }],
          Schedules: [
            { CreateRule: { Interval: 1, IntervalUnit: 'HOURS' }, RetainRule: { Count: 24 } },
            { CreateRule: { Interval: 24, IntervalUnit: 'HOURS' }, RetainRule: { Count: 14 } },
          ],
        },
      },
    };
    const plan = { Type: 'AWS::Backup::BackupPlan', Properties: { BackupPlan: { BackupPlanRule: [{ Lifecycle: { DeleteAfterDays: 30 } }] } } };
    const selection = { Type: 'AWS::Backup::BackupSelection', Properties: { BackupPlanId: { 'Fn::GetAtt': ['Plan', 'BackupPlanId'] }, BackupSelection: { Resources: [{ 'Fn::Join': ['', ['arn:…:volume/', { Ref: 'Vol' }]] }] } } };
    const e = estimateEnvironment({
      environment: 't',
      stacks: [{ stackId: 'Data', template: { Resources: { Vol: volume, Dlm: dlm, Plan: plan, Sel: selection } } }],
      prices: testPrices({ 'ebs.snapshot': 0.05 }),
      assumptions: assumptions({ customMetrics: 0 }),
    });
    const snap = e.lines.find((l) => l.priceKey === 'ebs.snapshot')!;
    expect(snap.quantity).toBeCloseTo(160, 6);
    expect(snap.monthlyUsd).toBeCloseTo(8, 6); // docs/runbooks/workers.md: $8.00 per worker
    expect(snap.item).toMatch(/DLM \+ AWS Backup, 30-day horizon/);
  });
});
