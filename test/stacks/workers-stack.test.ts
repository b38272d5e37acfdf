/**
 * The Workers stack on the real Network stack and the worker volumes as the Data stack holds them
 * (test/constructs/workers/harness.ts), plus the replacement-safety diff with
 * @aws-cdk/cloudformation-diff.
 */
import * as fs from 'node:fs';
import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { MOUNT_SCRIPT_PATH } from '../../lib/constructs/workers/worker-user-data';
import { buildHarness, configFor, type Harness } from '../constructs/workers/harness';
import { template, templateJson } from '../support/assembly';

type Json = Record<string, any>;

function resourcesOf(t: Json, type: string): [string, Json][] {
  return Object.entries(t.Resources as Record<string, Json>).filter(([, r]) => r.Type === type);
}

/** The user data of an instance as one string (Fn::Join parts; tokens rendered as JSON). */
function userDataText(instance: Json): string {
  const join = instance.Properties.UserData['Fn::Base64']['Fn::Join'][1] as unknown[];
  return join.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
}

describe('WorkersStack (prod profile)', () => {
  let h: Harness;
  let workers: Json;
  let data: Json;
  let network: Json;
  beforeAll(() => {
    h = buildHarness(configFor('prod'), { nag: true });
    const asm = h.app.synth(); // cdk-nag runs here: an unacknowledged finding throws
    workers = asm.getStackByName('Workers').template;
    data = asm.getStackByName('Data').template;
    network = asm.getStackByName('Network').template;
  });

  test('one Graviton instance per configured worker, in the app subnets, with no key pair', () => {
    const instances = resourcesOf(workers, 'AWS::EC2::Instance');
    expect(instances).toHaveLength(h.config.workers.count);
    for (const [, i] of instances) {
      expect(i.Properties.InstanceType).toBe(h.config.workers.instanceType);
      expect(i.Properties.KeyName).toBeUndefined();
      expect(i.Properties.NetworkInterfaces[0].AssociatePublicIpAddress).toBe(false);
      expect(JSON.stringify(i.Properties.NetworkInterfaces[0].SubnetId)).toMatch(/appSubnet/);
    }
  });

  test('IMDSv2 is required, with a hop limit of 1', () => {
    Template.fromJSON(workers).allResourcesProperties('AWS::EC2::Instance', {
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
    });
  });

  test('the AMI is the Amazon Linux 2023 arm64 public parameter (no lookup at synth)', () => {
    const params = Object.values(workers.Parameters as Record<string, Json>).map((p) => p.Default);
    expect(params).toContain('/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64');
  });

  test('no SSH, no ingress at all: the worker group has no ingress rule in any stack', () => {
    const sg = resourcesOf(network, 'AWS::EC2::SecurityGroup').find(([id]) => /Workers/.test(id));
    expect(sg).toBeDefined();
    const [sgId, sgRes] = sg!;
    expect(sgRes.Properties.SecurityGroupIngress ?? []).toEqual([]);
    for (const t of [workers, data, network]) {
      for (const [, r] of resourcesOf(t, 'AWS::EC2::SecurityGroupIngress')) {
        expect(JSON.stringify(r.Properties.GroupId)).not.toContain(sgId);
        expect(r.Properties.FromPort === 22 || r.Properties.ToPort === 22).toBe(false);
      }
    }
    expect(resourcesOf(workers, 'AWS::EC2::SecurityGroup')).toHaveLength(0);
  });

  test('each instance is in the AZ of its own volume', () => {
    const volumes = resourcesOf(data, 'AWS::EC2::Volume');
    const instances = resourcesOf(workers, 'AWS::EC2::Instance');
    const slotOf = (r: Json) => (r.Properties.Tags as { Key: string; Value: string }[]).find((t) => t.Key === 'platform:worker-slot')!.Value;
    for (const [, inst] of instances) {
      const vol = volumes.find(([, v]) => slotOf(v) === slotOf(inst));
      expect(vol).toBeDefined();
      expect(inst.Properties.AvailabilityZone).toEqual(vol![1].Properties.AvailabilityZone);
    }
    // Round-robin over the app subnets: two workers, two different AZs.
    const azs = instances.map(([, i]) => JSON.stringify(i.Properties.AvailabilityZone));
    expect(new Set(azs).size).toBe(instances.length);
  });

  test('user data installs the checked script verbatim and points it at the slot parameter', () => {
    const script = fs.readFileSync(MOUNT_SCRIPT_PATH, 'utf8').replace(/\n$/, '');
    for (const [, inst] of resourcesOf(workers, 'AWS::EC2::Instance')) {
      const text = userDataText(inst);
      expect(text).toContain(script);
      expect(text).toMatch(/VOLUME_ID_PARAMETER=\/platform\/prod\/workers\/\d\/data-volume-id/);
      expect(text).toContain('systemctl enable platform-data-volume.service');
      expect(text).toContain('amazon-cloudwatch-agent-ctl -a fetch-config');
      expect(text).toContain('"mem_used_percent"');
      expect(text).toMatch(/"resources": \[\s*"\/",\s*"\/data"\s*\]/);
    }
  });

  test('instance roles: SSM core, agent metrics, and attach only to itself its own slot-tagged volume', () => {
    const policies = resourcesOf(workers, 'AWS::IAM::Policy').filter(([id]) => /Worker\dRole/.test(id));
    expect(policies).toHaveLength(h.config.workers.count);
    for (const [, p] of policies) {
      const statements = p.Properties.PolicyDocument.Statement as Json[];
      const actions = statements.flatMap((s) => [s.Action].flat());
      expect(actions.sort()).toEqual(['cloudwatch:PutMetricData', 'ec2:AttachVolume', 'ec2:DescribeVolumes', 'kms:CreateGrant', 'ssm:GetParameter']);
      const attach = statements.find((s) => s.Action === 'ec2:AttachVolume')!;
      expect(attach.Condition.StringEquals['aws:ResourceTag/platform:worker-slot']).toMatch(/^prod-worker-\d$/);
      const put = statements.find((s) => s.Action === 'cloudwatch:PutMetricData')!;
      expect(put.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'CWAgent' } });
      expect(statements.find((s) => s.Action === 'kms:CreateGrant')!.Condition.Bool).toEqual({ 'kms:GrantIsForAWSResource': true });
    }
    for (const [, role] of resourcesOf(workers, 'AWS::IAM::Role').filter(([id]) => /Worker\dRole/.test(id))) {
      expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('AmazonSSMManagedInstanceCore');
      expect(role.Properties.ManagedPolicyArns).toHaveLength(1);
    }
  });

  test('StatusCheckFailed_System recovers each instance and reports ALARM and OK to the critical topic', () => {
    const t = Template.fromJSON(workers);
    const alarms = t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'StatusCheckFailed_System' } });
    expect(Object.keys(alarms)).toHaveLength(h.config.workers.count);
    for (const a of Object.values(alarms) as Json[]) {
      const actions = JSON.stringify(a.Properties.AlarmActions);
      expect(actions).toContain(':ec2:recover');
      expect(actions).toMatch(/TopicsCritical/);
      expect(JSON.stringify(a.Properties.OKActions)).toMatch(/TopicsCritical/);
      expect(a.Properties.Namespace).toBe('AWS/EC2');
    }
  });

  test('disk_used_percent on /data alarms at the configured threshold, per instance', () => {
    Template.fromJSON(workers).resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      {
        Namespace: 'CWAgent',
        MetricName: 'disk_used_percent',
        Threshold: h.config.alarms.workerDiskPercent,
        Dimensions: Match.arrayWith([{ Name: 'path', Value: '/data' }]),
        AlarmActions: [Match.objectLike({ 'Fn::ImportValue': Match.stringLikeRegexp('TopicsCritical') })],
        OKActions: [Match.objectLike({ 'Fn::ImportValue': Match.stringLikeRegexp('TopicsCritical') })],
      },
      h.config.workers.count,
    );
  });

  test('every alarm has both an ALARM and an OK notification', () => {
    for (const [, a] of resourcesOf(workers, 'AWS::CloudWatch::Alarm')) {
      expect(JSON.stringify(a.Properties.AlarmActions)).toMatch(/Topics/);
      expect(JSON.stringify(a.Properties.OKActions)).toMatch(/Topics/);
    }
  });

  test('DLM snapshots the tagged volumes hourly (a day kept) and daily', () => {
    const w = h.config.workers;
    Template.fromJSON(workers).hasResourceProperties('AWS::DLM::LifecyclePolicy', {
      State: 'ENABLED',
      PolicyDetails: {
        PolicyType: 'EBS_SNAPSHOT_MANAGEMENT',
        ResourceTypes: ['VOLUME'],
        TargetTags: [{ Key: 'platform:snapshot-policy', Value: 'prod-worker-data' }],
        Schedules: [
          Match.objectLike({ CreateRule: { Interval: w.snapshotIntervalHours, IntervalUnit: 'HOURS' }, RetainRule: { Count: w.snapshotsRetained }, CopyTags: true }),
          Match.objectLike({ CreateRule: { Interval: 24, IntervalUnit: 'HOURS', Times: ['17:00'] }, RetainRule: { Count: w.dailySnapshotsRetained } }),
        ],
      },
    });
    // The volumes it targets carry that tag.
    for (const [, v] of resourcesOf(data, 'AWS::EC2::Volume')) {
      expect(v.Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'platform:snapshot-policy', Value: 'prod-worker-data' }]));
    }
  });

  test('EBS snapshot failures and DLM policy errors go to the warning topic', () => {
    const t = Template.fromJSON(workers);
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.ec2'], 'detail-type': ['EBS Snapshot Notification', 'EBS Multi-Volume Snapshots Completion Status'], detail: { result: ['failed'] } },
      Targets: [Match.objectLike({ Arn: { 'Fn::ImportValue': Match.stringLikeRegexp('TopicsWarning') } })],
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['aws.dlm'], detail: { state: ['ERROR'] } }),
    });
    const pattern = h.workers.fleet.snapshotPolicy.snapshotFailurePattern;
    expect(pattern.detailType).toEqual(['EBS Snapshot Notification', 'EBS Multi-Volume Snapshots Completion Status']);
  });

  test('the only thing the Workers stack imports from the Data stack is the volume key ARN', () => {
    const imports = JSON.stringify(workers).match(/"Fn::ImportValue":"Data:[^"]+"/g) ?? [];
    expect(new Set(imports).size).toBe(1);
    expect(imports[0]).toMatch(/WorkerVolumesKey/);
  });
});

