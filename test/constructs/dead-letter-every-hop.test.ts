/**
 * Nothing is dropped between AWS and the notifier (issue 16), checked on the real app (shared
 * assembly) for every environment, generically: every AWS::SNS::Subscription and every
 * AWS::Events::Rule target that any construct adds, in any stack, is covered.
 *
 * What AWS documents, and these tests encode:
 * - SNS: "Amazon SNS dead-letter queues (DLQs)"
 *   https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html — the DLQ is an SQS queue
 *   of the same account and Region; an encrypted DLQ needs a customer-managed key whose policy
 *   grants the SNS service principal the KMS actions.
 *   https://docs.aws.amazon.com/sns/latest/dg/sns-configure-dead-letter-queue.html — the queue
 *   policy allows sns.amazonaws.com `SQS:SendMessage`, conditioned on `aws:SourceArn` (the topic).
 * - EventBridge: "Using dead-letter queues to process undelivered events"
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/rule-dlq.html — a standard SQS queue;
 *   its policy allows events.amazonaws.com `sqs:SendMessage` conditioned on `aws:SourceArn` (the
 *   rule); an encrypted queue needs a customer-managed key that lets events.amazonaws.com
 *   `kms:Decrypt` and `kms:GenerateDataKey`; without a DLQ an event is dropped after the retry
 *   policy (default 24 h / 185 attempts) runs out.
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html —
 *   `aws:SourceArn` / `aws:SourceAccount` conditions on the key policy as the best practice.
 */
import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AlertPathHealth } from '../../lib/constructs/alert-path-health';
import { DeadLetterEveryHop } from '../../lib/constructs/dead-letter-every-hop';
import { referencedResource, renderArn, resourcesOfType, type ResourceRef } from '../support/template-refs';

const ENVS = ['dev', 'staging', 'prod'] as const;
const ACCOUNT = '(\\$\\{AWS::AccountId\\}|\\d{12})';
const REGION = '(\\$\\{AWS::Region\\}|[a-z]{2}-[a-z]+-\\d)';
const PARTITION = '(\\$\\{AWS::Partition\\}|aws)';
/** A source ARN pattern that cannot match another account's topic or rule. */
const THIS_ACCOUNT: Record<'sns' | 'events', RegExp> = {
  sns: new RegExp(`^arn:${PARTITION}:sns:${REGION}:${ACCOUNT}:[A-Za-z0-9_*-]+$`),
  events: new RegExp(`^arn:${PARTITION}:events:${REGION}:${ACCOUNT}:rule/[A-Za-z0-9_./*-]+$`),
};
const SERVICE = { sns: 'sns.amazonaws.com', events: 'events.amazonaws.com' } as const;

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const id = (r: ResourceRef) => `${r.stack}/${r.logicalId}`;

/** The SNS subscriptions of an environment and the queue each redrives to. */
function subscriptions(env: string) {
  return resourcesOfType(env, 'AWS::SNS::Subscription').map((s) => ({
    subscription: s,
    dlq: referencedResource(env, s.stack, s.resource.Properties.RedrivePolicy?.deadLetterTargetArn),
  }));
}

/** Every target of every rule of an environment, with its dead-letter queue. */
function ruleTargets(env: string) {
  return resourcesOfType(env, 'AWS::Events::Rule').flatMap((rule) =>
    asArray<any>(rule.resource.Properties.Targets).map((target) => ({ rule, target, dlq: referencedResource(env, rule.stack, target.DeadLetterConfig?.Arn) })),
  );
}

/** The health topic of the environment (the independent path). */
function healthTopic(env: string): ResourceRef {
  const topics = resourcesOfType(env, 'AWS::SNS::Topic').filter((t) => t.resource.Properties.TopicName === `${env}-alerting-health`);
  expect(topics).toHaveLength(1);
  return topics[0];
}

