/**
 * The cache-health construct as the app deploys it (the shared assembly's Observability stacks),
 * plus its synth-time validation on a fresh stack.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { deriveCacheUsers, ENVIRONMENTS, loadEnvironment, registeredNamespaces } from '../../lib/config';
import { Cache } from '../../lib/constructs/cache';
import { CacheHealth, type CacheHealthProps } from '../../lib/constructs/cache-health';
import { METRICS_NAMESPACE, PATTERN_METRIC } from '../../lambda/cache-health/contract';
import { template, templateJson } from '../support/assembly';

const ENVS = ['dev', 'staging', 'prod'] as const;
const configOf = (env: (typeof ENVS)[number]) => loadEnvironment(env, ENVIRONMENTS[env]);
const resources = (env: string, type: string) => Object.entries<any>(templateJson(env, 'Observability').Resources).filter(([, r]) => r.Type === type);
const probeFunction = (env: string) => resources(env, 'AWS::Lambda::Function').find(([id]) => id.startsWith('CacheHealthProbe'))!;

describe.each(ENVS)('%s', (env) => {
  const c = configOf(env);

  test('the function: Node.js 24, in the VPC with its own security group, the monitor user, the registry, no secret', () => {
    const [, fn] = probeFunction(env);
    expect(fn.Properties.Runtime).toBe('nodejs24.x');
    expect(fn.Properties.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^CacheHealthSecurityGroup/), 'GroupId'] }]);
    const vars = fn.Properties.Environment.Variables;
    expect(vars).toMatchObject({
      ENVIRONMENT_NAME: env,
      METRICS_NAMESPACE,
      CACHE_USER_ID: `${env}-cache-monitor`,
      KEY_PATTERNS: registeredNamespaces(c.cache.services, c.cache.mustExpire, c.roles.services).join(','),
      MUST_EXPIRE: c.cache.mustExpire.join(','),
      SCAN_MAX_KEYS: String(c.cacheHealth.scanMaxKeys),
      SCAN_COUNT: String(c.cacheHealth.scanCount),
    });
    expect(JSON.stringify(vars)).toMatch(/PrimaryEndPointAddress/);
    expect(Object.keys(vars).join(' ')).not.toMatch(/SECRET|PASSWORD|TOKEN/);
  });

  test('may connect as the monitor user only (elasticache:Connect on the group and that user), publish to info only', () => {
    const policy = resources(env, 'AWS::IAM::Policy').find(([id]) => id.startsWith('CacheHealthProbe'))![1];
    const statements = policy.Properties.PolicyDocument.Statement as any[];
    const connect = statements.filter((s) => JSON.stringify(s.Action).includes('elasticache'));
    expect(connect).toHaveLength(1);
    expect(connect[0].Action).toBe('elasticache:Connect');
    const arns = JSON.stringify(connect[0].Resource);
    expect(connect[0].Resource).toHaveLength(2);
    expect(arns).toContain(':replicationgroup:');
    expect(arns).toContain(`:user:${env}-cache-monitor"`);
    expect(arns).not.toContain('*');
    const publish = statements.find((s) => s.Action === 'sns:Publish');
    expect(JSON.stringify(publish.Resource)).toMatch(/TopicsInfo/);
  });

  test('the cache accepts the probe on its port, by security group', () => {
    const ingress = resources(env, 'AWS::EC2::SecurityGroupIngress').filter(([id]) => id.startsWith('CacheHealthSecurityGroup'));
    expect(ingress).toHaveLength(1);
    expect(ingress[0][1].Properties).toMatchObject({ IpProtocol: 'tcp', FromPort: c.cache.port, ToPort: c.cache.port, SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^CacheHealthSecurityGroup/), 'GroupId'] } });
    expect(JSON.stringify(ingress[0][1].Properties.GroupId)).toMatch(/CacheSecurityGroup/);
  });

  test('probe every cacheHealth.scheduleMinutes, digest daily at 00:05 UTC', () => {
    const t = template(env, 'Observability');
    const m = c.cacheHealth.scheduleMinutes;
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: `rate(${m} minute${m === 1 ? '' : 's'})`,
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [probeFunction(env)[0], 'Arn'] }, Input: '{"mode":"probe"}' })],
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(5 0 * * ? *)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [probeFunction(env)[0], 'Arn'] }, Input: '{"mode":"digest"}' })],
    });
  });

  test('four alarms on the contract metrics, ALARM and OK to the warning topic; a silent probe is breaching', () => {
    const alarms: Record<string, any> = Object.fromEntries(resources(env, 'AWS::CloudWatch::Alarm').filter(([id]) => id.startsWith('CacheHealth')).map(([, r]) => [r.Properties.AlarmName, r.Properties]));
    expect(Object.keys(alarms).sort()).toEqual(['keys-without-ttl', 'memory', 'probe-missing', 'unregistered-keys'].map((k) => `${env}-cache-health-${k}`));
    const a = (k: string) => alarms[`${env}-cache-health-${k}`];
    expect(a('keys-without-ttl')).toMatchObject({ MetricName: 'keys_without_ttl', Namespace: METRICS_NAMESPACE, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', Dimensions: [{ Name: 'Environment', Value: env }] });
    expect(a('unregistered-keys')).toMatchObject({ MetricName: 'keys_unregistered', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(a('memory')).toMatchObject({ MetricName: 'memory_used_ratio', Threshold: c.alarms.cacheMemoryPercent / 100, ComparisonOperator: 'GreaterThanThreshold' });
    expect(a('probe-missing')).toMatchObject({ MetricName: 'keys_total', Statistic: 'SampleCount', Threshold: 1, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching' });
    for (const p of Object.values(alarms)) {
      expect(p.AlarmActions).toEqual(p.OKActions);
      expect(JSON.stringify(p.AlarmActions)).toMatch(/TopicsWarning/);
      expect(p.AlarmDescription).toMatch(/Runbook: .*docs\/runbooks\/cache\.md#cache-health-/);
    }
  });

  test('the environment dashboard draws the probe: each namespace, the no-TTL and unregistered counts, memory with its threshold', () => {
    const [, dash] = resources(env, 'AWS::CloudWatch::Dashboard')[0];
    // The body is a Fn::Join of JSON text around tokens; the tokens sit inside strings, so a placeholder keeps it JSON.
    const body = JSON.parse((dash.Properties.DashboardBody['Fn::Join'][1] as unknown[]).map((x) => (typeof x === 'string' ? x : 'TOKEN')).join(''));
    const widgets = body.widgets as { type: string; properties: { title?: string; markdown?: string; metrics?: unknown[][]; annotations?: { horizontal: { value: number }[] } } }[];
    const series = widgets.flatMap((w) => (w.properties.metrics ?? []).filter((m) => m[0] === METRICS_NAMESPACE).map((m) => m.slice(1).filter((x) => typeof x === 'string').join(' ')));
    for (const p of registeredNamespaces(c.cache.services, c.cache.mustExpire, c.roles.services)) expect(series).toContain(`${PATTERN_METRIC} Environment ${env} KeyPattern ${p}`);
    for (const m of ['keys_without_ttl', 'keys_unregistered', 'memory_used_ratio', 'fragmentation_ratio', 'hit_rate', 'evicted_keys_per_minute', 'expired_keys_per_minute', 'connected_clients', 'blocked_clients', 'biggest_key_bytes']) {
      expect(series).toContain(`${m} Environment ${env}`);
    }
    const memory = widgets.find((w) => w.properties.title === 'cache-health: memory used / maxmemory')!;
    expect(memory.properties.annotations!.horizontal[0].value).toBe(c.alarms.cacheMemoryPercent / 100);
    // The probe's row follows the Redis row.
    const headings = widgets.filter((w) => w.type === 'text').map((w) => w.properties.markdown);
    expect(headings.indexOf(`## ${env}: cache-health (inside Redis)`)).toBe(headings.indexOf(`## ${env}: Redis`) + 1);
  });
});

describe('validation at synth', () => {
  function build(o: Partial<CacheHealthProps> = {}) {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'T', { env: { account: '123456789012', region: 'ap-northeast-2' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, { name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
    const dev = configOf('dev');
    const cache = new Cache(stack, 'Cache', { envName: 'dev', vpc, clientSecurityGroups: [], nodeType: 't4g.micro', replicas: 0, snapshotRetentionDays: 0, users: deriveCacheUsers('dev', dev.cache, dev.roles.services) });
    const topic = new sns.Topic(stack, 'Topic');
    return new CacheHealth(stack, 'H', {
      envName: 'dev', vpc, cache, monitorUserId: 'dev-cache-monitor', keyPatterns: ['sc:*', 'progress:*'], mustExpire: ['progress:*'],
      settings: dev.cacheHealth, alertTopics: { critical: topic, warning: topic, info: topic }, ...o,
    });
  }
  test.each<[string, Partial<CacheHealthProps>, RegExp]>([
    ['a user that is not the monitor', { monitorUserId: 'dev-sc-app' }, /monitorUserId "dev-sc-app" is not a monitor user of the cache \(monitor users: dev-cache-monitor\)/],
    ['a bad namespace', { keyPatterns: ['progress*'] }, /keyPatterns has an invalid namespace "progress\*"/],
    ['a bad must-expire namespace', { mustExpire: ['Progress:*'] }, /mustExpire has an invalid namespace "Progress:\*"/],
    ['a schedule over an hour', { settings: { scheduleMinutes: 90, scanMaxKeys: 10, scanCount: 10 } }, /scheduleMinutes must be an integer from 1 to 60 \(got 90\)/],
    ['a memory threshold above 100', { memoryPercent: 120 }, /memoryPercent must be in \(0, 100\] \(got 120\)/],
  ])('%s fails naming the value', (_what, props, message) => {
    expect(() => build(props)).toThrow(message);
  });
});
