import { Template } from 'aws-cdk-lib/assertions';
import { DatabaseAlarms, RDS_EVENT_CATEGORIES } from '../../../lib/constructs/alarms';
import { instanceClassSpec, rdsMaxConnections } from '../../../lib/constructs/alarms/instance-classes';
import { PROD, fixtureStack, refOf } from './support';

function build(overrides: Partial<ConstructorParameters<typeof DatabaseAlarms>[2]> = {}) {
  const f = fixtureStack();
  const alarms = new DatabaseAlarms(f.stack, 'DbAlarms', {
    envName: 'prod',
    instance: f.primary,
    instanceClass: 'm7g.large',
    allocatedStorageGiB: 100,
    replica: f.replica,
    thresholds: PROD.alarms,
    topics: f.topics,
    ...overrides,
  });
  return { ...f, alarms, template: Template.fromStack(f.stack) };
}

describe('DatabaseAlarms catalogue (db.m7g.large: 8 GiB, 2 vCPUs, 100 GiB)', () => {
  const { template, stack, topics } = build();
  const GiB = 1024 ** 3;

  test.each([
    // name, metric, comparison, threshold, statistic, severity, instance
    ['prod-db-cpu', 'CPUUtilization', 'GreaterThanThreshold', 80, 'Average', 'critical', 'prod-db'],
    ['prod-db-storage', 'FreeStorageSpace', 'LessThanThreshold', 10 * GiB, 'Minimum', 'critical', 'prod-db'],
    ['prod-db-memory', 'FreeableMemory', 'LessThanThreshold', Math.round(8 * GiB * 0.15), 'Minimum', 'critical', 'prod-db'],
    ['prod-db-connections', 'DatabaseConnections', 'GreaterThanThreshold', 720, 'Maximum', 'critical', 'prod-db'],
    ['prod-db-read-latency', 'ReadLatency', 'GreaterThanThreshold', 0.02, 'Average', 'warning', 'prod-db'],
    ['prod-db-write-latency', 'WriteLatency', 'GreaterThanThreshold', 0.02, 'Average', 'warning', 'prod-db'],
    ['prod-db-load', 'DBLoad', 'GreaterThanThreshold', 2, 'Average', 'warning', 'prod-db'],
    ['prod-db-transaction-ids', 'MaximumUsedTransactionIDs', 'GreaterThanThreshold', 1_000_000_000, 'Average', 'critical', 'prod-db'],
    ['prod-db-replica-lag', 'ReplicaLag', 'GreaterThanThreshold', 5, 'Maximum', 'warning', 'prod-db-replica'],
    ['prod-db-replica-storage', 'FreeStorageSpace', 'LessThanThreshold', 10 * GiB, 'Minimum', 'critical', 'prod-db-replica'],
    ['prod-db-replica-cpu', 'CPUUtilization', 'GreaterThanThreshold', 80, 'Average', 'warning', 'prod-db-replica'],
  ] as const)('%s: %s %s %d, to the %s topic on ALARM and OK', (alarmName, metricName, comparison, threshold, statistic, severity, instance) => {
    const topic = refOf(stack, topics[severity]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: alarmName,
      Namespace: 'AWS/RDS',
      MetricName: metricName,
      Dimensions: [{ Name: 'DBInstanceIdentifier', Value: instance }],
      ComparisonOperator: comparison,
      Threshold: threshold,
      Statistic: statistic,
      AlarmActions: [topic],
      OKActions: [topic],
    });
  });

  test('exactly the eleven alarms, each with a description naming the environment', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    expect(Object.keys(alarms)).toHaveLength(11);
    for (const a of Object.values(alarms)) expect(a.Properties.AlarmDescription).toMatch(/^prod /);
  });

  test('RDS events of both instances go to the critical topic through EventBridge, not an RDS event subscription', () => {
    template.resourceCountIs('AWS::RDS::EventSubscription', 0);
    template.resourceCountIs('AWS::Events::Rule', 1);
    const [rule] = Object.values(template.findResources('AWS::Events::Rule')) as any[];
    expect(rule.Properties.EventPattern).toMatchObject({ source: ['aws.rds'], 'detail-type': ['RDS DB Instance Event'] });
    expect(rule.Properties.EventPattern.resources).toHaveLength(2);
    expect(rule.Properties.EventPattern.detail.EventCategories).toEqual(expect.arrayContaining(['failover', 'failure', 'low storage', 'maintenance', 'notification', 'configuration change']));
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: refOf(stack, topics.critical) })]);
    expect(RDS_EVENT_CATEGORIES).toContain('configuration change');
  });
});

describe('DatabaseAlarms variations', () => {
  test('no replica: no replica alarms, and the events rule names only the primary', () => {
    const { template } = build({ replica: undefined });
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'ReplicaLag' }, 0);
    expect(Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a: any) => a.Properties.AlarmName).filter((n: string) => n.includes('replica'))).toEqual([]);
    const [rule] = Object.values(template.findResources('AWS::Events::Rule')) as any[];
    expect(rule.Properties.EventPattern.resources).toHaveLength(1);
  });

  test.each([
    ['t4g.medium', 4, 2, 450],
    ['t4g.large', 8, 2, 901],
    ['m7g.large', 8, 2, 901],
    ['r7g.xlarge', 32, 4, 3604],
    ['db.r6g.4xlarge', 128, 16, 5000],
  ])('%s: %d GiB, %d vCPUs, max_connections %d', (cls, mem, vcpus, maxConn) => {
    expect(instanceClassSpec(cls)).toEqual({ memoryGiB: mem, vcpus });
    expect(rdsMaxConnections(mem)).toBe(maxConn);
  });

  test('thresholds follow the config and the class', () => {
    const { template } = build({ instanceClass: 't4g.medium', allocatedStorageGiB: 20, thresholds: { ...PROD.alarms, dbConnectionsRatio: 0.5, dbDiskPercent: 75, dbLoadPerVcpu: 1.5 } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'DatabaseConnections', Threshold: 225 });
    // 75% would be 5 GiB free of 20, above autoscaling's 10% trigger: the storage alarm stays at 2 GiB.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'FreeStorageSpace', Threshold: 2 * 1024 ** 3 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'DBLoad', Threshold: 3 });
  });

  test('eventSubscription: false leaves the events rule out', () => {
    build({ eventSubscription: false }).template.resourceCountIs('AWS::Events::Rule', 0);
  });

  test.each([
    [{ instanceClass: 'x2g.large' }, /Unknown RDS instance class "x2g.large"/],
    [{ instanceClass: 'm7g.huge' }, /Unknown RDS instance class "m7g.huge"/],
    [{ replicaInstanceClass: 'z1d.large' }, /Unknown RDS instance class "z1d.large"/],
    [{ allocatedStorageGiB: 0 }, /allocatedStorageGiB must be positive, got 0/],
  ])('rejects %o', (overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
  });
});