describe('WorkersStack validation', () => {
  test('a non-Graviton instance type is refused', () => {
    const config = configFor('dev');
    const bad = { ...config, workers: { ...config.workers, instanceType: 't3.medium' } };
    expect(() => buildHarness(bad)).toThrow(/Graviton.*t3\.medium/);
  });

  test('volumes must match workers.count', () => {
    const config = configFor('dev');
    expect(() => buildHarness({ ...config, workers: { ...config.workers, count: 2 } }, { workersProps: { volumes: [] } })).toThrow(
      /0 volumes for workers.count = 2/,
    );
  });

  test('no alert topics: the recover action stays, notifications are left out', () => {
    const h = buildHarness(configFor('dev'), { workersProps: { alertTopics: undefined } });
    const t = Template.fromStack(h.workers);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'StatusCheckFailed_System',
      AlarmActions: [{ 'Fn::Join': ['', Match.arrayWith([':ec2:recover'])] }],
    });
    t.resourceCountIs('AWS::Events::Rule', 0);
  });
});

/**
 * Replacing a worker must never replace or delete its data. Synthesizes the same environment twice
 * with one input changed and diffs the templates offline with @aws-cdk/cloudformation-diff.
 */
describe('replacing a worker leaves its volume alone (cloudformation-diff)', () => {
  // Two AMI sources: the instance's ImageId refers to a different template parameter.
  const amiA = ec2.MachineImage.fromSsmParameter('/platform/test/worker-ami-a');
  const amiB = ec2.MachineImage.fromSsmParameter('/platform/test/worker-ami-b');

  function synth(instanceType: string, image: ec2.IMachineImage) {
    const base = configFor('prod');
    const h = buildHarness({ ...base, workers: { ...base.workers, instanceType } }, { workersProps: { machineImage: image } });
    const asm = h.app.synth();
    return { data: asm.getStackByName('Data').template, workers: asm.getStackByName('Workers').template };
  }

  const cases: [string, ReturnType<typeof synth>, ReturnType<typeof synth>][] = [];
  beforeAll(() => {
    const before = synth('c7g.large', amiA);
    cases.push(['instance type c7g.large -> m7g.xlarge', before, synth('m7g.xlarge', amiA)]);
    cases.push(['AMI change', before, synth('c7g.large', amiB)]);
  });

  test.each([0, 1])('case %i: the Workers stack does change (the comparison is not vacuous)', (n) => {
    const [, a, b] = cases[n];
    expect(fullDiff(a.workers, b.workers).resources.differenceCount).toBeGreaterThan(0);
  });

  test.each([0, 1])('case %i: the Data stack (volumes, key, parameters) does not change at all', (n) => {
    const [, a, b] = cases[n];
    const diff = fullDiff(a.data, b.data);
    expect(diff.differenceCount).toBe(0);
  });

  /** Change impact of every volume of the first template, in the diff to the second. */
  function volumeImpacts(a: Json, b: Json): Record<string, ResourceImpact> {
    const diff = fullDiff(a, b);
    const out: Record<string, ResourceImpact> = {};
    const changed = new Set(diff.resources.logicalIds);
    for (const [id] of resourcesOf(a, 'AWS::EC2::Volume')) {
      // Only differences are listed; a volume that is not listed is untouched.
      out[id] = changed.has(id) ? diff.resources.get(id).changeImpact : ResourceImpact.NO_CHANGE;
    }
    return out;
  }

  test.each([0, 1])('case %i: no volume is replaced or destroyed', (n) => {
    const [, a, b] = cases[n];
    const impacts = volumeImpacts(a.data, b.data);
    expect(Object.keys(impacts)).toHaveLength(2);
    for (const impact of Object.values(impacts)) {
      expect([ResourceImpact.WILL_REPLACE, ResourceImpact.WILL_DESTROY, ResourceImpact.MAY_REPLACE]).not.toContain(impact);
    }
    expect(resourcesOf(b.workers, 'AWS::EC2::Volume')).toHaveLength(0);
  });

  test('the same check sees a real volume change: growing the volume is an in-place update', () => {
    const base = configFor('prod');
    const grown = buildHarness({ ...base, workers: { ...base.workers, dataVolumeGiB: base.workers.dataVolumeGiB * 2 } }, { workersProps: { machineImage: amiA } });
    const [, a] = cases[0];
    const impacts = volumeImpacts(a.data, grown.app.synth().getStackByName('Data').template);
    expect(Object.values(impacts)).toEqual([ResourceImpact.WILL_UPDATE, ResourceImpact.WILL_UPDATE]);
  });

  test('an AMI change replaces the instances (and only them): the boot script re-attaches the volume', () => {
    const [, a, b] = cases[1];
    const diff = fullDiff(a.workers, b.workers);
    const impacts: Record<string, string> = {};
    diff.resources.forEachDifference((id, change) => {
      impacts[`${change.resourceType} ${id}`] = change.changeImpact;
    });
    const instances = Object.entries(impacts).filter(([k]) => k.startsWith('AWS::EC2::Instance'));
    expect(instances).toHaveLength(2);
    for (const [, impact] of instances) expect(impact).toBe(ResourceImpact.WILL_REPLACE);
    // Nothing stateful is in the stack to be hit: no volume, no attachment resource.
    expect(Object.keys(impacts).some((k) => /AWS::EC2::(Volume|VolumeAttachment) /.test(k))).toBe(false);
  });

  test('an instance type change updates the instances in place (stop/start keeps the attachment)', () => {
    const [, a, b] = cases[0];
    const diff = fullDiff(a.workers, b.workers);
    diff.resources.forEachDifference((_id, change) => {
      if (change.resourceType === 'AWS::EC2::Instance') {
        expect(Object.keys(change.propertyUpdates)).toEqual(['InstanceType']);
        // The service spec says "may replace" (EBS-backed instances are stopped and started).
        expect([ResourceImpact.WILL_UPDATE, ResourceImpact.MAY_REPLACE]).toContain(change.changeImpact);
      }
    });
  });

  test('why no AWS::EC2::VolumeAttachment: it is replaced with the instance, attaching before the old one lets go', () => {
    // The design we did not take, diffed the same way. A replaced instance is a new physical ID
    // (here a new logical ID, as userDataCausesReplacement does), so the attachment that names it
    // must be replaced too; CloudFormation creates the new attachment before it deletes the old
    // one and terminates the old instance, and EC2 answers VolumeInUse.
    function withAttachment(instanceId: string): Json {
      const app = new App();
      const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'us-east-1' } });
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'a', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
      const instance = new ec2.Instance(stack, instanceId, { vpc, instanceType: new ec2.InstanceType('t4g.micro'), machineImage: amiA });
      const volume = new ec2.CfnVolume(stack, 'V', { availabilityZone: 'us-east-1a', size: 1 });
      new ec2.CfnVolumeAttachment(stack, 'A', { instanceId: instance.instanceId, volumeId: volume.ref, device: '/dev/sdf' });
      return app.synth().getStackByName('S').template;
    }
    const diff = fullDiff(withAttachment('Worker'), withAttachment('WorkerNext'));
    const impacts: Record<string, string[]> = {};
    diff.resources.forEachDifference((_id, change) => {
      (impacts[change.resourceType!] ??= []).push(change.changeImpact);
    });
    expect(impacts['AWS::EC2::VolumeAttachment']).toEqual([ResourceImpact.WILL_REPLACE]);
    expect(impacts['AWS::EC2::Instance']?.sort()).toEqual([ResourceImpact.WILL_CREATE, ResourceImpact.WILL_DESTROY].sort());
    expect(impacts['AWS::EC2::Volume']).toBeUndefined();
  });
});

