/**
 * The alarm catalogue as the real app synthesizes it (shared assembly): every alarm reaches a
 * topic on ALARM and on OK, each environment gets the alarms its shape calls for, the notifier and
 * the dashboard are there.
 */
import { stacksOf, templateJson } from '../../support/assembly';

const alarmsOf = (env: string, stack: string) =>
  Object.entries(templateJson(env, stack).Resources as Record<string, any>).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm').map(([id, r]) => ({ id, ...r.Properties }));

const isSnsRef = (a: unknown) => JSON.stringify(a).includes('alerts') || JSON.stringify(a).includes('Topic') || JSON.stringify(a).includes('Fn::ImportValue');

describe.each(['dev', 'staging', 'prod'])('%s', (env) => {
  test('every alarm in every stack sends OK to a topic and ALARM to the same topic', () => {
    const stacks = stacksOf(env).map((s) => s.displayName.split('/')[1]);
    const all = stacks.flatMap((s) => alarmsOf(env, s).map((a) => ({ ...a, stack: s })));
    expect(all.length).toBeGreaterThan(10);
    for (const a of all) {
      expect({ alarm: a.AlarmName, ok: (a.OKActions ?? []).length > 0 }).toEqual({ alarm: a.AlarmName, ok: true });
      for (const ok of a.OKActions) {
        expect(isSnsRef(ok)).toBe(true);
        expect(JSON.stringify(a.AlarmActions)).toContain(JSON.stringify(ok));
      }
    }
  });
});

describe('per-environment shape', () => {
  test.each([
    // env, db alarms, replica-lag alarms, cache nodes
    ['dev', 8, 0, 1],
    // 8 on the primary; a replica adds lag, storage and CPU.
    ['staging', 11, 1, 2],
    ['prod', 11, 1, 2],
  ] as const)('%s: %d database alarms (%d replica), cache alarms for %d node(s)', (env, db, replica, nodes) => {
    const data = alarmsOf(env, 'Data');
    expect(data.filter((a) => a.Namespace === 'AWS/RDS')).toHaveLength(db);
    expect(data.filter((a) => a.MetricName === 'ReplicaLag')).toHaveLength(replica);
    expect(data.filter((a) => a.Namespace === 'AWS/ElastiCache')).toHaveLength(nodes * (nodes > 1 ? 5 : 4));
    expect(data.filter((a) => a.AlarmName.startsWith(`${env}-db-`)).length).toBe(db);
  });

  test('prod connections alarm: 0.8 × max_connections of db.m7g.large (901) = 720', () => {
    expect(alarmsOf('prod', 'Data').find((a) => a.AlarmName === 'prod-db-connections')?.Threshold).toBe(720);
    // dev runs db.t4g.small (2 GiB, max_connections 225): 0.8 × 225 = 180.
    expect(alarmsOf('dev', 'Data').find((a) => a.AlarmName === 'dev-db-connections')?.Threshold).toBe(180);
  });

  test('prod: RDS events and ElastiCache notifications reach the alert topics', () => {
    const resources = Object.values(templateJson('prod', 'Data').Resources as Record<string, any>);
    const rule = resources.find((r) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern?.source?.[0] === 'aws.rds');
    expect(rule.Properties.EventPattern.detail.EventCategories).toEqual(expect.arrayContaining(['failover', 'failure', 'low storage', 'maintenance', 'notification']));
    expect(JSON.stringify(rule.Properties.Targets[0].Arn)).toContain('Critical');
    const rg = resources.find((r) => r.Type === 'AWS::ElastiCache::ReplicationGroup');
    expect(JSON.stringify(rg.Properties.NotificationTopicArn)).toContain('CacheEventsTopic');
  });

  test('prod Alerting: the notifier consumes three queues with partial batch failures, logs kept a year', () => {
    const resources = Object.values(templateJson('prod', 'Alerting').Resources as Record<string, any>);
    const mappings = resources.filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(3);
    for (const m of mappings) expect(m.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.WEBHOOK_SECRETS);
    expect(JSON.parse(fn.Properties.Environment.Variables.WEBHOOK_SECRETS)).toEqual({ critical: 'platform/prod/slack/critical', warning: 'platform/prod/slack/warning', info: 'platform/prod/slack/info' });
    expect(fn.Properties.Environment.Variables.CRITICAL_MENTION).toBe('here');
    expect(resources.filter((r) => r.Type === 'AWS::Logs::LogGroup').map((r) => r.Properties.RetentionInDays)).toContain(365);
  });

  test.each(['dev', 'prod'])('%s dashboard shows the database, the cache, the workers and the notifier', (env) => {
    const resources = Object.values(templateJson(env, 'Observability').Resources as Record<string, any>);
    const dash = resources.find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    expect(dash.Properties.DashboardName).toBe(`${env}-platform`);
    const body = JSON.stringify(dash.Properties.DashboardBody);
    for (const m of ['CPUUtilization', 'DatabaseConnections', 'ReadLatency', 'WriteLatency', 'DBLoad', 'EngineCPUUtilization', 'DatabaseMemoryUsagePercentage', 'Evictions', 'disk_used_percent', 'Invocations', 'Errors', 'Throttles', 'ApproximateAgeOfOldestMessage', 'ApproximateNumberOfMessagesVisible']) {
      expect(body).toContain(m);
    }
  });
});
