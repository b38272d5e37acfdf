import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { WorkerDataVolumes, type WorkerDataVolumesProps } from '../../../lib/constructs/workers/worker-data-volumes';

function build(overrides: Partial<WorkerDataVolumesProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'ap-northeast-2' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-1',
    availabilityZones: ['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c'],
    privateSubnetIds: ['subnet-a', 'subnet-b', 'subnet-c'],
    privateSubnetNames: ['app'],
  });
  const volumes = new WorkerDataVolumes(stack, 'Volumes', { envName: 'prod', vpc, count: 2, sizeGiB: 100, ...overrides });
  return { volumes, t: Template.fromStack(stack) };
}

describe('WorkerDataVolumes', () => {
  test('one encrypted gp3 volume per worker, with the customer-managed key, retained on delete and on replace', () => {
    const { t } = build();
    const volumes = t.findResources('AWS::EC2::Volume');
    expect(Object.keys(volumes)).toHaveLength(2);
    for (const v of Object.values(volumes)) {
      expect(v.DeletionPolicy).toBe('Retain');
      expect(v.UpdateReplacePolicy).toBe('Retain');
      expect(v.Properties).toMatchObject({ Encrypted: true, VolumeType: 'gp3', Size: 100, MultiAttachEnabled: false });
      expect(v.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^VolumesKey/), 'Arn'] });
    }
    t.hasResource('AWS::KMS::Key', { Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain' });
  });

  test('volumes go round-robin over the app subnets, so each worker gets its own AZ', () => {
    const { volumes } = build({ count: 4 });
    expect(volumes.volumes.map((v) => v.availabilityZone)).toEqual(['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c', 'ap-northeast-2a']);
  });

  test('tagged for the snapshot policy and with the worker slot; a parameter per slot holds the ID', () => {
    const { t, volumes } = build();
    t.hasResourceProperties('AWS::EC2::Volume', {
      Tags: Match.arrayWith([
        { Key: 'platform:snapshot-policy', Value: 'prod-worker-data' },
        { Key: 'platform:worker-slot', Value: 'prod-worker-1' },
      ]),
    });
    t.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/platform/prod/workers/1/data-volume-id',
      Value: { Ref: Match.stringLikeRegexp('^VolumesVolume1') },
    });
    expect(volumes.volumes.map((v) => v.slot)).toEqual(['prod-worker-0', 'prod-worker-1']);
  });

  test('SNAPSHOT is accepted; DESTROY is refused because the volumes hold data', () => {
    const { t } = build({ removalPolicy: RemovalPolicy.SNAPSHOT });
    for (const v of Object.values(t.findResources('AWS::EC2::Volume'))) expect(v.DeletionPolicy).toBe('Snapshot');
    expect(() => build({ removalPolicy: RemovalPolicy.DESTROY })).toThrow(/RETAIN or SNAPSHOT.*got destroy/);
  });

  test('a restore creates the slot volume from the snapshot under a new logical ID and repoints the parameter', () => {
    const before = build().t.toJSON();
    const { t } = build({ restoreSnapshotIds: { 1: 'snap-0123456789abcdef0' } });
    const after = t.toJSON();
    const ids = (j: any) => Object.keys(j.Resources).filter((k) => j.Resources[k].Type === 'AWS::EC2::Volume').sort();
    const gone = ids(before).filter((id) => !ids(after).includes(id));
    const added = ids(after).filter((id) => !ids(before).includes(id));
    expect(gone).toEqual([expect.stringMatching(/^VolumesVolume1[0-9A-F]{8}$/)]);
    expect(added).toEqual([expect.stringMatching(/^VolumesVolume1Fromsnap0123456789abcdef0/)]);
    // The retired volume leaves the template with DeletionPolicy Retain: CloudFormation keeps it.
    expect(before.Resources[gone[0]].DeletionPolicy).toBe('Retain');
    expect(after.Resources[added[0]].Properties.SnapshotId).toBe('snap-0123456789abcdef0');
    t.hasResourceProperties('AWS::SSM::Parameter', { Name: '/platform/prod/workers/1/data-volume-id', Value: { Ref: added[0] } });
  });

  test.each([
    [{ count: -1 }, /count must be a non-negative integer, got -1/],
    [{ restoreSnapshotIds: { 2: 'snap-0123456789abcdef0' } }, /names worker 2, but there are 2 workers/],
    [{ restoreSnapshotIds: { 0: 'vol-0123' } }, /must be a snapshot ID.*got "vol-0123"/],
  ] as [Partial<WorkerDataVolumesProps>, RegExp][])('rejects %j', (overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
  });
});
