/**
 * The foundation as synthesized by the real app: prod is production-grade, dev is the cheap
 * profile. Reads the shared assembly (one synth per jest run).
 */
import { Match } from 'aws-cdk-lib/assertions';
import { stacksOf, template, templateJson } from '../support/assembly';

const resourcesOf = (env: string, stack: string, type: string) =>
  Object.entries(templateJson(env, stack).Resources as Record<string, any>).filter(([, r]) => r.Type === type);

describe('stages and stacks', () => {
  test.each(['dev', 'staging', 'prod'])('%s has its own Stage whose stack names carry the environment', (env) => {
    const stacks = stacksOf(env);
    expect(stacks.map((s) => s.displayName)).toEqual(expect.arrayContaining([`${env}/Network`, `${env}/Alerting`, `${env}/Data`, `${env}/Observability`]));
    for (const s of stacks) expect(s.stackName.startsWith(`${env}-`)).toBe(true);
  });

  test('only the prod Data stack has termination protection', () => {
    const protectedStacks = ['dev', 'staging', 'prod'].flatMap((e) => stacksOf(e).filter((s) => s.terminationProtection).map((s) => s.displayName));
    expect(protectedStacks).toEqual(['prod/Data']);
  });
});

describe('network', () => {
  test.each([
    ['dev', 2, 0, 1],
    ['staging', 2, 1, 0],
    ['prod', 3, 3, 0],
  ])('%s spans %d AZs with %d NAT gateway(s) and %d NAT instance(s)', (env, azs, gateways, instances) => {
    const t = template(env, 'Network');
    t.resourceCountIs('AWS::EC2::NatGateway', gateways);
    expect(resourcesOf(env, 'Network', 'AWS::EC2::Instance')).toHaveLength(instances);
    // public + app + data subnet per AZ
    t.resourceCountIs('AWS::EC2::Subnet', azs * 3);
  });

  test.each(['dev', 'prod'])('%s public subnets do not auto-assign public IPs', (env) => {
    for (const [, s] of resourcesOf(env, 'Network', 'AWS::EC2::Subnet')) {
      expect(s.Properties.MapPublicIpOnLaunch ?? false).toBe(false);
    }
  });

  test("dev's NAT instance (network.nat = 'instance'): public IP, encrypted root, IMDSv2, inbound from the VPC only", () => {
    const [[, nat]] = resourcesOf('dev', 'Network', 'AWS::EC2::Instance');
    expect(nat.Properties.SourceDestCheck).toBe(false);
    expect(nat.Properties.NetworkInterfaces?.[0]?.AssociatePublicIpAddress ?? nat.Properties.AssociatePublicIpAddress).toBe(true);
    expect(nat.Properties.BlockDeviceMappings).toEqual([expect.objectContaining({ Ebs: expect.objectContaining({ Encrypted: true, VolumeType: 'gp3' }) })]);
    expect(nat.Properties.MetadataOptions).toMatchObject({ HttpTokens: 'required' });
    const natGroups = resourcesOf('dev', 'Network', 'AWS::EC2::SecurityGroup').filter(([id]) => /Nat/.test(id));
    expect(natGroups).toHaveLength(1);
    const ingress = [
      ...(natGroups[0][1].Properties.SecurityGroupIngress ?? []),
      ...resourcesOf('dev', 'Network', 'AWS::EC2::SecurityGroupIngress').filter(([, r]) => JSON.stringify(r.Properties.GroupId).includes(natGroups[0][0])).map(([, r]) => r.Properties),
    ];
    expect(ingress.length).toBeGreaterThan(0);
    for (const rule of ingress) expect(rule.CidrIp).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/Vpc/), 'CidrBlock'] });
  });

  test.each(['staging', 'prod'])('%s has interface endpoints for Secrets Manager, CloudWatch, Logs, SSM and KMS', (env) => {
    const services = resourcesOf(env, 'Network', 'AWS::EC2::VPCEndpoint')
      .filter(([, e]) => e.Properties.VpcEndpointType === 'Interface')
      .map(([, e]) => JSON.stringify(e.Properties.ServiceName).match(/\.([a-z]+)"\]\]\}$|com\.amazonaws\.[^.]+\.([a-z]+)/)?.slice(1).find(Boolean));
    expect(services.sort()).toEqual(['kms', 'logs', 'monitoring', 'secretsmanager', 'ssm']);
  });

  test('interface endpoints: every AZ in prod, one in staging, none in dev (network.interfaceEndpoints); the S3 gateway endpoint everywhere', () => {
    const interfaces = (env: string) => resourcesOf(env, 'Network', 'AWS::EC2::VPCEndpoint').filter(([, e]) => e.Properties.VpcEndpointType === 'Interface');
    expect(interfaces('prod')[0][1].Properties.SubnetIds).toHaveLength(3);
    expect(interfaces('staging')[0][1].Properties.SubnetIds).toHaveLength(1);
    expect(interfaces('dev')).toHaveLength(0);
    for (const env of ['dev', 'staging', 'prod']) {
      expect(resourcesOf(env, 'Network', 'AWS::EC2::VPCEndpoint').filter(([, e]) => e.Properties.VpcEndpointType === 'Gateway')).toHaveLength(1);
    }
  });

  test.each(['dev', 'prod'])('%s VPC has flow logs of all traffic', (env) => {
    template(env, 'Network').hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', ResourceType: 'VPC' });
  });
});

