/**
 * RoleSchema: construct-level assertions on a small app (the real Network stack, an imported
 * instance, bundling skipped), cdk-nag included; plus the wiring in the real app's Data stacks
 * (the shared synth).
 */
import { App, CfnResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_SERVICES, ENVIRONMENTS, loadEnvironment, roleNames, type ServiceInput } from '../../lib/config';
import { RoleSchema, type RoleSchemaProps } from '../../lib/constructs/role-schema';
import { NetworkStack } from '../../lib/stacks/network-stack';
import { template } from '../support/assembly';

const config = loadEnvironment('dev', ENVIRONMENTS.dev);

function build(over: Partial<RoleSchemaProps> = {}, opts: { nag?: boolean } = {}) {
  // Bundling is skipped here: the shared synth of the real app bundles the functions.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const network = new NetworkStack(app, 'Network', { config });
  const stack = new Stack(app, 'Data');
  const instance = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Db', {
    instanceIdentifier: 'dev-postgres',
    instanceEndpointAddress: 'dev-postgres.abc.ap-northeast-2.rds.amazonaws.com',
    port: 6432,
    securityGroups: [],
  });
  const masterSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', 'arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:platform/dev/postgres/master-AbCdEf');
  const roleSchema = new RoleSchema(stack, 'RoleSchema', {
    vpc: network.vpc,
    dbClientSecurityGroup: network.dbClientSecurityGroup,
    instance,
    masterSecret,
    port: 6432,
    databaseName: 'platform',
    environmentName: 'dev',
    roles: config.roles,
    ...over,
  });
  if (opts.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, roleSchema, network };
}

describe('with the seed registry', () => {
  let t: Template;
  let built: ReturnType<typeof build>;
  beforeAll(() => {
    built = build({}, { nag: true });
    // cdk-nag (AwsSolutions) fails the synth on any unacknowledged finding.
    built.app.synth();
    t = Template.fromStack(built.stack);
  });

  test('one custom resource with the registry, the connection and the login secrets', () => {
    const [resource] = Object.values(t.findResources('Custom::RoleSchema'));
    const p = resource.Properties;
    expect(p).toMatchObject({ DatabasePort: '6432', DatabaseName: 'platform', AppSchema: 'public', EventTrigger: 'present', DatabaseHost: 'dev-postgres.abc.ap-northeast-2.rds.amazonaws.com' });
    expect(JSON.parse(p.Services).map((s: { prefix: string }) => s.prefix)).toEqual(DEFAULT_SERVICES.map((s) => s.prefix));
    expect(p.SchemaVersion).toMatch(/^[0-9a-f]{16}$/);
    // LoginSecrets is a JSON document of role → attached secret ARN (a token joined at deploy time).
    const json = JSON.stringify(p.LoginSecrets);
    for (const role of ['gtown', 'gtapp', 'gtuser', 'alapp', 'platform_monitor']) expect(json).toContain(`\\"${role}\\":`);
    expect(resource.UpdateReplacePolicy ?? 'Delete').toBe('Delete');
  });

  test('a CDK-generated secret per login role, named per environment, attached to the instance', () => {
    t.resourceCountIs('AWS::SecretsManager::Secret', 37);
    t.resourceCountIs('AWS::SecretsManager::SecretTargetAttachment', 37);
    for (const role of [...Object.values(roleNames('gt_')), 'platform_monitor']) {
      t.hasResourceProperties('AWS::SecretsManager::Secret', {
        Name: `platform/dev/postgres/${role}`,
        GenerateSecretString: Match.objectLike({ SecretStringTemplate: JSON.stringify({ username: role, dbname: 'platform' }), GenerateStringKey: 'password' }),
      });
    }
    t.hasResourceProperties('AWS::SecretsManager::SecretTargetAttachment', { TargetType: 'AWS::RDS::DBInstance', TargetId: 'dev-postgres' });
  });

  test('every login secret rotates single-user through the one shared function, after the roles exist', () => {
    const schedules = t.findResources('AWS::SecretsManager::RotationSchedule');
    expect(Object.keys(schedules)).toHaveLength(37);
    const [customId] = Object.keys(t.findResources('Custom::RoleSchema'));
    const fns = new Set<string>();
    for (const s of Object.values(schedules)) {
      expect(s.DependsOn).toContain(customId);
      expect(s.Properties.RotationRules).toEqual({ ScheduleExpression: 'rate(30 days)' });
      fns.add(JSON.stringify(s.Properties.RotationLambdaARN));
    }
    expect(fns.size).toBe(1);
  });

  test('handler and rotation function run Node.js 24 on arm64 in the VPC with the database-client security group', () => {
    const sgLogicalId = built.network.getLogicalId(built.network.dbClientSecurityGroup.node.defaultChild as CfnResource);
    const fns = t.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('role schema') } });
    expect(Object.keys(fns)).toHaveLength(2);
    for (const f of Object.values(fns)) {
      expect(f.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] });
      expect(f.Properties.VpcConfig.SecurityGroupIds).toHaveLength(1);
      expect(JSON.stringify(f.Properties.VpcConfig.SecurityGroupIds)).toContain(sgLogicalId);
    }
    t.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('applies the three-tier role schema'), Timeout: 300 });
  });

  test('the handler may read the master secret and the login secrets, nothing broader', () => {
    const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes('RoleSchemaHandler'));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const secretStatements = statements.filter((s: { Action: string | string[] }) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    const resources = JSON.stringify(secretStatements.map((s: { Resource: unknown }) => s.Resource));
    expect(resources).toContain('platform/dev/postgres/master-AbCdEf');
    expect(resources).not.toContain('"*"');
  });

  test('exposes the monitoring role and its secret for the db-health probe', () => {
    expect(built.roleSchema.monitoringRoleName).toBe('platform_monitor');
    expect(built.roleSchema.monitoringSecret).toBe(built.roleSchema.secrets.get('platform_monitor'));
    expect(built.roleSchema.secrets.size).toBe(37);
  });
});

