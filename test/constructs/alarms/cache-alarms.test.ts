import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Template } from 'aws-cdk-lib/assertions';
import { CacheAlarms } from '../../../lib/constructs/alarms';
import { PROD, fixtureStack, refOf } from './support';

function build(replicas: number, extra: Partial<ConstructorParameters<typeof CacheAlarms>[2]> = {}) {
  const f = fixtureStack();
  const rg = new elasticache.CfnReplicationGroup(f.stack, 'Rg', { replicationGroupDescription: 'test', cacheNodeType: 'cache.t4g.micro', engine: 'redis' });
  const cacheEvents = new sns.Topic(f.stack, 'CacheEvents');
  new CacheAlarms(f.stack, 'CacheAlarms', { envName: 'prod', replicationGroup: rg, replicas, thresholds: PROD.alarms, topics: f.topics, notificationTopic: cacheEvents, ...extra });
  return { ...f, rg, cacheEvents, template: Template.fromStack(f.stack) };
}

const node = (n: string) => ({ 'Fn::Join': ['-', [{ Ref: 'Rg' }, n]] });

describe('CacheAlarms catalogue (one replica)', () => {
  const { template, stack, topics, cacheEvents } = build(1);

  test.each(['001', '002'].flatMap((n) => [
    [`prod-cache-${n}-cpu`, n, 'EngineCPUUtilization', 80, 'Average', 'warning'],
    [`prod-cache-${n}-memory`, n, 'DatabaseMemoryUsagePercentage', 80, 'Maximum', 'critical'],
    [`prod-cache-${n}-evictions`, n, 'Evictions', 1000, 'Sum', 'warning'],
    [`prod-cache-${n}-connections`, n, 'CurrConnections', 1000, 'Maximum', 'warning'],
    [`prod-cache-${n}-replication-lag`, n, 'ReplicationLag', 5, 'Maximum', 'warning'],
  ] as const))('%s on node %s: %s > %d (%s), %s topic on ALARM and OK', (alarmName, n, metricName, threshold, statistic, severity) => {
    const topic = refOf(stack, topics[severity]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: alarmName,
      Namespace: 'AWS/ElastiCache',
      MetricName: metricName,
      Dimensions: [{ Name: 'CacheClusterId', Value: node(n) }],
      Threshold: threshold,
      Statistic: statistic,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [topic],
      OKActions: [topic],
    });
  });

  test('ten alarms, and the group notifies its own event topic', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 10);
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { NotificationTopicArn: refOf(stack, cacheEvents) });
  });
});

describe('CacheAlarms variations', () => {
  test('no replicas: one node, no ReplicationLag alarm', () => {
    const { template } = build(0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'ReplicationLag' }, 0);
  });

  test('thresholds from the config and props', () => {
    const f = fixtureStack();
    const rg = new elasticache.CfnReplicationGroup(f.stack, 'Rg', { replicationGroupDescription: 't', cacheNodeType: 'cache.t4g.micro', engine: 'redis' });
    new CacheAlarms(f.stack, 'C', { envName: 'dev', replicationGroup: rg, replicas: 0, thresholds: { cacheCpuPercent: 65, cacheMemoryPercent: 70, cacheConnections: 200 }, topics: f.topics, evictionsPer5Minutes: 10, notificationTopic: f.topics.critical });
    const t = Template.fromStack(f.stack);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'dev-cache-001-cpu', Threshold: 65 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'dev-cache-001-memory', Threshold: 70 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'dev-cache-001-connections', Threshold: 200 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'dev-cache-001-evictions', Threshold: 10 });
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { NotificationTopicArn: refOf(f.stack, f.topics.critical) });
  });

  test('rejects a KMS-encrypted notification topic, which ElastiCache cannot publish to', () => {
    const f = fixtureStack();
    const encrypted = new sns.Topic(f.stack, 'Encrypted', { masterKey: new kms.Key(f.stack, 'K') });
    expect(() => build(0, { notificationTopic: encrypted })).toThrow(/is KMS-encrypted; ElastiCache cannot publish to an encrypted topic/);
  });

  test.each([-1, 6, 1.5])('rejects replicas = %p', (replicas) => {
    expect(() => build(replicas)).toThrow(`replicas must be an integer from 0 to 5, got ${replicas}`);
  });
});
