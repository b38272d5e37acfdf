import { ASSET_PLACEHOLDER, normalizeAssetHashes } from '../../../scripts/diff/asset-hashes';
import { diffStack, type ResourceChange } from '../../../scripts/diff/template-diff';
import type { Template } from '../../../scripts/diff/assembly';
import { clone, dataResources, stack } from './fixtures';

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);

const byId = (changes: readonly ResourceChange[], id: string) => changes.find((c) => c.logicalId === id);

describe('diffStack', () => {
  test('identical templates: no changes', () => {
    const d = diffStack(stack('dev/Data', dataResources()), stack('dev/Data', dataResources()));
    expect(d.status).toBe('unchanged');
    expect(d.resources).toEqual([]);
    expect(d.details).toBe('');
    expect(d.security.iamChanged).toBe(false);
  });

  test('a changed DBName replaces the instance and names the property; the path comes from aws:cdk:path', () => {
    const after = dataResources();
    after.DatabaseInstance.Properties!.DBName = 'platform2';
    const d = diffStack(stack('dev/Data', dataResources()), stack('dev/Data', after));
    const c = byId(d.resources, 'DatabaseInstance')!;
    expect(c).toMatchObject({
      kind: 'replaced',
      conditional: false,
      replacementCauses: ['DBName'],
      resourceType: 'AWS::RDS::DBInstance',
      path: 'dev/Data/Database/Instance/Resource',
      updateReplacePolicy: 'Snapshot',
    });
    expect(c.stateful).toMatch(/RDS DB instance/);
    // The replica refers to the primary, so the replacement propagates to it.
    expect(byId(d.resources, 'DatabaseReplica')?.kind).toBe('replaced');
    expect(d.details).toMatch(/DBName \(requires replacement\)/);
  });

  test.each([
    ['Fn::Join', { 'Fn::Join': ['', ['arn:aws:rds:ap-northeast-2:123456789012:db:', { Ref: 'DatabaseInstance' }]] }],
    ['Fn::Sub', { 'Fn::Sub': 'arn:aws:rds:${AWS::Region}:${AWS::AccountId}:db:${DatabaseInstance}' }],
    ['Fn::Sub with variables', { 'Fn::Sub': ['arn:aws:rds:${R}:db:${DatabaseInstance}', { R: { Ref: 'AWS::Region' } }] }],
    ['Fn::If', { 'Fn::If': ['Cond', { 'Fn::Join': [':', [{ 'Fn::GetAtt': ['DatabaseInstance', 'DbiResourceId'] }]] }, 'x'] }],
  ])('a replacement propagates through a reference nested in %s (a read replica of a renamed primary)', (_how, source) => {
    const before = dataResources();
    before.DatabaseReplica.Properties!.SourceDBInstanceIdentifier = source;
    const after = clone(before);
    after.DatabaseInstance.Properties!.DBInstanceIdentifier = 'renamed';
    const d = diffStack(stack('prod/Data', before), stack('prod/Data', after));
    expect(byId(d.resources, 'DatabaseInstance')?.kind).toBe('replaced');
    expect(byId(d.resources, 'DatabaseReplica')).toMatchObject({ kind: 'replaced', replacementCauses: ['SourceDBInstanceIdentifier'], stateful: expect.stringMatching(/read replica/) });
  });

  test('an unrelated nested reference is left alone', () => {
    const before = dataResources();
    before.DatabaseReplica.Properties!.SourceDBInstanceIdentifier = { 'Fn::Join': ['', ['arn:', { Ref: 'Other' }]] };
    const after = clone(before);
    after.DatabaseInstance.Properties!.DBInstanceIdentifier = 'renamed';
    const d = diffStack(stack('prod/Data', before), stack('prod/Data', after));
    expect(d.resources.map((r) => r.logicalId)).toEqual(['DatabaseInstance']);
  });

  test('a changed alarm threshold is an in-place update of a stateless resource', () => {
    const after = dataResources();
    after.CpuAlarm.Properties!.Threshold = 90;
    const d = diffStack(stack('dev/Data', dataResources()), stack('dev/Data', after));
    expect(d.resources).toEqual([expect.objectContaining({ logicalId: 'CpuAlarm', kind: 'updated', changed: ['Threshold'], stateful: undefined })]);
  });

  test('removals: destroyed by default, orphaned under DeletionPolicy Retain', () => {
    const after = dataResources();
    delete after.Cache;
    delete after.WorkerVolume;
    const d = diffStack(stack('dev/Data', dataResources()), stack('dev/Data', after));
    expect(byId(d.resources, 'Cache')).toMatchObject({ kind: 'destroyed', stateful: expect.stringMatching(/ElastiCache/) });
    expect(byId(d.resources, 'WorkerVolume')).toMatchObject({ kind: 'orphaned', deletionPolicy: 'Retain', stateful: expect.stringMatching(/EBS/) });
    // Destructive kinds sort first.
    expect(d.resources.map((r) => r.kind)).toEqual(['destroyed', 'orphaned']);
  });

  test('additions are "added" and judged by the new resource', () => {
    const after = { ...dataResources(), NewKey: { Type: 'AWS::KMS::Key', Properties: {} } };
    const d = diffStack(stack('dev/Data', dataResources()), stack('dev/Data', after));
    expect(d.resources).toEqual([expect.objectContaining({ logicalId: 'NewKey', kind: 'added', stateful: expect.stringMatching(/KMS/) })]);
  });

  test('a conditional replacement is marked as such', () => {
    // ElastiCache ReplicationGroup: changing the engine may replace the group (spec: causesReplacement "maybe")
    // or not; whatever the spec says, the kind and the conditional flag must agree with the impact.
    const before = { Cache: dataResources().Cache };
    const after = clone(before);
    after.Cache.Properties!.CacheNodeType = 'cache.r7g.large';
    const d = diffStack(stack('dev/Data', before), stack('dev/Data', after));
    const c = d.resources[0];
    expect(c.kind === 'updated' || (c.kind === 'replaced' && c.replacementCauses.includes('CacheNodeType'))).toBe(true);
  });

  test.each([
    ['PreferredMaintenanceWindow', 'mon:21:00-mon:21:30'],
    ['BackupRetentionPeriod', 30],
    ['MultiAZ', true],
  ])('RDS %s: the spec says "may replace", RDS changes it in place: an update, not a replacement', (prop, value) => {
    const after = dataResources();
    after.DatabaseInstance.Properties![prop] = value;
    const d = diffStack(stack('prod/Data', dataResources()), stack('prod/Data', after));
    expect(byId(d.resources, 'DatabaseInstance')).toMatchObject({ kind: 'updated', conditional: false, replacementCauses: [], inPlaceDespiteSpec: [prop] });
  });

  test('an in-place property next to a real conditional replacement still counts as a possible replacement', () => {
    const after = dataResources();
    after.DatabaseInstance.Properties!.PreferredMaintenanceWindow = 'mon:21:00-mon:21:30';
    after.DatabaseInstance.Properties!.AvailabilityZone = 'ap-northeast-2c';
    const d = diffStack(stack('prod/Data', dataResources()), stack('prod/Data', after));
    expect(byId(d.resources, 'DatabaseInstance')).toMatchObject({ kind: 'replaced', conditional: true });
    expect(byId(d.resources, 'DatabaseInstance')!.replacementCauses).toEqual(expect.arrayContaining(['AvailabilityZone', 'PreferredMaintenanceWindow']));
  });

  test('a changed resource type is a replacement caused by Type', () => {
    const before = { Thing: { Type: 'AWS::SNS::Topic', Properties: {} } };
    const after = { Thing: { Type: 'AWS::SQS::Queue', Properties: {} } };
    const d = diffStack(stack('dev/X', before), stack('dev/X', after));
    expect(d.resources[0]).toMatchObject({ kind: 'replaced', replacementCauses: ['Type'], resourceType: 'AWS::SQS::Queue' });
  });

  test('custom resources have no spec; a property change is still an update', () => {
    const before = { Roles: { Type: 'Custom::RoleSchema', Properties: { ServiceToken: 'arn', Services: ['gt'] } } };
    const after = clone(before);
    after.Roles.Properties.Services = ['gt', 'ag'];
    const d = diffStack(stack('dev/Data', before), stack('dev/Data', after));
    expect(d.resources).toEqual([expect.objectContaining({ logicalId: 'Roles', kind: 'updated', changed: ['Services'] })]);
  });

  test('asset-hash-only changes are suppressed and counted; a real change next to one is kept', () => {
    const fn = (hash: string, memory: number) => ({
      Type: 'AWS::Lambda::Function',
      Properties: { Code: { S3Bucket: 'assets', S3Key: `${hash}.zip` }, MemorySize: memory, Handler: 'index.handler' },
      Metadata: { 'aws:asset:path': `asset.${hash}`, 'aws:asset:property': 'Code' },
    });
    const before = { OnlyCode: fn(H1, 256), CodeAndMemory: fn(H1, 256) };
    const after = { OnlyCode: fn(H2, 256), CodeAndMemory: fn(H2, 512) };
    const d = diffStack(stack('dev/Obs', before), stack('dev/Obs', after), new Map([[H1, undefined], [H2, undefined]]));
    expect(d.assetOnly).toEqual(['OnlyCode']);
    expect(d.resources.map((r) => r.logicalId)).toEqual(['CodeAndMemory']);
    expect(d.resources[0].changed).toEqual(['MemorySize']);
    expect(d.status).toBe('changed');
    expect(d.details).not.toContain(H1);
  });

  test('asset hashes inside custom-resource properties (not asset-shaped) are suppressed when the manifest lists them', () => {
    const before = { Cr: { Type: 'Custom::X', Properties: { ServiceToken: 't', BundleHash: H1 } } };
    const after = { Cr: { Type: 'Custom::X', Properties: { ServiceToken: 't', BundleHash: H2 } } };
    expect(diffStack(stack('dev/A', before), stack('dev/A', after), new Map([[H1, undefined], [H2, undefined]])).assetOnly).toEqual(['Cr']);
    // Without the manifest the bare hash is a real change.
    expect(diffStack(stack('dev/A', before), stack('dev/A', after)).resources.map((r) => r.logicalId)).toEqual(['Cr']);
  });

  test('a bundle with a new hash but the same content (built elsewhere) is no change; new content is asset-only', () => {
    const fn = (hash: string) => ({ F: { Type: 'AWS::Lambda::Function', Properties: { Code: { S3Bucket: 'b', S3Key: `${hash}.zip` } }, Metadata: { 'aws:asset:path': `asset.${hash}` } } });
    const H3 = 'c'.repeat(64);
    const assets = new Map<string, string | undefined>([[H1, 'samecontent00001'], [H2, 'samecontent00001'], [H3, 'othercontent0002']]);
    const moved = diffStack(stack('dev/Obs', fn(H1)), stack('dev/Obs', fn(H2)), assets);
    expect(moved).toMatchObject({ status: 'unchanged', assetOnly: [], resources: [] });
    const rebuilt = diffStack(stack('dev/Obs', fn(H1)), stack('dev/Obs', fn(H3)), assets);
    expect(rebuilt).toMatchObject({ status: 'changed', assetOnly: ['F'], resources: [] });
  });

  test('AWS::CDK::Metadata changes are never reported', () => {
    const before = { CDKMetadata: { Type: 'AWS::CDK::Metadata', Properties: { Analytics: 'v2:deflate64:AAA' } } };
    const after = { CDKMetadata: { Type: 'AWS::CDK::Metadata', Properties: { Analytics: 'v2:deflate64:BBB' } } };
    const d = diffStack(stack('dev/A', before), stack('dev/A', after));
    expect(d.status).toBe('unchanged');
    expect(d.resources).toEqual([]);
  });

  test('a removed stack destroys or orphans everything in it', () => {
    const d = diffStack(stack('dev/Data', dataResources()), undefined);
    expect(d.status).toBe('removed');
    expect(byId(d.resources, 'DatabaseInstance')?.kind).toBe('destroyed');
    expect(byId(d.resources, 'DatabaseKey')?.kind).toBe('orphaned');
    expect(byId(d.resources, 'Topic')?.kind).toBe('destroyed');
  });

  test('an added stack adds everything in it', () => {
    const d = diffStack(undefined, stack('prod/Data', dataResources()));
    expect(d.status).toBe('added');
    expect(new Set(d.resources.map((r) => r.kind))).toEqual(new Set(['added']));
    expect(d.environment).toBe('prod');
    expect(d.stackId).toBe('Data');
  });

  test('IAM and security-group changes are reported, broadening flagged', () => {
    const before = {
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } }] } } },
      Sg: { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'db', SecurityGroupIngress: [] } },
    };
    const after = clone(before) as Record<string, { Type: string; Properties: Record<string, unknown> }>;
    after.Policy = { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'p', Roles: [{ Ref: 'Role' }], PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'rds:*', Resource: '*' }] } } };
    after.Sg.Properties.SecurityGroupIngress = [{ IpProtocol: 'tcp', FromPort: 6432, ToPort: 6432, CidrIp: '0.0.0.0/0' }];
    const d = diffStack(stack('dev/Data', before), stack('dev/Data', after));
    expect(d.security).toMatchObject({ iamChanged: true, iamBroadened: true, securityGroupsChanged: true, securityGroupRulesAdded: true });
    expect(d.security.iamStatements).toEqual([['+', '*', 'Allow', 'rds:*', 'AWS:${Role}', '']]);
    expect(d.security.securityGroupRules[0]).toEqual(['+', '${Sg.GroupId}', 'In', 'TCP 6432', 'Everyone (IPv4)']);
    // No ANSI colour codes leak into the report.
    expect(JSON.stringify(d)).not.toMatch(/\\u001b\[/);
  });

  test('outputs and parameters show up as other changes', () => {
    const before = { Resources: { T: { Type: 'AWS::SNS::Topic' } }, Outputs: { A: { Value: 'x' } } };
    const after = { Resources: { T: { Type: 'AWS::SNS::Topic' } }, Outputs: { A: { Value: 'y' }, B: { Value: 'z' } } };
    const s = (t: Template) => ({ ...stack('dev/A', {}), template: t });
    const d = diffStack(s(before), s(after));
    expect(d.otherChanges).toEqual(['Outputs: A (updated)', 'Outputs: B (added)']);
    expect(d.status).toBe('changed');
  });
});

