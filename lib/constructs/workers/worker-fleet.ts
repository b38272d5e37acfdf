import { Duration, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { AlertTopicMap } from '../alert-topics';
import { notifyOnAlarmAndOk } from '../alarms/alarm-actions';
import { SUBNETS } from '../network';
import { CW_AGENT_NAMESPACE, DISK_METRIC, MEMORY_METRIC } from './cloudwatch-agent-config';
import { DATA_MOUNTPOINT, WORKER_SLOT_TAG } from './naming';
import { WorkerSnapshotPolicy, type WorkerSnapshotSchedule } from './worker-snapshot-policy';
import { workerUserData } from './worker-user-data';
import type { WorkerVolumeRef } from './worker-data-volumes';
import { nagArn } from '../nag-ids';

export interface WorkerFleetProps {
  /** Environment name, used in names and the snapshot-policy tag. */
  readonly envName: string;
  /** The VPC. */
  readonly vpc: ec2.IVpc;
  /** The worker security group: no ingress; the only worker group the database and cache accept. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** One data volume per worker; worker `i` is launched in volume `i`'s AZ. */
  readonly volumes: readonly WorkerVolumeRef[];
  /** Graviton (arm64) instance type. */
  readonly instanceType: ec2.InstanceType;
  /**
   * AMI. Resolved from the public SSM parameter at every deploy, so a new Amazon Linux release
   * replaces the instances on the next deploy (the volumes are untouched; see docs/workers.md).
   * @default latest Amazon Linux 2023, arm64
   */
  readonly machineImage?: ec2.IMachineImage;
  /** Subnets the workers may use. @default the `app` subnet group (private, with egress) */
  readonly subnets?: ec2.SubnetSelection;
  /** Root volume size in GiB. @default 16 */
  readonly rootVolumeGiB?: number;
  /** Snapshot schedule of the data volumes (DLM). */
  readonly snapshots: WorkerSnapshotSchedule;
  /** Alarm and event destinations. @default no notifications (the recover action still runs) */
  readonly alertTopics?: AlertTopicMap;
  /** `/data` (and `/`) disk_used_percent alarm threshold. @default 90 (seed 004) */
  readonly diskAlarmPercent?: number;
  /** mem_used_percent alarm threshold. @default 85 (seed 004) */
  readonly memoryAlarmPercent?: number;
  /**
   * Bump a worker's generation to make CloudFormation launch a fresh instance for it, e.g. after
   * the old one was terminated outside CloudFormation (docs/workers.md, "Lost node"). Only the
   * instance's logical ID changes; the volume is not in this stack. @default generation 0 for all
   */
  readonly instanceGenerations?: Readonly<Record<number, number>>;
}

/** One worker host and the things that belong to it. */
export interface Worker {
  readonly slot: string;
  readonly instance: ec2.Instance;
  readonly role: iam.Role;
  /** StatusCheckFailed_System: triggers EC2 auto-recovery (same instance ID, same volumes). */
  readonly systemCheckAlarm: cloudwatch.Alarm;
  /** StatusCheckFailed_Instance (hung OS, kernel panic, full root disk, broken network config): reboots the instance. */
  readonly instanceCheckAlarm: cloudwatch.Alarm;
  readonly dataDiskAlarm: cloudwatch.Alarm;
  readonly rootDiskAlarm: cloudwatch.Alarm;
  readonly memoryAlarm: cloudwatch.Alarm;
}

/**
 * The worker hosts: one Graviton Amazon Linux 2023 instance per data volume, IMDSv2 only, no key
 * pair and no inbound rule (Session Manager only), each with its own least-privilege role.
 *
 * How a worker gets its volume: the boot script attaches it (ec2:AttachVolume, allowed only on
 * the volume and the instance carrying the worker's slot tag), rather than an
 * `AWS::EC2::VolumeAttachment`. A VolumeAttachment names the instance, so a replaced instance
 * (a new AMI, new user data) means a replaced attachment, and CloudFormation creates the new
 * attachment *before* it terminates the old instance: EC2 answers VolumeInUse and the update rolls
 * back. The script instead waits until the old instance is terminated in the cleanup phase and
 * the volume is `available`, then attaches it; a stop/start (instance type change) keeps the
 * attachment and the fstab entry remounts it. So replacement works without a manual detach.
 */
export class WorkerFleet extends Construct {
  public readonly workers: readonly Worker[];
  public readonly snapshotPolicy: WorkerSnapshotPolicy;

  constructor(scope: Construct, id: string, props: WorkerFleetProps) {
    super(scope, id);
    const arch = props.instanceType.architecture;
    if (arch !== ec2.InstanceArchitecture.ARM_64) {
      throw new Error(`WorkerFleet instanceType must be Graviton (arm64), got ${props.instanceType.toString()} (${arch})`);
    }
    for (const [name, value] of [['diskAlarmPercent', props.diskAlarmPercent], ['memoryAlarmPercent', props.memoryAlarmPercent]] as const) {
      if (value !== undefined && !(value > 0 && value <= 100)) throw new Error(`WorkerFleet ${name} must be in (0, 100], got ${value}`);
    }
    const stack = Stack.of(this);
    const subnets = props.vpc.selectSubnets(props.subnets ?? { subnetGroupName: SUBNETS.app }).subnets;
    const machineImage = props.machineImage ?? ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 });
    const topics = props.alertTopics;

    this.workers = props.volumes.map((volume) => {
      const subnet = subnets.find((s) => s.availabilityZone === volume.availabilityZone);
      if (!subnet) {
        throw new Error(`WorkerFleet: no subnet in ${volume.availabilityZone}, the AZ of ${volume.slot}'s volume`);
      }
      const i = volume.index;

      const role = new iam.Role(this, `Worker${i}Role`, {
        assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
        description: `${volume.slot}: Session Manager, CloudWatch agent, attach its own data volume`,
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
      });
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'ReadVolumeId',
        actions: ['ssm:GetParameter'],
        resources: [stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: volume.volumeIdParameterName.replace(/^\//, '') })],
      }));
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'DescribeVolumes',
        actions: ['ec2:DescribeVolumes'],
        resources: ['*'],
      }));
      // Both the volume and the instance of an AttachVolume request must carry this worker's slot
      // tag: the worker can attach its own volume (or the restored one that takes its slot) to
      // itself, and nothing else anywhere.
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'AttachOwnVolumeToSelf',
        actions: ['ec2:AttachVolume'],
        resources: [
          stack.formatArn({ service: 'ec2', resource: 'volume', resourceName: '*' }),
          stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' }),
        ],
        conditions: { StringEquals: { [`aws:ResourceTag/${WORKER_SLOT_TAG}`]: volume.slot } },
      }));
      // Attaching a volume encrypted with a customer-managed key makes EC2 create a grant for it.
      volume.encryptionKey.grant(role, 'kms:CreateGrant').principalStatement?.addConditions({
        Bool: { 'kms:GrantIsForAWSResource': true },
        StringEquals: { 'kms:ViaService': `ec2.${stack.region}.amazonaws.com` },
      });
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'PublishAgentMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': CW_AGENT_NAMESPACE } },
      }));
      Validations.of(role).acknowledge(
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
          reason: 'Session Manager is the only way in (no key pair, no SSH); AWS maintains the minimal action list the SSM agent needs as this managed policy.',
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'ec2:DescribeVolumes and cloudwatch:PutMetricData have no resource-level permissions; PutMetricData is limited to the CWAgent namespace by condition.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::${nagArn(role, 'ec2', 'volume/*')}]`,
          reason: "ec2:AttachVolume is limited by condition to volumes tagged with this worker's slot; the volume ID is not imported so that a restored volume can take the slot.",
        },
        {
          id: `AwsSolutions-IAM5[Resource::${nagArn(role, 'ec2', 'instance/*')}]`,
          reason: "ec2:AttachVolume is limited by condition to instances tagged with this worker's slot, i.e. the worker itself (naming its own ARN would be a dependency cycle).",
        },
      );

      const generation = props.instanceGenerations?.[i] ?? 0;
      if (!Number.isInteger(generation) || generation < 0) {
        throw new Error(`WorkerFleet instanceGenerations[${i}] must be a non-negative integer, got ${generation}`);
      }
      const instance = new ec2.Instance(this, generation ? `Worker${i}Gen${generation}` : `Worker${i}`, {
        vpc: props.vpc,
        vpcSubnets: { subnets: [subnet] },
        securityGroup: props.securityGroup,
        instanceType: props.instanceType,
        machineImage,
        role,
        instanceName: volume.slot,
        userData: workerUserData({ volumeIdParameterName: volume.volumeIdParameterName, region: stack.region }),
        // A changed boot script only takes effect on a new instance (cloud-init runs user data
        // once); replacing is safe because the data lives on the standalone volume.
        userDataCausesReplacement: true,
        httpEndpoint: true,
        httpTokens: ec2.HttpTokens.REQUIRED,
        httpPutResponseHopLimit: 1,
        detailedMonitoring: true,
        ssmSessionPermissions: false,
        associatePublicIpAddress: false,
        blockDevices: [{
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeGiB ?? 16, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        }],
      });
      Tags.of(instance).add(WORKER_SLOT_TAG, volume.slot);
      Validations.of(instance).acknowledge({
        id: 'AwsSolutions-EC29',
        reason: 'Termination protection would stop CloudFormation from terminating a replaced worker, which then keeps holding the data volume its replacement waits for; the data lives on a retained standalone volume, not on the instance.',
      });

      const instanceId = { InstanceId: instance.instanceId };
      // An EC2 status check alarm whose action EC2 runs once, on entering ALARM.
      const statusCheckAlarm = (id: string, check: 'System' | 'Instance', minutes: number, action: cwActions.Ec2InstanceAction, description: string) => {
        const alarm = new cloudwatch.Alarm(this, `Worker${i}${id}`, {
          alarmName: `${volume.slot}-${check.toLowerCase()}-status-check`,
          alarmDescription: `${volume.slot}: ${description}`,
          metric: new cloudwatch.Metric({
            namespace: 'AWS/EC2', metricName: `StatusCheckFailed_${check}`, dimensionsMap: instanceId,
            statistic: 'Maximum', period: Duration.minutes(1),
          }),
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          threshold: 1,
          evaluationPeriods: minutes,
          treatMissingData: cloudwatch.TreatMissingData.MISSING,
        });
        alarm.addAlarmAction(new cwActions.Ec2Action(action));
        return alarm;
      };
      const systemCheckAlarm = statusCheckAlarm('SystemCheck', 'System', 2, cwActions.Ec2InstanceAction.RECOVER,
        'the EC2 system status check failed (host hardware, power or network); EC2 recovers the instance onto healthy hardware with the same ID, IP and volumes.');
      // The instance's own check (the OS, not the host). CloudWatch documents reboot as the action
      // for instance status check failures and recover for system ones
      // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/UsingAlarmActions.html).
      // A reboot fits here: the /data volume stays attached and the boot script remounts it, and
      // the write-ahead buffer on it is built to survive restarts (seed 002). The action runs once,
      // on entering ALARM, so a host that fails again after the reboot stays in ALARM for a person
      // rather than rebooting in a loop.
      const instanceCheckAlarm = statusCheckAlarm('InstanceCheck', 'Instance', 3, cwActions.Ec2InstanceAction.REBOOT,
        'the EC2 instance status check failed for 3 minutes (the OS does not answer: hung, out of memory, kernel panic, full root disk or broken network config); EC2 reboots the instance, /data is remounted and the buffer resyncs.');

      const agentMetric = (metricName: string, dims: Record<string, string>) => new cloudwatch.Metric({
        namespace: CW_AGENT_NAMESPACE, metricName, dimensionsMap: { ...instanceId, ...dims },
        statistic: 'Maximum', period: Duration.minutes(1),
      });
      const diskPercent = props.diskAlarmPercent ?? 90;
      const dataDiskAlarm = new cloudwatch.Alarm(this, `Worker${i}DataDisk`, {
        alarmName: `${volume.slot}-data-disk-used`,
        alarmDescription: `${volume.slot}: ${DATA_MOUNTPOINT} is over ${diskPercent}% full; the write-ahead buffer stops accepting results when it fills. Check the sync backlog, then grow the volume (docs/workers.md).`,
        metric: agentMetric(DISK_METRIC, { path: DATA_MOUNTPOINT }),
        threshold: diskPercent,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
      const rootDiskAlarm = new cloudwatch.Alarm(this, `Worker${i}RootDisk`, {
        alarmName: `${volume.slot}-root-disk-used`,
        alarmDescription: `${volume.slot}: / is over ${diskPercent}% full.`,
        metric: agentMetric(DISK_METRIC, { path: '/' }),
        threshold: diskPercent,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
      const memoryPercent = props.memoryAlarmPercent ?? 85;
      const memoryAlarm = new cloudwatch.Alarm(this, `Worker${i}Memory`, {
        alarmName: `${volume.slot}-memory-used`,
        alarmDescription: `${volume.slot}: memory use over ${memoryPercent}% for 10 minutes.`,
        metric: agentMetric(MEMORY_METRIC, {}),
        threshold: memoryPercent,
        evaluationPeriods: 10,
        datapointsToAlarm: 10,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });

      if (topics) {
        const route: [cloudwatch.Alarm, keyof AlertTopicMap][] = [
          [systemCheckAlarm, 'critical'], [instanceCheckAlarm, 'critical'], [dataDiskAlarm, 'critical'], [rootDiskAlarm, 'warning'], [memoryAlarm, 'warning'],
        ];
        for (const [alarm, severity] of route) notifyOnAlarmAndOk(topics[severity], alarm);
      }
      return { slot: volume.slot, instance, role, systemCheckAlarm, instanceCheckAlarm, dataDiskAlarm, rootDiskAlarm, memoryAlarm };
    });

    this.snapshotPolicy = new WorkerSnapshotPolicy(this, 'Snapshots', {
      envName: props.envName,
      schedule: props.snapshots,
      alertTopic: topics?.warning,
    });
  }
}
