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
import { ENVS, resources, target, type EnvName, type Resource } from './support';

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
    if (fn.Type === 'AWS::Serverless::Application') {
      return { schedule: `${s.stack}/${s.logicalId}`, groups: resolve(fn.Properties.Parameters.vpcSecurityGroupIds), subnets: resolve(fn.Properties.Parameters.vpcSubnetIds) };
    }
    expect(fn.Type).toBe('AWS::Lambda::Function');
    return { schedule: `${s.stack}/${s.logicalId}`, groups: resolve(fn.Properties.VpcConfig?.SecurityGroupIds), subnets: resolve(fn.Properties.VpcConfig?.SubnetIds) };
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
