/**
 * What the ElastiCache user guide requires of a notification topic, checked on every environment:
 *
 * - https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ElastiCacheSNS.html
 *   "The Amazon SNS topic you are publishing to cannot be encrypted." (An encrypted topic shows as
 *   inactive, which in effect disassociates it from the cluster.) The topic must also be in the
 *   same account and Region as the cluster.
 * - https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ECEvents.SNS.html
 *   "the topic's access policy must use the aws:SourceOwner condition key, not aws:SourceAccount";
 *   with aws:SourceAccount ElastiCache cannot publish and sets the topic inactive.
 *
 * And that what arrives there joins the normal alert path (queue, notifier, Slack).
 */
import { literalPattern, resources, target, ENVS, type Resource } from './support';

function cacheTopic(env: (typeof ENVS)[number]): { group: Resource; topic: Resource } {
  const [group] = resources(env, 'AWS::ElastiCache::ReplicationGroup');
  const topic = target(env, group.stack, group.Properties.NotificationTopicArn);
  if (!topic) throw new Error(`${env}: NotificationTopicArn does not resolve to a topic of the app: ${JSON.stringify(group.Properties.NotificationTopicArn)}`);
  return { group, topic };
}

const conditionKeys = (statement: Record<string, any>): string[] =>
  Object.values((statement.Condition ?? {}) as Record<string, Record<string, unknown>>).flatMap((c) => Object.keys(c).map((k) => k.toLowerCase()));

describe.each(ENVS)('%s: ElastiCache notifications', (env) => {
  test('the replication group publishes to a topic of this app, in its own account and Region', () => {
    const { topic } = cacheTopic(env);
    expect(topic.Type).toBe('AWS::SNS::Topic');
    expect(topic.Properties.TopicName).toBe(`${env}-elasticache-events-warning`);
  });

  test('that topic is not encrypted', () => {
    const { topic } = cacheTopic(env);
    expect(topic.Properties.KmsMasterKeyId).toBeUndefined();
  });

  test('its policy lets publishers in by aws:SourceOwner = this account, and never by aws:SourceAccount', () => {
    const { topic } = cacheTopic(env);
    const policies = resources(env, 'AWS::SNS::TopicPolicy').filter((p) => p.stack === topic.stack && JSON.stringify(p.Properties.Topics).includes(`"${topic.logicalId}"`));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, any>[]);
    const publish = statements.filter((s) => s.Effect === 'Allow' && [s.Action].flat().some((a: string) => /^sns:publish$/i.test(a)));
    expect(publish).toHaveLength(1);
    expect(publish[0].Condition).toEqual({ StringEquals: { 'aws:SourceOwner': { Ref: 'AWS::AccountId' } } });
    for (const s of statements) expect(conditionKeys(s)).not.toContain('aws:sourceaccount');
  });

  test('its messages take the warning queue of the notifier, whose key lets SNS encrypt them in', () => {
    const { topic } = cacheTopic(env);
    const subs = resources(env, 'AWS::SNS::Subscription').filter((s) => s.stack === topic.stack && s.Properties.TopicArn?.Ref === topic.logicalId);
    expect(subs.map((s) => s.Properties.Protocol)).toEqual(['sqs']);
    const queue = target(env, topic.stack, subs[0].Properties.Endpoint)!;
    expect(queue.logicalId).toMatch(/^SlackNotifierWarningQueue/);
    const key = target(env, topic.stack, queue.Properties.KmsMasterKeyId)!;
    const snsStatements = (key.Properties.KeyPolicy.Statement as Record<string, any>[]).filter((s) => JSON.stringify(s.Principal).includes('sns.amazonaws.com'));
    expect(JSON.stringify(snsStatements)).toContain(`"Ref":"${topic.logicalId}"`);
    // The notifier maps the topic to the warning channel, as it does the warning queue.
    const [fn] = resources(env, 'AWS::Lambda::Function').filter((f) => f.stack === topic.stack && f.Properties.Environment?.Variables?.SEVERITY_SOURCES);
    const sources = JSON.parse(joinLiteral(fn.Properties.Environment.Variables.SEVERITY_SOURCES)) as { severity: string; arns: string[] }[];
    expect(sources.find((s) => s.severity === 'warning')?.arns).toContain(`<${topic.logicalId}>`);
  });
});

/** `Fn::Join` with references written as `<LogicalId>`. */
function joinLiteral(value: any): string {
  if (typeof value === 'string') return value;
  const [sep, parts] = value['Fn::Join'];
  return (parts as unknown[]).map((p) => (typeof p === 'string' ? p : literalPattern(p))).join(sep);
}
