/**
 * The alert path's dead man's switch, infrastructure side (lib/constructs/alert-heartbeat.ts), on
 * the shared assembly of every environment, and its contract with the notifier: what the
 * schedule's target input renders to is what the notifier answers as a heartbeat, and the metric it
 * records is the one the alarms watch.
 *
 * AWS behaviour relied on:
 * - EventBridge input transformers: a placeholder outside quotes takes the JSON value of its path
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html).
 * - Embedded metric format: the notifier's JSON log line becomes a metric with exactly the
 *   dimension set it names (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 * - Missing data treated as breaching makes a silent metric alarm
 *   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AlertHeartbeat } from '../../lib/constructs/alert-heartbeat';
import { ALERTING_METRIC, ALERTING_METRICS_NAMESPACE } from '../../lambda/notifier/heartbeat-contract';
import { heartbeatOf } from '../../lambda/notifier/heartbeat';
import { processEvent } from '../../lambda/notifier/notify';
import { parseEvent } from '../../lambda/notifier/parse';
import type { Severity } from '../../lambda/notifier/types';
import { templateJson } from '../support/assembly';

const ENVS = ['dev', 'staging', 'prod'] as const;
const SEVERITIES: Severity[] = ['critical', 'warning', 'info'];
type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

function alerting(env: string) {
  const resources = templateJson(env, 'Alerting').Resources as Resources;
  const of = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const topicId = (name: string) => of('AWS::SNS::Topic').find(([, r]) => r.Properties.TopicName === name)?.[0];
  const rules = of('AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression && JSON.stringify(r.Properties.Targets).includes('alerting-heartbeat'));
  const alarm = (name: string) => of('AWS::CloudWatch::Alarm').find(([, r]) => r.Properties.AlarmName === `${env}-alerting-${name}`)?.[1].Properties;
  const notifier = of('AWS::Lambda::Function').find(([, r]) => r.Properties.Environment?.Variables?.WEBHOOK_SECRETS)![1].Properties;
  return { topicId, rules, alarm, notifier };
}

/** What EventBridge hands the topic: the template with `<time>` replaced by the JSON value of $.time. */
const rendered = (target: any) => {
  expect(target.InputTransformer.InputPathsMap).toEqual({ time: '$.time' });
  return JSON.parse(String(target.InputTransformer.InputTemplate).replace('<time>', JSON.stringify('2026-12-06T00:05:00Z')));
};

/** The message as the severity queue delivers it to the notifier (SQS record around SNS's envelope). */
const asQueued = (message: unknown, queueArn: string) => ({
  Records: [{ messageId: 'm-1', eventSource: 'aws:sqs', eventSourceARN: queueArn, body: JSON.stringify({ Type: 'Notification', TopicArn: 'arn:aws:sns:ap-northeast-2:123456789012:t', Message: JSON.stringify(message) }) }],
});