/** Alarms on a queue's visible messages, with the topics their ALARM and OK actions reach. */
function alarmsOnQueue(env: string, queue: ResourceRef) {
  return resourcesOfType(env, 'AWS::CloudWatch::Alarm')
    .filter((a) => a.stack === queue.stack)
    .filter((a) => {
      const p = a.resource.Properties;
      return p.Namespace === 'AWS/SQS' && p.MetricName === 'ApproximateNumberOfMessagesVisible' && JSON.stringify(p.Dimensions) === JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue.logicalId, 'QueueName'] } }]);
    })
    .map((a) => ({
      alarm: a,
      alarmTopics: asArray(a.resource.Properties.AlarmActions).map((t) => referencedResource(env, a.stack, t)),
      okTopics: asArray(a.resource.Properties.OKActions).map((t) => referencedResource(env, a.stack, t)),
    }));
}

function queuePolicyStatements(env: string, queue: ResourceRef): any[] {
  return resourcesOfType(env, 'AWS::SQS::QueuePolicy')
    .filter((p) => p.stack === queue.stack && JSON.stringify(p.resource.Properties.Queues).includes(JSON.stringify({ Ref: queue.logicalId })))
    .flatMap((p) => p.resource.Properties.PolicyDocument.Statement);
}

function keyOf(env: string, queue: ResourceRef): ResourceRef {
  const key = referencedResource(env, queue.stack, queue.resource.Properties.KmsMasterKeyId);
  expect({ queue: id(queue), key: key?.resource.Type }).toEqual({ queue: id(queue), key: 'AWS::KMS::Key' });
  return key!;
}

/** `aws:SourceArn` of a statement, rendered; fails when the condition is missing. */
function sourceArns(statement: any): string[] {
  const c = statement.Condition ?? {};
  const arns = [...asArray(c.ArnLike?.['aws:SourceArn']), ...asArray(c.ArnEquals?.['aws:SourceArn'])].map(renderArn);
  return arns;
}