describe('normalizeAssetHashes', () => {
  test('replaces known hashes and asset-shaped ones, leaves other hex alone, does not mutate', () => {
    const sha = 'c'.repeat(64);
    const t = { Resources: { F: { Type: 'X', Properties: { A: `${H1}.zip`, B: `asset.${H2}`, C: H1, D: sha, E: [`s3://b/${sha}.json`] } } } };
    const before = clone(t);
    const n = normalizeAssetHashes(t, new Map([[H1, undefined]]), false) as typeof t;
    expect(n.Resources.F.Properties).toEqual({
      A: `${ASSET_PLACEHOLDER}.zip`,
      B: `asset.${ASSET_PLACEHOLDER}`,
      C: ASSET_PLACEHOLDER,
      D: sha,
      E: [`s3://b/${ASSET_PLACEHOLDER}.json`],
    });
    expect(t).toEqual(before);
  });

  test('by content: a fingerprinted hash becomes its fingerprint, any other hash stays', () => {
    const t = { Resources: { F: { Type: 'X', Properties: { A: `${H1}.zip`, B: `asset.${H2}` } } } };
    const n = normalizeAssetHashes(t, new Map([[H1, 'fp01'], [H2, undefined]]), true) as typeof t;
    expect(n.Resources.F.Properties).toEqual({ A: '<asset:fp01>.zip', B: `asset.${H2}` });
  });
});
