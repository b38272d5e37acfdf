/**
 * What Secrets Manager documents about rotating a database secret from inside a VPC, checked on
 * the synthesized templates of every environment, for every rotation schedule (the master secret's
 * hosted function and the role schema's own function):
 *
 * - https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_turn-on-cli.html
 *   ("Set up network access"): the rotation function must reach both the database and the Secrets
 *   Manager API over the network: through an interface endpoint, or through NAT to the public one.
 * - https://docs.aws.amazon.com/secretsmanager/latest/userguide/vpc-endpoint-overview.html and
 *   https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html: an interface
 *   endpoint admits only what its security group admits (inbound HTTPS, 443, from the callers); with
 *   private DNS on, the default `secretsmanager.<region>.amazonaws.com` resolves to the endpoint's
 *   private addresses inside the VPC, so NAT is no way around a closed endpoint group.
 * - aws/aws-cdk#23086: CDK's hosted rotation gets an anonymous security group that no endpoint admits
 *   unless you pass your own; this app does (lib/constructs/database.ts).
 */
import { matchesEventPattern } from '../support/event-pattern';
import { cloudTrailServiceEvent, ENVS, literalPattern, resources, sample, target, type EnvName, type Resource } from './support';

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const same = (a: Resource | undefined, b: Resource | undefined) => !!a && !!b && a.stack === b.stack && a.logicalId === b.logicalId;