test('auth: iam services get no secret', () => {
  const services: ServiceInput[] = [{ name: 'gatherer', prefix: 'gt_' }, { name: 'ledger', prefix: 'lg_', auth: 'iam' }];
  const { stack, roleSchema } = build({ roles: { appSchema: 'public', services } });
  const t = Template.fromStack(stack);
  t.resourceCountIs('AWS::SecretsManager::Secret', 4);
  expect([...roleSchema.secrets.keys()].sort()).toEqual(['gtapp', 'gtown', 'gtuser', 'platform_monitor']);
  const [resource] = Object.values(t.findResources('Custom::RoleSchema'));
  expect(JSON.parse(resource.Properties.Services)).toEqual([
    { name: 'gatherer', prefix: 'gt_', auth: 'password' },
    { name: 'ledger', prefix: 'lg_', auth: 'iam' },
  ]);
});

test.each([
  [{ enforcePrefixes: false }, 'absent'],
  [{ enforcePrefixes: true }, 'present'],
])('enforcePrefixes %j → EventTrigger %s', (over, expected) => {
  const t = Template.fromStack(build(over).stack);
  t.hasResourceProperties('Custom::RoleSchema', { EventTrigger: expected });
});

test('rotationInterval sets every schedule', () => {
  const t = Template.fromStack(build({ rotationInterval: Duration.days(7) }).stack);
  t.allResourcesProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(7 days)' } });
});

test.each([
  ['a bad prefix', { roles: { appSchema: 'public', services: [{ name: 'gatherer', prefix: 'GT' }] } }, /roles\.services\[0\]\.prefix: prefix must be 2–8 lower-case letters/],
  ['a duplicate prefix', { roles: { appSchema: 'public', services: [{ name: 'a', prefix: 'gt_' }, { name: 'b', prefix: 'gt_' }] } }, /roles\.services\[1\]\.prefix: duplicate prefix "gt_"/],
  ['an upper-case schema', { roles: { appSchema: 'Public', services: DEFAULT_SERVICES } }, /Invalid application schema "Public"/],
  ['the state schema as app schema', { roles: { appSchema: 'platform_roles', services: DEFAULT_SERVICES } }, /reserved/],
  ['a bad database name', { databaseName: 'my-db' }, /invalid databaseName "my-db"/],
  ['a bad port', { port: 0 }, /invalid port 0/],
])('rejects %s at synth', (_name, over, message) => {
  expect(() => build(over as Partial<RoleSchemaProps>)).toThrow(message);
});

describe('in the real app (shared synth)', () => {
  test.each(['dev', 'prod'])('%s/Data holds the role schema, connected to its own instance and master secret', (env) => {
    const t = template(env, 'Data');
    const [resource] = Object.values(t.findResources('Custom::RoleSchema'));
    expect(resource).toBeDefined();
    const instances = Object.keys(t.findResources('AWS::RDS::DBInstance', { Properties: { DBInstanceIdentifier: `${env}-postgres` } }));
    expect(instances).toHaveLength(1);
    expect(resource.Properties.DatabaseHost).toEqual({ 'Fn::GetAtt': [instances[0], 'Endpoint.Address'] });
    expect(resource.Properties.DatabasePort).toBe('6432');
    expect(JSON.stringify(resource.Properties.MasterSecretArn)).toMatch(/Postgres.*Secret/);
    // Login secrets are encrypted with the database's key.
    t.hasResourceProperties('AWS::SecretsManager::Secret', { Name: `platform/${env}/postgres/gtapp`, KmsKeyId: Match.anyValue() });
  });
});
