import { Template, Match } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { SlackNotifier } from '../../../lib/constructs/slack-notifier';
import { fixtureStack, refOf } from './support';

const SECRETS = { critical: 'platform/prod/slack/critical', warning: 'platform/prod/slack/warning', info: 'platform/prod/slack/info' };

function build(extra: Partial<ConstructorParameters<typeof SlackNotifier>[2]> = {}) {
  const f = fixtureStack();
  const healthTopic = new sns.Topic(f.stack, 'Health');
  const notifier = new SlackNotifier(f.stack, 'Notifier', { envName: 'prod', topics: f.topics, webhookSecretNames: SECRETS, criticalMention: 'here', healthTopic, ...extra });
  return { ...f, healthTopic, notifier, template: Template.fromStack(f.stack) };
}

describe('SlackNotifier', () => {
  const { template, stack, topics, notifier, healthTopic } = build();
  const fnRef = { Ref: stack.getLogicalId(notifier.function.function.node.defaultChild as never) };

  test.each(['critical', 'warning', 'info'] as const)('the %s topic feeds its own KMS-encrypted queue (SNS envelope kept), with the dead-letter queue behind it', (s) => {
    const queueId = stack.getLogicalId(notifier.queues[s].node.defaultChild as never);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sqs', TopicArn: refOf(stack, topics[s]), Endpoint: { 'Fn::GetAtt': [queueId, 'Arn'] }, RawMessageDelivery: false });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: fnRef,
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    const q = template.toJSON().Resources[queueId].Properties;
    expect(q.KmsMasterKeyId).toBeDefined();
    expect(q.VisibilityTimeout).toBe(540);
    expect(q.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [stack.getLogicalId(notifier.deadLetterQueue.node.defaultChild as never), 'Arn'] }, maxReceiveCount: 5 });
  });

  test('the function: Node 24 on arm64, webhook secret names and severity routing in its environment, no URLs', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 90,
      Environment: { Variables: Match.objectLike({ ENVIRONMENT_NAME: 'prod', CRITICAL_MENTION: 'here', WEBHOOK_SECRETS: JSON.stringify(SECRETS) }) },
    });
    const vars = JSON.stringify(template.findResources('AWS::Lambda::Function'));
    expect(vars).not.toMatch(/hooks\.slack\.com/);
    expect(vars).toContain('SEVERITY_SOURCES');
  });

  test('reads exactly the three webhook secrets, by name', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    for (const name of Object.values(SECRETS)) expect(policies).toContain(`:secret:${name}-??????`);
    expect(policies).toContain('secretsmanager:GetSecretValue');
  });

  test('enrichment permissions are read-only', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const sids = Object.fromEntries(statements.filter((s: any) => s.Sid).map((s: any) => [s.Sid, s.Action]));
    expect(sids).toMatchObject({ EnrichRdsAlarms: 'rds:DescribeDBInstances', ReadPerformanceInsights: 'pi:GetResourceMetrics', ReadAlarmHistory: 'cloudwatch:DescribeAlarmHistory' });
  });

  test.each([
    ['prod-notifier-dead-letters', 'ApproximateNumberOfMessagesVisible', 0],
    ['prod-notifier-errors', 'Errors', 0],
    ['prod-notifier-throttles', 'Throttles', 0],
    ['prod-notifier-backlog', undefined, 600],
  ])('%s alarms to the health topic on ALARM and OK, never through the notifier', (alarmName, metricName, threshold) => {
    const topic = refOf(stack, healthTopic);
    for (const s of ['critical', 'warning', 'info'] as const) expect(JSON.stringify(template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: alarmName } }))).not.toContain(refOf(stack, topics[s]).Ref);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: alarmName, ...(metricName ? { MetricName: metricName } : {}), Threshold: threshold, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [topic], OKActions: [topic] });
  });

  test('the backlog alarm watches the oldest message of all three queues', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'prod-notifier-backlog',
      Threshold: 600,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'MAX([c, w, i])' })]),
    });
  });

  test('the queue key lets SNS encrypt only for the alert topics', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowAlertTopicsToEncryptIntoQueues', Principal: { Service: 'sns.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': [refOf(stack, topics.critical), refOf(stack, topics.warning), refOf(stack, topics.info)] } } })]) },
    });
  });
});

describe('SlackNotifier options', () => {
  test.each([
    [{ batchSize: 0 }, /batchSize must be an integer from 1 to 10000, got 0/],
    [{ maxReceiveCount: 0 }, /maxReceiveCount must be a positive integer, got 0/],
    [{ webhookSecretNames: { ...SECRETS, info: '' } }, /webhookSecretNames.info is empty/],
  ])('rejects %o', (extra, message) => {
    expect(() => build(extra as never)).toThrow(message);
  });
});
