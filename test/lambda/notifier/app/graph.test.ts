/**
 * The graph widget, checked against CloudWatch's metric widget structure
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Metric-Widget-Structure.html)
 * for AWS-shaped alarm messages (test/fixtures/events). GetMetricWidgetImage itself is faked
 * (aws-sdk-client-mock): no CloudWatch endpoint is reachable here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CloudWatchClient, GetMetricWidgetImageCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { alarmWidget, renderAlarmGraph } from '../../../../lambda/notifier/app/graph';
import { classify } from '../../../../lambda/notifier/classify';
import { parseEvent } from '../../../../lambda/notifier/parse';
import type { AlarmTransition } from '../../../../lambda/notifier/types';

const alarmFrom = (file: string): AlarmTransition => {
  const [env] = parseEvent(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'fixtures', 'events', file), 'utf8')));
  const n = classify(env);
  if (n.kind !== 'alarm') throw new Error(`${file} is not an alarm`);
  return n.alarm;
};

test('a metric alarm: its metric with the widget spelling of the statistic, threshold and transition annotations, the last 3 hours', () => {
  const w = alarmWidget(alarmFrom('cloudwatch-alarm-rds-cpu.sns-lambda.json'))!;
  expect(w.metrics).toEqual([['AWS/RDS', 'CPUUtilization', 'DBInstanceIdentifier', 'prod-db', { stat: 'Average', period: 60 }]]);
  expect(w.start).toBe('-PT3H');
  expect(w.annotations).toEqual({
    horizontal: [expect.objectContaining({ value: 80 })],
    vertical: [expect.objectContaining({ value: '2026-11-23T01:15:42.761Z', label: 'ALARM 01:15 UTC' })],
  });
});

test('a metric-math alarm: the expression and its inputs, inputs hidden', () => {
  const w = alarmWidget(alarmFrom('cloudwatch-alarm-metric-math.sns-envelope.json'))!;
  expect(w.metrics).toEqual([
    [{ expression: '100 * m1 / 853', id: 'e1', label: 'Connections (% of max_connections)' }],
    ['AWS/RDS', 'DatabaseConnections', 'DBInstanceIdentifier', 'prod-db', { id: 'm1', visible: false, stat: 'Maximum', period: 60 }],
  ]);
});

test('composite and anomaly alarms get no graph', () => {
  expect(alarmWidget(alarmFrom('cloudwatch-alarm-composite.sqs.json'))).toBeUndefined();
  expect(alarmWidget(alarmFrom('cloudwatch-alarm-anomaly-band.sns-envelope.json'))).toBeUndefined();
});

test('the image is returned when CloudWatch answers within the budget', async () => {
  const cw = mockClient(CloudWatchClient);
  const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47]);
  cw.on(GetMetricWidgetImageCommand).resolves({ MetricWidgetImage: png });
  const out = await renderAlarmGraph(new CloudWatchClient({}), alarmFrom('cloudwatch-alarm-rds-cpu.sns-lambda.json'), { budgetMs: 2000 });
  expect(out).toEqual(png);
  expect(JSON.parse(cw.commandCalls(GetMetricWidgetImageCommand)[0].args[0].input.MetricWidget!).title).toBe('prod-db-cpu');
  cw.restore();
});

test('no image in time, or an error: undefined, and the reason is reported', async () => {
  const cw = mockClient(CloudWatchClient);
  const reasons: string[] = [];
  cw.on(GetMetricWidgetImageCommand).callsFake(() => new Promise((r) => setTimeout(() => r({ MetricWidgetImage: new Uint8Array(1) }), 500).unref()));
  expect(await renderAlarmGraph(new CloudWatchClient({}), alarmFrom('cloudwatch-alarm-rds-cpu.sns-lambda.json'), { budgetMs: 20, onSkip: (r) => reasons.push(r) })).toBeUndefined();
  cw.on(GetMetricWidgetImageCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
  expect(await renderAlarmGraph(new CloudWatchClient({}), alarmFrom('cloudwatch-alarm-rds-cpu.sns-lambda.json'), { budgetMs: 2000, onSkip: (r) => reasons.push(r) })).toBeUndefined();
  expect(reasons).toEqual(['no image within 20 ms', 'GetMetricWidgetImage failed: AccessDenied']);
  cw.restore();
});