/** The references inside a value (a list, or a `Fn::Join` of references and commas). */
function refsIn(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  const v = value as Record<string, any>;
  if (v?.['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).filter((x) => typeof x !== 'string').flatMap(refsIn);
  return value && typeof value === 'object' ? [value] : [];
}

interface RotationPath {
  /** `dev/Data/<schedule>` */
  schedule: string;
  /** The rotated secret (followed through its target attachment). */
  secret?: Resource;
  /** The rotation function: the Lambda function, or the hosted application that creates it. */
  fn: Resource;
  /** The rotation function's security groups. */
  groups: Resource[];
  /** Its subnets. */
  subnets: Resource[];
}

/** The rotation function behind each rotation schedule: a function of this app, or a hosted (SAR) application. */
function rotationPaths(env: EnvName): RotationPath[] {
  return resources(env, 'AWS::SecretsManager::RotationSchedule').map((s) => {
    const fn = target(env, s.stack, s.Properties.RotationLambdaARN);
    if (!fn) throw new Error(`${env} ${s.logicalId}: RotationLambdaARN does not resolve: ${JSON.stringify(s.Properties.RotationLambdaARN)}`);
    const resolve = (v: unknown) => refsIn(v).map((r) => target(env, fn.stack, r)).filter((r): r is Resource => !!r);
    const attachment = target(env, s.stack, s.Properties.SecretId);
    const secret = attachment?.Type === 'AWS::SecretsManager::SecretTargetAttachment' ? target(env, attachment.stack, attachment.Properties.SecretId) : attachment;
    const common = { schedule: `${s.stack}/${s.logicalId}`, secret, fn };
    if (fn.Type === 'AWS::Serverless::Application') {
      return { ...common, groups: resolve(fn.Properties.Parameters.vpcSecurityGroupIds), subnets: resolve(fn.Properties.Parameters.vpcSubnetIds) };
    }
    expect(fn.Type).toBe('AWS::Lambda::Function');
    return { ...common, groups: resolve(fn.Properties.VpcConfig?.SecurityGroupIds), subnets: resolve(fn.Properties.VpcConfig?.SubnetIds) };
  });
}

function secretsManagerEndpoints(env: EnvName): Resource[] {
  return resources(env, 'AWS::EC2::VPCEndpoint').filter((e) => /\.secretsmanager"/.test(JSON.stringify(e.Properties.ServiceName)));
}

const coversHttps = (rule: Record<string, any>) =>
  rule.IpProtocol === '-1' || (rule.IpProtocol === 'tcp' && rule.FromPort <= 443 && rule.ToPort >= 443);

/** Whether `group` admits HTTPS from `source`: its inline ingress, or a separate ingress resource in any stack. */
function admitsHttpsFrom(env: EnvName, group: Resource, source: Resource): boolean {
  const inline = ((group.Properties.SecurityGroupIngress ?? []) as Record<string, any>[]).map((r) => ({ rule: r, stack: group.stack }));
  const separate = resources(env, 'AWS::EC2::SecurityGroupIngress')
    .filter((r) => same(target(env, r.stack, r.Properties.GroupId), group))
    .map((r) => ({ rule: r.Properties, stack: r.stack }));
  return [...inline, ...separate].some(({ rule, stack }) => coversHttps(rule) && rule.SourceSecurityGroupId && same(target(env, stack, rule.SourceSecurityGroupId), source));
}

/** Whether `group` lets HTTPS out to the endpoint group (all outbound, or a rule naming it). */
function sendsHttpsTo(env: EnvName, group: Resource, endpointGroup: Resource): boolean {
  const egress = [
    ...((group.Properties.SecurityGroupEgress ?? []) as Record<string, any>[]).map((r) => ({ rule: r, stack: group.stack })),
    ...resources(env, 'AWS::EC2::SecurityGroupEgress').filter((r) => same(target(env, r.stack, r.Properties.GroupId), group)).map((r) => ({ rule: r.Properties, stack: r.stack })),
  ];
  return egress.some(({ rule, stack }) => coversHttps(rule) && (rule.CidrIp === '0.0.0.0/0' || same(target(env, stack, rule.DestinationSecurityGroupId), endpointGroup)));
}

/** Whether a subnet's route table sends 0.0.0.0/0 to a NAT gateway or NAT instance. */
function routesToNat(env: EnvName, subnet: Resource): boolean {
  const tables = resources(env, 'AWS::EC2::SubnetRouteTableAssociation')
    .filter((a) => same(target(env, a.stack, a.Properties.SubnetId), subnet))
    .map((a) => target(env, a.stack, a.Properties.RouteTableId));
  return resources(env, 'AWS::EC2::Route').some((r) =>
    r.Properties.DestinationCidrBlock === '0.0.0.0/0' && (r.Properties.NatGatewayId || r.Properties.InstanceId) && tables.some((t) => same(target(env, r.stack, r.Properties.RouteTableId), t)));
}

describe.each(ENVS)('%s: rotation functions reach Secrets Manager', (env) => {
  const paths = rotationPaths(env);
  const endpoints = secretsManagerEndpoints(env);

  test('every rotated secret has a rotation function in the VPC (the master secret and the role-schema secrets)', () => {
    expect(paths.length).toBeGreaterThan(1);
    expect(paths.some((p) => p.schedule.includes('Postgres'))).toBe(true);
    expect(paths.some((p) => p.schedule.includes('RoleSchema'))).toBe(true);
    for (const p of paths) {
      expect({ schedule: p.schedule, groups: p.groups.length > 0, subnets: p.subnets.length > 0 }).toEqual({ schedule: p.schedule, groups: true, subnets: true });
    }
  });

  if (endpoints.length > 0) {
    test('the Secrets Manager endpoint has private DNS on, so the function cannot take NAT around it', () => {
      for (const e of endpoints) expect(e.Properties.PrivateDnsEnabled).toBe(true);
    });

    test('the endpoint admits HTTPS from each rotation function\'s security group, which lets it out', () => {
      const blocked: string[] = [];
      for (const e of endpoints) {
        const endpointGroups = refsIn(e.Properties.SecurityGroupIds).map((r) => target(env, e.stack, r)).filter((r): r is Resource => !!r);
        expect(endpointGroups.length).toBeGreaterThan(0);
        for (const p of paths) {
          const ok = p.groups.some((g) => endpointGroups.some((eg) => admitsHttpsFrom(env, eg, g) && sendsHttpsTo(env, g, eg)));
          if (!ok) blocked.push(`${p.schedule} (groups ${p.groups.map((g) => g.logicalId).join(', ')})`);
        }
      }
      expect(blocked).toEqual([]);
    });
  } else {
    test('without an endpoint, every rotation function sits in subnets routed to NAT, and may send HTTPS out', () => {
      for (const p of paths) {
        expect({ schedule: p.schedule, nat: p.subnets.every((s) => routesToNat(env, s)) }).toEqual({ schedule: p.schedule, nat: true });
        expect({ schedule: p.schedule, egress: p.groups.some((g) => sendsHttpsTo(env, g, g)) }).toEqual({ schedule: p.schedule, egress: true });
      }
    });
  }
});

/**
 * Rotation failures reach the alert path (lib/constructs/secret-rotation-alerts.ts):
 *
 * - Secrets Manager logs a rotation that fails as the CloudTrail record `RotationFailed`, naming the
 *   secret in additionalEventData.SecretId
 *   (https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieve-ct-entries.html, the sample
 *   test/fixtures/aws-samples/secrets-manager/cloudtrail-record-rotation-failed.json), and
 *   EventBridge receives it as `AWS Service Event via CloudTrail` with the record as `detail`
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html; that
 *   page also says a trail with logging is needed, which this app does not create: see the construct).
 * - Each rotation function has an Errors alarm (AWS/Lambda Errors by FunctionName,
 *   https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html), which needs no trail.
 */
const ROTATION_FAILED = 'secrets-manager/cloudtrail-record-rotation-failed.json';

/** AWS's RotationFailed record for a secret of the given name, as EventBridge delivers it. */
function rotationEvent(secretName: string, changes: Record<string, unknown> = {}): Record<string, any> {
  const record = { ...sample(ROTATION_FAILED), ...changes };
  record.additionalEventData = { SecretId: `arn:aws:secretsmanager:us-east-2:123456789012:secret:${secretName}-a1b2c3` };
  return cloudTrailServiceEvent(record);
}

function rotationRules(env: EnvName) {
  return resources(env, 'AWS::Events::Rule')
    .filter((r) => JSON.stringify(r.Properties.EventPattern ?? {}).includes('aws.secretsmanager'))
    .map((r) => ({ rule: r, pattern: literalPattern(r.Properties.EventPattern) as Record<string, any> }));
}

describe.each(ENVS)('%s: rotation failures are alerted', (env) => {
  const paths = rotationPaths(env);
  const names = [...new Set(paths.map((p) => p.secret?.Properties.Name as string))];
  const rules = rotationRules(env);
  const caught = (event: Record<string, any>) => rules.some((r) => matchesEventPattern(event, r.pattern));

  test('no rotation starts before the role schema has applied (its creation starts the first rotation)', () => {
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-secretsmanager-rotationschedule.html:
    // RotateImmediatelyOnUpdate defaults to true, so the schedule's creation rotates at once; the role
    // schema logs in with the master secret (the handler also re-reads it once on 28P01).
    const roleSchema = resources(env, 'Custom::RoleSchema');
    expect(roleSchema.length).toBe(1);
    const early = resources(env, 'AWS::SecretsManager::RotationSchedule')
      .filter((s) => s.stack === roleSchema[0].stack && !list(s.DependsOn).includes(roleSchema[0].logicalId))
      .map((s) => s.logicalId);
    expect(early).toEqual([]);
  });

  test('every rotated secret is named (the event names it by ARN)', () => {
    expect(names.every((n) => typeof n === 'string')).toBe(true);
    expect(names).toContain(`platform/${env}/postgres/master`);
    expect(names.length).toBe(paths.length);
  });

  test("AWS's RotationFailed sample, naming any of this environment's rotated secrets, matches a rule", () => {
    expect(rules.length).toBeGreaterThan(0);
    expect(names.filter((n) => !caught(rotationEvent(n)))).toEqual([]);
  });

  test('the rule does not match the sample as published (someone else\'s secret), another environment\'s secret, or a success', () => {
    expect(caught(cloudTrailServiceEvent(sample(ROTATION_FAILED)))).toBe(false);
    const other = env === 'prod' ? 'staging' : 'prod';
    expect(caught(rotationEvent(`platform/${other}/postgres/master`))).toBe(false);
    // Derived: the page lists these event names for the other outcomes; it prints only the failure.
    for (const eventName of ['RotationSucceeded', 'RotationStarted']) {
      expect({ eventName, caught: caught(rotationEvent(`platform/${env}/postgres/master`, { eventName, errorMessage: undefined })) }).toEqual({ eventName, caught: false });
    }
  });

  test('the rule sends to the warning alert topic', () => {
    for (const { rule } of rules) {
      const topics = (rule.Properties.Targets as { Arn: unknown }[]).map((t) => target(env, rule.stack, t.Arn));
      expect(topics.map((t) => t?.Properties.TopicName)).toEqual([`${env}-alerts-warning`]);
    }
  });

  test('every rotation function has an Errors alarm with actions', () => {
    const alarms = resources(env, 'AWS::CloudWatch::Alarm').filter((a) => a.Properties.Namespace === 'AWS/Lambda' && a.Properties.MetricName === 'Errors');
    const fns = [...new Map(paths.map((p) => [`${p.fn.stack}/${p.fn.logicalId}`, p.fn])).values()];
    expect(fns.length).toBe(2);
    const unwatched = fns.filter((fn) => !alarms.some((a) => {
      const dim = (a.Properties.Dimensions as { Name: string; Value: unknown }[]).find((d) => d.Name === 'FunctionName');
      const watches = fn.Type === 'AWS::Serverless::Application' ? dim?.Value === fn.Properties.Parameters.functionName : dim?.Value !== undefined && same(target(env, a.stack, dim.Value), fn);
      return watches && a.Properties.AlarmActions?.length > 0 && a.Properties.OKActions?.length > 0;
    }));
    expect(unwatched.map((f) => f.logicalId)).toEqual([]);
  });
});