describe.each(ENVS)('%s', (env) => {
  const a = alerting(env);

  test('every few minutes a check heartbeat goes to each severity topic', () => {
    const checks = a.rules.filter(([, r]) => r.Properties.Targets.every((t: any) => rendered(t).mode === 'check'));
    expect(checks).toHaveLength(1);
    const rule = checks[0][1].Properties;
    expect(rule.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule.State).toBe('ENABLED');
    expect(rule.Targets.map((t: any) => t.Arn)).toEqual(SEVERITIES.map((s) => ({ Ref: a.topicId(`${env}-alerts-${s}`) })));
    for (const t of rule.Targets) expect(rendered(t)).toEqual({ kind: 'alerting-heartbeat', mode: 'check', environment: env, time: '2026-12-06T00:05:00Z' });
  });

  test('at most one quiet Slack message a day: one daily post, to the info topic only', () => {
    const posts = a.rules.filter(([, r]) => r.Properties.Targets.some((t: any) => rendered(t).mode === 'post'));
    expect(posts).toHaveLength(1);
    const rule = posts[0][1].Properties;
    // cron(minute hour day-of-month month day-of-week year): one fixed minute and hour, every day.
    expect(rule.ScheduleExpression).toMatch(/^cron\(\d{1,2} \d{1,2} \* \* \? \*\)$/);
    expect(rule.Targets).toHaveLength(1);
    expect(rule.Targets[0].Arn).toEqual({ Ref: a.topicId(`${env}-alerts-info`) });
  });

  test('the notifier answers the rendered heartbeat as a check and records the metric the alarm watches', async () => {
    const check = a.rules.flatMap(([, r]) => r.Properties.Targets).find((t: any) => rendered(t).mode === 'check');
    const message = rendered(check);
    expect(heartbeatOf(parseEvent(asQueued(message, 'arn:q'))[0])).toMatchObject({ mode: 'check', environment: env });
    const recorded: string[] = [];
    const result = await processEvent(asQueued(message, `arn:aws:sqs:ap-northeast-2:123456789012:${env}-warning`), {
      config: { environment: env, severityBySource: { [`arn:aws:sqs:ap-northeast-2:123456789012:${env}-warning`]: 'warning' } },
      webhook: () => Promise.reject(new Error('not used')),
      poster: { post: () => Promise.reject(new Error('a check must not post')) },
      check: async () => ({ ok: true, detail: 'checked' }),
      metric: (name, severity) => recorded.push(`${name}/${severity}`),
    });
    expect(result.failedItemIds).toEqual([]);
    expect(recorded).toEqual([`${ALERTING_METRIC.checkSucceeded}/warning`]);
    // The EMF line carries Environment from the function's ENVIRONMENT_NAME.
    expect(a.notifier.Environment.Variables.ENVIRONMENT_NAME).toBe(env);
  });

  test.each([
    ['heartbeat-missing', ALERTING_METRIC.checkSucceeded, 'MIN', 'LessThanThreshold', 1, 'breaching'],
    ['slack-check-failed', ALERTING_METRIC.checkFailed, 'SUM', 'GreaterThanThreshold', 0, 'notBreaching'],
  ])('alarm %s: %s of every severity, within 15 minutes, ALARM and OK to the health topic only', (name, metric, fn, op, threshold, missing) => {
    const p = a.alarm(name)!;
    expect(p).toBeDefined();
    const health = { Ref: a.topicId(`${env}-alerting-health`) };
    expect(p.AlarmActions).toEqual([health]);
    expect(p.OKActions).toEqual([health]);
    expect(p).toMatchObject({ ComparisonOperator: op, Threshold: threshold, TreatMissingData: missing });
    const expr = p.Metrics.find((m: any) => m.Expression);
    expect(expr.Expression).toBe(`${fn}([FILL(c, 0), FILL(w, 0), FILL(i, 0)])`);
    const inputs = p.Metrics.filter((m: any) => m.MetricStat);
    expect(inputs.map((m: any) => m.MetricStat.Metric)).toEqual(
      SEVERITIES.map((s) => ({ Namespace: ALERTING_METRICS_NAMESPACE, MetricName: metric, Dimensions: [{ Name: 'Environment', Value: env }, { Name: 'Severity', Value: s }] })),
    );
    const period = inputs[0].MetricStat.Period;
    expect(period * p.EvaluationPeriods).toBeLessThanOrEqual(15 * 60);
    expect(p.AlarmDescription).toMatch(/Runbook: \S*docs\/runbooks\/alerting\.md#alerting-/);
  });
});

describe('AlertHeartbeat props', () => {
  const build = (props: Partial<ConstructorParameters<typeof AlertHeartbeat>[2]>) => {
    const stack = new Stack(new App(), 'S');
    const t = (n: string) => new sns.Topic(stack, n);
    return () => new AlertHeartbeat(stack, 'H', { envName: 'dev', topics: { critical: t('c'), warning: t('w'), info: t('i') }, healthTopic: t('h'), ...props });
  };
  test.each([
    [{ checkEvery: Duration.seconds(30) }, /checkEvery must be a whole number of minutes from 1 to 15, got 30 seconds/],
    [{ checkEvery: Duration.minutes(20) }, /checkEvery .* got 20 minutes/],
    [{ missingChecks: 1 }, /missingChecks must be an integer of at least 2 .* got 1/],
    [{ checkEvery: Duration.minutes(15), missingChecks: 5 }, /missingChecks .* got 5/],
  ])('%o is refused, naming the value', (props, re) => {
    expect(build(props)).toThrow(re);
  });
  test('the defaults build', () => {
    expect(build({})).not.toThrow();
  });
});
