/**
 * The notifier adds Performance Insights' wait events to database alarms (pi:GetResourceMetrics).
 * Performance Insights is encrypted with the database's own key here, and the RDS user guide says
 * what that takes (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PerfInsights.access-control.cmk-policy.html):
 * with a customer managed key, whoever calls the Performance Insights API needs kms:Decrypt and
 * kms:GenerateDataKey on it, best granted in the key policy; the page's example narrows it with
 * kms:ViaService `rds.<region>.amazonaws.com` and Performance Insights' encryption context
 * (aws:pi:service = rds, service = pi, aws:rds:db-id = the instance's DbiResourceId).
 * Without it the call fails, the notifier catches the error, and the wait events never appear.
 */
import { ENVS, resources, target, type EnvName, type Resource } from './support';

const same = (a: Resource | undefined, b: Resource | undefined) => !!a && !!b && a.stack === b.stack && a.logicalId === b.logicalId;
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** A value with pseudo-parameters written `<AWS::Region>`, joins joined. */
function render(v: unknown): unknown {
  const o = v as Record<string, any>;
  if (o?.Ref?.startsWith?.('AWS::')) return `<${o.Ref}>`;
  if (o?.['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(render).join(o['Fn::Join'][0]);
  return v;
}

/** The role whose policy allows pi:GetResourceMetrics: the notifier's. */
function performanceInsightsCallers(env: EnvName): Resource[] {
  return resources(env, 'AWS::IAM::Policy')
    .filter((p) => (p.Properties.PolicyDocument.Statement as any[]).some((s) => list(s.Action).includes('pi:GetResourceMetrics') && s.Effect === 'Allow'))
    .flatMap((p) => list(p.Properties.Roles).map((r) => target(env, p.stack, r)))
    .filter((r): r is Resource => !!r);
}

describe.each(ENVS)('%s: Performance Insights can be read by its caller', (env) => {
  const instances = resources(env, 'AWS::RDS::DBInstance').filter((i) => i.Properties.EnablePerformanceInsights);
  const callers = performanceInsightsCallers(env);

  test('the notifier calls Performance Insights, which the database key encrypts', () => {
    expect(callers.length).toBe(1);
    expect(instances.length).toBeGreaterThan(0);
    for (const i of instances) expect(target(env, i.stack, i.Properties.PerformanceInsightsKMSKeyId ?? i.Properties.KmsKeyId)?.Type).toBe('AWS::KMS::Key');
  });

  test('that role may decrypt with the key, only via RDS in this Region and only for Performance Insights of each instance (primary and replica)', () => {
    // IAM policies of the caller's role with KMS actions (the key policy delegates to IAM: checked below).
    const kmsStatements = resources(env, 'AWS::IAM::Policy')
      .filter((p) => list(p.Properties.Roles).some((r) => callers.some((c) => same(target(env, p.stack, r), c))))
      .flatMap((p) => (p.Properties.PolicyDocument.Statement as any[]).filter((s) => list(s.Action).some((a: string) => a.startsWith('kms:'))).map((s) => ({ s, stack: p.stack })));
    for (const i of instances) {
      const key = target(env, i.stack, i.Properties.PerformanceInsightsKMSKeyId)!;
      const forKey = kmsStatements.filter(({ s, stack }) => list(s.Resource).some((r) => same(target(env, stack, r), key)));
      expect(forKey.length).toBe(1);
      const [{ s }] = forKey;
      expect(list(s.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      expect(render(s.Condition?.StringEquals?.['kms:ViaService'])).toMatch(/^rds\.(<AWS::Region>|[a-z]{2}(-[a-z]+)+-\d)\.amazonaws\.com$/);
      const context = s.Condition?.['ForAnyValue:StringEquals'] ?? {};
      expect(context['kms:EncryptionContext:aws:pi:service']).toBe('rds');
      expect(context['kms:EncryptionContext:service']).toBe('pi');
      const dbIds = list(context['kms:EncryptionContext:aws:rds:db-id']).map((d: any) => d['Fn::GetAtt']);
      expect(dbIds).toContainEqual([i.logicalId, 'DbiResourceId']);
      // The key policy lets IAM policies of the account grant use of the key (CDK's default statement).
      const delegates = (key.Properties.KeyPolicy.Statement as any[]).some((k) => k.Effect === 'Allow' && list(k.Action).includes('kms:*') && JSON.stringify(k.Principal).includes(':root'));
      expect(delegates).toBe(true);
    }
    // Nothing else of KMS for this role is unconditional.
    expect(kmsStatements.filter(({ s }) => !s.Condition?.StringEquals?.['kms:ViaService']).map(({ s }) => s.Sid)).toEqual([]);
  });
});