describe.each(ENVS)('%s: every hop has a dead-letter queue', (env) => {
  test('every SNS subscription redrives to an SQS queue of this environment', () => {
    const subs = subscriptions(env);
    expect(subs.length).toBeGreaterThanOrEqual(3); // the three notifier queues at least
    for (const { subscription, dlq } of subs) {
      expect({ subscription: id(subscription), dlq: dlq?.resource.Type }).toEqual({ subscription: id(subscription), dlq: 'AWS::SQS::Queue' });
      // SNS DLQs of a standard topic are standard queues.
      expect(dlq!.resource.Properties.FifoQueue ?? false).toBe(false);
    }
  });

  test('every EventBridge rule target has a dead-letter queue and an explicit retry policy', () => {
    const all = ruleTargets(env);
    expect(all.length).toBeGreaterThanOrEqual(4); // db-health schedules and the snapshot rules at least
    for (const { rule, target, dlq } of all) {
      const where = `${id(rule)} → ${target.Id}`;
      expect({ where, dlq: dlq?.resource.Type }).toEqual({ where, dlq: 'AWS::SQS::Queue' });
      expect(dlq!.resource.Properties.FifoQueue ?? false).toBe(false);
      expect({ where, retry: target.RetryPolicy }).toEqual({ where, retry: expect.objectContaining({ MaximumRetryAttempts: expect.any(Number) }) });
      const age = target.RetryPolicy.MaximumEventAgeInSeconds;
      if (age !== undefined) expect(age).toBeLessThanOrEqual(3600);
    }
  });

  test.each(['sns', 'events'] as const)('the %s dead-letter queues: encrypted, and only that service may send, only for sources in this account', (service) => {
    const dlqs = service === 'sns' ? subscriptions(env).map((s) => s.dlq!) : ruleTargets(env).map((t) => t.dlq!);
    const unique = [...new Map(dlqs.map((q) => [id(q), q])).values()];
    expect(unique.length).toBeGreaterThan(0);
    for (const queue of unique) {
      const statements = queuePolicyStatements(env, queue);
      const allows = statements.filter((s) => s.Effect === 'Allow');
      // Nobody but the service principal is allowed anything by the queue policy.
      for (const s of allows) expect({ queue: id(queue), principal: s.Principal }).toEqual({ queue: id(queue), principal: { Service: SERVICE[service] } });
      const send = allows.filter((s) => asArray(s.Action).some((a: string) => /^sqs:SendMessage$/i.test(a)));
      expect(send).toHaveLength(1);
      const arns = sourceArns(send[0]);
      expect(arns.length).toBeGreaterThan(0);
      for (const arn of arns) expect(arn).toMatch(THIS_ACCOUNT[service]);
      // HTTPS only.
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));

      // The queue is encrypted with a customer-managed key that lets the service use it, only
      // for this account's sources.
      const key = keyOf(env, queue);
      const keyStatements = key.resource.Properties.KeyPolicy.Statement.filter((s: any) => s.Effect === 'Allow' && JSON.stringify(s.Principal) === JSON.stringify({ Service: SERVICE[service] }));
      expect(keyStatements).toHaveLength(1);
      const actions = asArray<string>(keyStatements[0].Action);
      expect(actions).toContain('kms:Decrypt');
      expect(actions.some((a) => a === 'kms:GenerateDataKey' || a === 'kms:GenerateDataKey*')).toBe(true);
      const keyArns = sourceArns(keyStatements[0]);
      expect(keyArns.length).toBeGreaterThan(0);
      for (const arn of keyArns) expect(arn).toMatch(THIS_ACCOUNT[service]);
    }
  });

  test('every dead-letter queue (SNS, EventBridge and SQS redrive targets) alarms on its first message, on ALARM and OK, to the health topic', () => {
    const health = healthTopic(env);
    const sqsRedriveTargets = resourcesOfType(env, 'AWS::SQS::Queue')
      .map((q) => referencedResource(env, q.stack, q.resource.Properties.RedrivePolicy?.deadLetterTargetArn))
      .filter((q): q is ResourceRef => q !== undefined);
    const dlqs = [...subscriptions(env).map((s) => s.dlq!), ...ruleTargets(env).map((t) => t.dlq!), ...sqsRedriveTargets];
    const unique = [...new Map(dlqs.map((q) => [id(q), q])).values()];
    expect(unique.length).toBeGreaterThanOrEqual(3); // by-sns, by-eventbridge, the notifier's own
    for (const queue of unique) {
      const onHealth = alarmsOnQueue(env, queue).filter(
        (a) =>
          a.alarm.resource.Properties.Threshold === 0 &&
          a.alarm.resource.Properties.ComparisonOperator === 'GreaterThanThreshold' &&
          a.alarmTopics.some((t) => t && id(t) === id(health)) &&
          a.okTopics.some((t) => t && id(t) === id(health)),
      );
      expect({ queue: id(queue), alarmedOnHealthTopic: onHealth.length }).toEqual({ queue: id(queue), alarmedOnHealthTopic: 1 });
    }
  });

  test('the health topic is independent of the notifier: only email subscribes to it', () => {
    const health = healthTopic(env);
    const onHealth = resourcesOfType(env, 'AWS::SNS::Subscription').filter((s) => {
      const t = referencedResource(env, s.stack, s.resource.Properties.TopicArn);
      return t && id(t) === id(health);
    });
    for (const s of onHealth) expect(s.resource.Properties.Protocol).toBe('email');
    if (env === 'prod') expect(onHealth).toHaveLength(1);
  });

  test("the notifier's own alarms (errors, throttles, dead letters, backlog) go to the health topic, not to an alert topic", () => {
    const health = healthTopic(env);
    const alarms = resourcesOfType(env, 'AWS::CloudWatch::Alarm').filter((a) => String(a.resource.Properties.AlarmName).startsWith(`${env}-notifier-`));
    expect(alarms.map((a) => a.resource.Properties.AlarmName).sort()).toEqual(['backlog', 'dead-letters', 'errors', 'throttles'].map((s) => `${env}-notifier-${s}`));
    for (const a of alarms) {
      const actions = [...asArray(a.resource.Properties.AlarmActions), ...asArray(a.resource.Properties.OKActions)].map((t) => referencedResource(env, a.stack, t));
      expect(actions.map((t) => t && id(t))).toEqual(actions.map(() => id(health)));
    }
  });
});