describe('PostgreSQL', () => {
  const primary = (env: string) => resourcesOf(env, 'Data', 'AWS::RDS::DBInstance').find(([, r]) => !r.Properties.SourceDBInstanceIdentifier)![1];

  test.each(['dev', 'prod'])('%s: PostgreSQL 16, CMK-encrypted gp3 with autoscaling, PI, logs, IAM auth, non-default port', (env) => {
    const p = primary(env).Properties;
    expect(p.Engine).toBe('postgres');
    expect(p.EngineVersion).toMatch(/^16\.\d+$/);
    expect(p.StorageEncrypted).toBe(true);
    expect(p.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^PostgresKey/), 'Arn'] });
    expect(p.StorageType).toBe('gp3');
    expect(p.MaxAllocatedStorage).toBeGreaterThan(Number(p.AllocatedStorage));
    expect(p.EnablePerformanceInsights).toBe(true);
    expect(p.EnableCloudwatchLogsExports).toEqual(['postgresql', 'upgrade']);
    expect(p.EnableIAMDatabaseAuthentication).toBe(true);
    expect(p.Port).not.toBe('5432');
    expect(p.PubliclyAccessible).toBe(false);
  });

  test.each([
    ['dev', 60, 7, false, false],
    ['prod', 15, 30, true, true],
  ])('%s: monitoring %d s, backups %d days, Multi-AZ %s, deletion protection %s', (env, interval, retention, multiAz, protection) => {
    const p = primary(env).Properties;
    expect(p.MonitoringInterval).toBe(interval);
    expect(p.BackupRetentionPeriod).toBe(retention);
    expect(p.MultiAZ).toBe(multiAz);
    expect(p.DeletionProtection).toBe(protection);
  });

  test.each(['dev', 'prod'])('%s: deleting or replacing the primary leaves a snapshot', (env) => {
    expect(primary(env).DeletionPolicy).toBe('Snapshot');
    expect(primary(env).UpdateReplacePolicy).toBe('Snapshot');
  });

  test('prod has a read replica of the primary; dev has none', () => {
    const replicas = (env: string) => resourcesOf(env, 'Data', 'AWS::RDS::DBInstance').filter(([, r]) => r.Properties.SourceDBInstanceIdentifier);
    expect(replicas('dev')).toHaveLength(0);
    expect(replicas('prod')).toHaveLength(1);
    const [, replica] = replicas('prod')[0];
    expect(JSON.stringify(replica.Properties.SourceDBInstanceIdentifier)).toContain('PostgresPrimary');
    expect(replica.Properties.EnablePerformanceInsights).toBe(true);
  });

  test('the parameter group sets SSL, pg_stat_statements, I/O timing and the logging knobs', () => {
    template('prod', 'Data').hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'postgres16',
      Parameters: {
        'rds.force_ssl': '1',
        shared_preload_libraries: Match.stringLikeRegexp('pg_stat_statements'),
        'pg_stat_statements.track': 'all',
        'pg_stat_statements.track_utility': '0',
        log_parameter_max_length: '0',
        log_parameter_max_length_on_error: '0',
        track_io_timing: '1',
        log_min_duration_statement: '500',
        log_lock_waits: '1',
        idle_in_transaction_session_timeout: '600000',
      },
    });
  });

  test('the master secret is CMK-encrypted and rotated', () => {
    const t = template('prod', 'Data');
    t.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'platform/prod/postgres/master', KmsKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(30 days)' } });
  });

  test('the database key rotates and is retained', () => {
    const keys = resourcesOf('prod', 'Data', 'AWS::KMS::Key').filter(([id]) => id.startsWith('PostgresKey'));
    expect(keys).toHaveLength(1);
    expect(keys[0][1].Properties.EnableKeyRotation).toBe(true);
    expect(keys[0][1].DeletionPolicy).toBe('Retain');
  });

  test('only the workers, in-VPC functions and the rotation function may reach the database', () => {
    const ingress = resourcesOf('prod', 'Data', 'AWS::EC2::SecurityGroupIngress').filter(([, r]) =>
      JSON.stringify(r.Properties.GroupId).includes('PostgresSecurityGroup'),
    );
    const sources = ingress.map(([, r]) => JSON.stringify(r.Properties.SourceSecurityGroupId));
    expect(sources.some((s) => /Workers/.test(s))).toBe(true);
    expect(sources.some((s) => /DbClients/.test(s))).toBe(true);
    for (const s of sources) expect(s).toMatch(/Workers|DbClients|Rotation/);
    for (const [, r] of ingress) expect(r.Properties.CidrIp).toBeUndefined();
  });
});

