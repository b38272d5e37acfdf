import { CloudWatchClient, DescribeAlarmHistoryCommand } from '@aws-sdk/client-cloudwatch';
import { GetResourceMetricsCommand, PIClient } from '@aws-sdk/client-pi';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { classify } from '../../../lambda/notifier/classify';
import { enrichItems, forgetAlarmStarts, rememberAlarmStarts, waitEventShares } from '../../../lambda/notifier/enrich';
import { parseEvent } from '../../../lambda/notifier/parse';
import type { Item } from '../../../lambda/notifier/types';
import { fixture } from './support';

const rds = mockClient(RDSClient);
const pi = mockClient(PIClient);
const cw = mockClient(CloudWatchClient);
const clients = () => ({ rds: new RDSClient({ region: 'ap-northeast-2' }), pi: new PIClient({ region: 'ap-northeast-2' }), cloudwatch: new CloudWatchClient({ region: 'ap-northeast-2' }) });

function item(name: string): Item {
  const [envelope] = parseEvent(fixture(name));
  return { envelope, severity: 'critical', notification: classify(envelope) };
}

const series = (values: number[]) => values.map((Value, i) => ({ Timestamp: new Date(1_795_396_000_000 + i * 60_000), Value }));
const PI_ANSWER = {
  MetricList: [
    { Key: { Metric: 'db.load.avg' }, DataPoints: series([2, 4, 4]) },
    { Key: { Metric: 'db.load.avg', Dimensions: { 'db.wait_event.type': 'LWLock', 'db.wait_event.name': 'WALWrite' } }, DataPoints: series([1, 1.5, 1.6]) },
    { Key: { Metric: 'db.load.avg', Dimensions: { 'db.wait_event.type': 'IO', 'db.wait_event.name': 'WALSync' } }, DataPoints: series([0.5, 1, 0.7]) },
    { Key: { Metric: 'db.load.avg', Dimensions: { 'db.wait_event.type': 'CPU', 'db.wait_event.name': 'CPU' } }, DataPoints: series([0.3, 0.8, 0.9]) },
    { Key: { Metric: 'db.load.avg', Dimensions: { 'db.wait_event.type': 'Client', 'db.wait_event.name': 'ClientWrite' } }, DataPoints: series([0.1, 0.1, 0.2]) },
  ],
};

beforeEach(() => {
  rds.reset();
  pi.reset();
  cw.reset();
  forgetAlarmStarts();
});