describe('DeadLetterEveryHop (a fresh stack)', () => {
  function build(props: Partial<ConstructorParameters<typeof DeadLetterEveryHop>[2]> = {}) {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'ap-northeast-2' } });
    const health = new AlertPathHealth(stack, 'Health', { envName: 'test', alertEmail: 'oncall@company.invalid' });
    const hop = new DeadLetterEveryHop(stack, 'DeadLetters', { envName: 'test', health, ...props });
    Aspects.of(stack).add(hop.aspect);
    return { app, stack, health, hop };
  }
  const dlqArn = (stack: Stack, q: sqs.Queue) => ({ 'Fn::GetAtt': [stack.getLogicalId(q.node.defaultChild as sqs.CfnQueue), 'Arn'] });

  test('covers L1 subscriptions and rules as well as L2 ones, and keeps what a target set itself', () => {
    const { stack, hop } = build();
    const topic = new sns.Topic(stack, 'Topic');
    new sns.CfnSubscription(stack, 'L1Sub', { topicArn: topic.topicArn, protocol: 'https', endpoint: 'https://hooks.invalid/x' });
    const own = new sqs.Queue(stack, 'OwnDlq');
    new events.Rule(stack, 'L2Rule', {
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.SnsTopic(topic), new targets.SnsTopic(topic, { deadLetterQueue: own, retryAttempts: 3 })],
    });
    new events.CfnRule(stack, 'L1Rule', { scheduleExpression: 'rate(1 hour)', targets: [{ id: 't', arn: topic.topicArn }] });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'https', RedrivePolicy: { deadLetterTargetArn: dlqArn(stack, hop.bySns) } });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', RedrivePolicy: { deadLetterTargetArn: dlqArn(stack, hop.bySns) } });
    const rule = (name: string) => Object.entries(t.findResources('AWS::Events::Rule')).find(([k]) => k.startsWith(name))![1].Properties.Targets;
    expect(rule('L2Rule')).toEqual([
      expect.objectContaining({ DeadLetterConfig: { Arn: dlqArn(stack, hop.byEventBridge) }, RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 3600 } }),
      expect.objectContaining({ DeadLetterConfig: { Arn: dlqArn(stack, own) }, RetryPolicy: { MaximumRetryAttempts: 3 } }),
    ]);
    expect(rule('L1Rule')).toEqual([expect.objectContaining({ DeadLetterConfig: { Arn: dlqArn(stack, hop.byEventBridge) }, RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 3600 } })]);
  });

  test('queues are named per environment, encrypted with the health key, kept 14 days', () => {
    const { stack, health } = build();
    const t = Template.fromStack(stack);
    const key = { 'Fn::GetAtt': [stack.getLogicalId(health.key.node.defaultChild as never), 'Arn'] };
    for (const name of ['test-alerts-undelivered-by-sns', 'test-alerts-undelivered-by-eventbridge']) {
      t.hasResourceProperties('AWS::SQS::Queue', { QueueName: name, KmsMasterKeyId: key, MessageRetentionPeriod: 1209600 });
      t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: name, Threshold: 0, AlarmActions: [{ Ref: stack.getLogicalId(health.topic.node.defaultChild as never) }] });
    }
  });

  test('with an account bound, the source conditions name that account and region', () => {
    const { stack } = build();
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'events.amazonaws.com' }, Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:ap-northeast-2:123456789012:rule/*']] } } } })]) },
    });
  });

  test.each([
    [{ maxEventAge: Duration.seconds(30) }, /maxEventAge must be between 60 seconds and 24 hours, got 30 seconds/],
    [{ maxEventAge: Duration.hours(25) }, /maxEventAge must be between 60 seconds and 24 hours, got 90000 seconds/],
    [{ retryAttempts: 186 }, /retryAttempts must be an integer from 0 to 185, got 186/],
  ])('rejects %o', (props, message) => {
    expect(() => build(props)).toThrow(message);
  });
});