describe('cache', () => {
  const group = (env: string) => resourcesOf(env, 'Data', 'AWS::ElastiCache::ReplicationGroup')[0][1];

  test.each(['dev', 'prod'])('%s: KMS at rest, TLS required, RBAC user group instead of an AUTH token', (env) => {
    const p = group(env).Properties;
    expect(p.AtRestEncryptionEnabled).toBe(true);
    expect(p.KmsKeyId).toBeDefined();
    expect(p.TransitEncryptionEnabled).toBe(true);
    expect(p.TransitEncryptionMode).toBe('required');
    expect(p.AuthToken).toBeUndefined();
    expect(JSON.stringify(p.UserGroupIds)).toMatch(/CacheUsersGroup/);
    expect(p.SnapshotRetentionLimit).toBeGreaterThan(0);
  });

  test('prod fails over automatically across AZs; dev is one node', () => {
    expect(group('prod').Properties).toMatchObject({ AutomaticFailoverEnabled: true, MultiAZEnabled: true, ReplicasPerNodeGroup: 1 });
    expect(group('dev').Properties).toMatchObject({ AutomaticFailoverEnabled: false, MultiAZEnabled: false, ReplicasPerNodeGroup: 0 });
  });

  test('maxmemory-policy suits TTL\'d progress keys', () => {
    template('prod', 'Data').hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: 'redis7',
      Properties: { 'maxmemory-policy': 'volatile-ttl' },
    });
  });

  test('the subnet group uses the isolated data subnets only', () => {
    const [, sg] = resourcesOf('prod', 'Data', 'AWS::ElastiCache::SubnetGroup')[0];
    expect(JSON.stringify(sg.Properties.SubnetIds)).toMatch(/dataSubnet/);
    expect(JSON.stringify(sg.Properties.SubnetIds)).not.toMatch(/appSubnet|publicSubnet/);
  });

  test('only the workers may connect to the cache', () => {
    const ingress = resourcesOf('prod', 'Data', 'AWS::EC2::SecurityGroupIngress').filter(([, r]) => JSON.stringify(r.Properties.GroupId).includes('CacheSecurityGroup'));
    expect(ingress).toHaveLength(1);
    expect(JSON.stringify(ingress[0][1].Properties.SourceSecurityGroupId)).toMatch(/Workers/);
  });
});

describe('no secret in any template', () => {
  test.each(['dev', 'staging', 'prod'])('%s templates hold references, never secret values', (env) => {
    for (const s of stacksOf(env)) {
      const text = JSON.stringify(templateJson(env, s.displayName.split('/')[1]));
      expect(text).not.toMatch(/"(MasterUserPassword|AuthToken|Password)":\s*"[^{]/);
      expect(text).not.toMatch(/hooks\.slack\.com/);
    }
  });
});