describe('enrichItems', () => {
  test('an RDS CPU alarm gets class, status, top wait events over the alarm window, and a PI link', async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'prod-db' }).resolves({ DBInstances: [{ DBInstanceClass: 'db.m7g.large', DBInstanceStatus: 'available', EngineVersion: '16.4', DbiResourceId: 'db-ABCDEFGHIJKLMNOP', PerformanceInsightsEnabled: true }] });
    pi.on(GetResourceMetricsCommand).resolves(PI_ANSWER);
    const it = item('cloudwatch-alarm-rds-cpu.sns-lambda.json');
    const notes = await enrichItems([it], clients());
    expect(notes).toEqual([]);
    expect(it.enrichment).toMatchObject({ instanceClass: 'db.m7g.large', instanceStatus: 'available' });
    expect(it.enrichment!.waitEvents!.map((w) => `${w.name} ${Math.round(w.percent)}%`)).toEqual(['LWLock:WALWrite 41%', 'IO:WALSync 22%', 'CPU 20%']);
    expect(it.enrichment!.performanceInsightsUrl).toBe('https://ap-northeast-2.console.aws.amazon.com/rds/home?region=ap-northeast-2#performance-insights-v20206:/resourceId/db-ABCDEFGHIJKLMNOP/resourceName/prod-db');
    const input = pi.commandCalls(GetResourceMetricsCommand)[0].args[0].input;
    expect(input).toMatchObject({ ServiceType: 'RDS', Identifier: 'db-ABCDEFGHIJKLMNOP', PeriodInSeconds: 60 });
    expect(input.MetricQueries).toContainEqual(expect.objectContaining({ Metric: 'db.load.avg', GroupBy: expect.objectContaining({ Group: 'db.wait_event' }) }));
    // The window ends at the state change and spans at least the evaluation window (3 × 60 s → 5 min floor).
    expect((input.EndTime as Date).toISOString()).toBe('2026-11-23T01:15:42.761Z');
    expect((input.EndTime as Date).getTime() - (input.StartTime as Date).getTime()).toBe(300_000);
  });

  test('Performance Insights failing still leaves the instance facts', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceClass: 'db.t4g.medium', DBInstanceStatus: 'available', DbiResourceId: 'db-X' }] });
    pi.on(GetResourceMetricsCommand).rejects(new Error('AccessDeniedException: not authorized to perform pi:GetResourceMetrics'));
    const it = item('cloudwatch-alarm-rds-cpu.sns-lambda.json');
    const notes = await enrichItems([it], clients());
    expect(it.enrichment).toMatchObject({ instanceClass: 'db.t4g.medium' });
    expect(it.enrichment!.waitEvents).toBeUndefined();
    expect(notes.join()).toContain('AccessDeniedException');
  });

  test('RDS failing: nothing is added and nothing throws', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(new Error('Throttling'));
    const it = item('cloudwatch-alarm-rds-cpu.sns-lambda.json');
    const notes = await enrichItems([it], clients());
    expect(it.enrichment).toBeUndefined();
    expect(notes.join()).toContain('Throttling');
  });

  test('a hanging call is cut off by the budget', async () => {
    rds.on(DescribeDBInstancesCommand).callsFake(() => new Promise(() => {}));
    const it = item('cloudwatch-alarm-rds-cpu.sns-lambda.json');
    const started = Date.now();
    const notes = await enrichItems([it], clients(), { budgetMs: 50 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(it.enrichment).toBeUndefined();
    expect(notes.join()).toContain('stopped after 50 ms');
  });

  test('an OK transition learns when the alarm went into ALARM from the alarm history', async () => {
    cw.on(DescribeAlarmHistoryCommand).resolves({
      AlarmHistoryItems: [
        { Timestamp: new Date('2026-11-23T01:29:42.113Z'), HistorySummary: 'Alarm updated from ALARM to OK', HistoryData: JSON.stringify({ newState: { stateValue: 'OK' } }) },
        { Timestamp: new Date('2026-11-23T01:15:42.761Z'), HistorySummary: 'Alarm updated from OK to ALARM', HistoryData: JSON.stringify({ newState: { stateValue: 'ALARM' } }) },
      ],
    });
    const it = item('cloudwatch-alarm-rds-cpu-ok.sqs.json');
    await enrichItems([it], clients());
    expect(it.enrichment?.alarmSince?.toISOString()).toBe('2026-11-23T01:15:42.761Z');
    expect(cw.commandCalls(DescribeAlarmHistoryCommand)[0].args[0].input).toMatchObject({ AlarmName: 'prod-db-cpu', HistoryItemType: 'StateUpdate', ScanBy: 'TimestampDescending' });
  });

  test('an ALARM seen earlier by this container answers without asking CloudWatch', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
    rememberAlarmStarts([item('cloudwatch-alarm-rds-cpu.sns-lambda.json')]);
    const ok = item('cloudwatch-alarm-rds-cpu-ok.sqs.json');
    await enrichItems([ok], clients());
    expect(ok.enrichment?.alarmSince?.toISOString()).toBe('2026-11-23T01:15:42.761Z');
    expect(cw.commandCalls(DescribeAlarmHistoryCommand)).toHaveLength(0);
  });

  test('non-RDS alarms and EventBridge OKs (which carry the previous state time) are left alone', async () => {
    const it = item('cloudwatch-alarm-state-change.eventbridge.json');
    await enrichItems([it, item('eventbridge-ec2-state-change.json')], clients());
    expect(rds.calls()).toHaveLength(0);
    expect(cw.calls()).toHaveLength(0);
  });

  test('wait-event shares without a total use the sum of the parts', () => {
    expect(waitEventShares([{ Key: { Dimensions: { 'db.wait_event.type': 'IO', 'db.wait_event.name': 'DataFileRead' } }, DataPoints: [{ Value: 3 }] }, { Key: { Dimensions: { 'db.wait_event.type': 'CPU', 'db.wait_event.name': 'CPU' } }, DataPoints: [{ Value: 1 }] }], 3)).toEqual([
      { name: 'IO:DataFileRead', percent: 75 },
      { name: 'CPU', percent: 25 },
    ]);
    expect(waitEventShares(undefined, 3)).toEqual([]);
  });
});
