/**
 * RDS events reach the (KMS-encrypted) critical topic on a path no AWS page disputes.
 *
 * - The RDS API reference, CreateEventSubscription: "RDS event notification is only available for
 *   unencrypted SNS topics. If you specify an encrypted SNS topic, event notifications aren't sent
 *   for the topic." https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateEventSubscription.html
 *   (The user guide's subscribing page says to grant RDS the key instead; the two disagree.)
 * - RDS sends `RDS DB Instance Event` to EventBridge directly:
 *   https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-rds.html
 * - EventBridge may publish to an encrypted topic when the key policy lets events.amazonaws.com
 *   use the key (kms:GenerateDataKey*, kms:Decrypt):
 *   https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
 * The rule's match against AWS's sample events is in event-rules.test.ts.
 */
import { ENVS, resources, target, type EnvName, type Resource } from './support';

function rdsRule(env: EnvName): Resource | undefined {
  return resources(env, 'AWS::Events::Rule').find((r) => JSON.stringify(r.Properties.EventPattern?.source) === '["aws.rds"]');
}

describe.each(ENVS)('%s: RDS events', (env) => {
  test('no RDS event subscription publishes to an encrypted topic (RDS would send nothing)', () => {
    for (const sub of resources(env, 'AWS::RDS::EventSubscription')) {
      const topic = target(env, sub.stack, sub.Properties.SnsTopicArn);
      expect(topic?.Properties.KmsMasterKeyId).toBeUndefined();
    }
  });

  test('an EventBridge rule takes RDS DB Instance Events of every instance to the critical topic', () => {
    const rule = rdsRule(env);
    expect(rule).toBeDefined();
    expect(rule!.Properties.EventPattern['detail-type']).toEqual(['RDS DB Instance Event']);
    const instances = resources(env, 'AWS::RDS::DBInstance').map((i) => i.logicalId);
    const named = JSON.stringify(rule!.Properties.EventPattern.resources);
    for (const id of instances) expect(named).toContain(`"Ref":"${id}"`);
    expect(rule!.Properties.EventPattern.detail.EventCategories).toEqual(expect.arrayContaining(['failover', 'failure', 'low storage']));
    const [t] = rule!.Properties.Targets;
    const topic = target(env, rule!.stack, t.Arn);
    expect(topic?.Type).toBe('AWS::SNS::Topic');
    expect(topic?.Properties.TopicName).toMatch(/critical/i);
    // A failed delivery is not silent: the target has a dead-letter queue.
    expect(t.DeadLetterConfig?.Arn).toBeDefined();
  });

  test('that topic is encrypted with a key whose policy lets EventBridge use it', () => {
    const rule = rdsRule(env)!;
    const topic = target(env, rule.stack, rule.Properties.Targets[0].Arn)!;
    const key = target(env, topic.stack, topic.Properties.KmsMasterKeyId);
    expect(key?.Type).toBe('AWS::KMS::Key');
    const allowsEvents = (key!.Properties.KeyPolicy.Statement as any[]).some((s) =>
      s.Effect === 'Allow' &&
      JSON.stringify(s.Principal).includes('events.amazonaws.com') &&
      ['kms:Decrypt', 'kms:GenerateDataKey*'].every((a) => [].concat(s.Action).includes(a as never)));
    expect(allowsEvents).toBe(true);
  });
});