/** The real app, from the shared credential-free synth (test/support/assembly.ts). */
describe('in the synthesized app', () => {
  test.each(['dev', 'staging', 'prod'] as const)('%s: a Workers stack with one instance per volume in the Data stack', (env) => {
    const config = configFor(env);
    const data = templateJson(env, 'Data');
    const workers = templateJson(env, 'Workers');
    expect(resourcesOf(data, 'AWS::EC2::Volume')).toHaveLength(config.workers.count);
    expect(resourcesOf(workers, 'AWS::EC2::Instance')).toHaveLength(config.workers.count);
    expect(resourcesOf(workers, 'AWS::EC2::Volume')).toHaveLength(0);
  });

  test.each([
    ['prod', 'Retain'],
    ['staging', 'Snapshot'],
    ['dev', 'Snapshot'],
  ] as const)('%s: the data volumes are never deleted without a copy (%s)', (env, policy) => {
    for (const [, v] of resourcesOf(templateJson(env, 'Data'), 'AWS::EC2::Volume')) {
      expect(v.DeletionPolicy).toBe(policy);
      expect(v.UpdateReplacePolicy).toBe(policy);
      expect(v.Properties.Encrypted).toBe(true);
      expect(v.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^WorkerVolumesKey/), 'Arn'] });
    }
  });

  test('prod: the backup plan covers the database and every worker volume, daily at 02:00 Asia/Seoul', () => {
    const t = template('prod', 'Data');
    const selection = Object.values(t.findResources('AWS::Backup::BackupSelection'))[0].Properties.BackupSelection;
    const resources = JSON.stringify(selection.Resources);
    expect(resources).toMatch(/:rds:.*:db:/);
    expect(resources.match(/:volume\//g)).toHaveLength(configFor('prod').workers.count);
    t.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: Match.arrayWith([
          Match.objectLike({ RuleName: 'daily', ScheduleExpression: 'cron(0 2 * * ? *)', ScheduleExpressionTimezone: 'Asia/Seoul', Lifecycle: { DeleteAfterDays: 30 } }),
        ]),
      },
    });
    // Failures are reported by EventBridge rules (test/contracts/backup.test.ts), not vault notifications.
    expect(Object.values(t.findResources('AWS::Backup::BackupVault'))[0].Properties.Notifications).toBeUndefined();
    t.resourcePropertiesCountIs('AWS::Events::Rule', { EventPattern: Match.objectLike({ source: ['aws.backup'] }) }, 3);
  });
});

