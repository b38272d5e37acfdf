/**
 * Every CloudWatch log group of every environment is encrypted with a customer managed key whose
 * policy follows the CloudWatch Logs user guide
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html): the
 * principal is `logs.<region>.amazonaws.com`, allowed kms:Encrypt*, Decrypt*, ReEncrypt*,
 * GenerateDataKey* and Describe*, under an ArnLike/ArnEquals condition on
 * kms:EncryptionContext:aws:logs:arn (without it any log group of any account could use the key).
 * And every key keeps kms:CreateGrant for AWS services, in the form Control Tower CT.KMS.PR.3 checks
 * (https://docs.aws.amazon.com/controltower/latest/controlreference/kms-rules.html).
 */
import { ENVS, resources, target } from './support';

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const text = (v: unknown): string => {
  const o = v as Record<string, any>;
  if (o?.Ref) return `<${o.Ref}>`;
  if (o?.['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(text).join(o['Fn::Join'][0]);
  return String(v);
};

describe.each(ENVS)('%s: log groups and keys', (env) => {
  test('every log group has a customer managed key that CloudWatch Logs may use for this account\'s log groups only', () => {
    const groups = resources(env, 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThan(3);
    const wrong: string[] = [];
    for (const g of groups) {
      const key = target(env, g.stack, g.Properties.KmsKeyId);
      const ok = key?.Type === 'AWS::KMS::Key' && (key.Properties.KeyPolicy.Statement as any[]).some((s) =>
        s.Effect === 'Allow'
        && /^logs\.(<AWS::Region>|[a-z0-9-]+)\.amazonaws\.com$/.test(text(s.Principal?.Service))
        && ['kms:Encrypt*', 'kms:Decrypt*', 'kms:GenerateDataKey*'].every((a) => list(s.Action).includes(a))
        && /^arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/.test(text((s.Condition?.ArnLike ?? s.Condition?.ArnEquals)?.['kms:EncryptionContext:aws:logs:arn'])));
      if (!ok) wrong.push(`${g.stack}/${g.logicalId}`);
    }
    expect(wrong).toEqual([]);
  });

  test('every key denies kms:CreateGrant unless the grant is for an AWS resource or an AWS service asks', () => {
    const open = resources(env, 'AWS::KMS::Key').filter((k) => !(k.Properties.KeyPolicy.Statement as any[]).some((s) =>
      s.Effect === 'Deny' && list(s.Action).join() === 'kms:CreateGrant' && s.Principal?.AWS === '*' && s.Resource === '*'
      && s.Condition?.BoolIfExists?.['kms:GrantIsForAWSResource'] === 'false' && s.Condition?.BoolIfExists?.['aws:PrincipalIsAWSService'] === 'false'));
    expect(open.map((k) => `${k.stack}/${k.logicalId}`)).toEqual([]);
  });
});
