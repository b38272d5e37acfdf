/**
 * The independent alert path as the real app synthesizes it (shared assembly): a topic per
 * environment that the notifier never touches, encrypted with its own key, reachable by
 * CloudWatch alarms, and in prod subscribed by email.
 *
 * CloudWatch alarms can publish to an SSE-KMS topic only when the key policy lets
 * cloudwatch.amazonaws.com use the key:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html
 */
import { referencedResource, resourcesOfType } from '../support/template-refs';

describe.each(['dev', 'staging', 'prod'])('%s alerting-health topic', (env) => {
  const topic = () => resourcesOfType(env, 'AWS::SNS::Topic').find((t) => t.resource.Properties.TopicName === `${env}-alerting-health`)!;

  test('is encrypted with its own key, not the alert topics\' key', () => {
    const health = topic();
    expect(health.stack).toBe('Alerting');
    const key = referencedResource(env, health.stack, health.resource.Properties.KmsMasterKeyId)!;
    expect(key.resource.Type).toBe('AWS::KMS::Key');
    expect(key.resource.Properties.EnableKeyRotation).toBe(true);
    const others = resourcesOfType(env, 'AWS::SNS::Topic').filter((t) => /-alerts-(critical|warning|info)$/.test(t.resource.Properties.TopicName));
    expect(others).toHaveLength(3);
    for (const t of others) expect(referencedResource(env, t.stack, t.resource.Properties.KmsMasterKeyId)?.logicalId).not.toBe(key.logicalId);
    const cw = key.resource.Properties.KeyPolicy.Statement.find((s: any) => s.Principal?.Service === 'cloudwatch.amazonaws.com');
    expect(cw.Action).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']));
  });

  test('CloudWatch alarms of this account may publish to it, over TLS only', () => {
    const health = topic();
    const policy = resourcesOfType(env, 'AWS::SNS::TopicPolicy').find((p) => JSON.stringify(p.resource.Properties.Topics) === JSON.stringify([{ Ref: health.logicalId }]))!;
    const statements = policy.resource.Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }));
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });

  if (env === 'prod') {
    test('prod: an email subscription (the address from config or -c prod:alertEmail)', () => {
      const subs = resourcesOfType(env, 'AWS::SNS::Subscription').filter((s) => JSON.stringify(s.resource.Properties.TopicArn) === JSON.stringify({ Ref: topic().logicalId }));
      expect(subs.map((s) => s.resource.Properties.Protocol)).toEqual(['email']);
      expect(subs[0].resource.Properties.Endpoint).toMatch(/^[^@\s]+@[^@\s]+$/);
    });
  }
});