describe('instanceGenerations (lost node)', () => {
  test('bumping one worker replaces only its instance; roles, alarms and volumes stay', () => {
    const config = configFor('prod');
    const before = buildHarness(config).app.synth();
    const after = buildHarness(config, { workersProps: { instanceGenerations: { 1: 1 } } }).app.synth();
    const diff = fullDiff(before.getStackByName('Workers').template, after.getStackByName('Workers').template);
    const added: string[] = [];
    const removed: string[] = [];
    diff.resources.forEachDifference((id, c) => {
      if (c.isAddition) added.push(`${c.resourceType} ${id}`);
      if (c.isRemoval) removed.push(`${c.resourceType} ${id}`);
    });
    // The instance and its instance profile (a child of the instance construct) are new.
    expect(added.sort()).toEqual([
      expect.stringMatching(/^AWS::EC2::Instance FleetWorker1Gen1/),
      expect.stringMatching(/^AWS::IAM::InstanceProfile FleetWorker1Gen1/),
    ]);
    expect(removed.sort()).toEqual([
      expect.stringMatching(/^AWS::EC2::Instance FleetWorker1[0-9A-F]/),
      expect.stringMatching(/^AWS::IAM::InstanceProfile FleetWorker1Instance/),
    ]);
    expect(fullDiff(before.getStackByName('Data').template, after.getStackByName('Data').template).differenceCount).toBe(0);
  });
});
