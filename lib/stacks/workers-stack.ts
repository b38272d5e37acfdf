import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import type { AlertTopicMap } from '../constructs/alert-topics';
import type { CacheUsers } from '../constructs/cache-users';
import type { WorkerVolumeRef } from '../constructs/workers/worker-data-volumes';
import { WorkerFleet } from '../constructs/workers/worker-fleet';

export interface WorkersStackProps extends StackProps {
  /** The environment's validated config. */
  readonly config: EnvironmentConfig;
  /** The environment's VPC. */
  readonly vpc: ec2.IVpc;
  /** The worker security group (from the Network stack). */
  readonly workerSecurityGroup: ec2.ISecurityGroup;
  /** The worker data volumes (from the Data stack), one per worker. */
  readonly volumes: readonly WorkerVolumeRef[];
  /** Alert topics for the worker alarms and snapshot failures. @default no notifications */
  readonly alertTopics?: AlertTopicMap;
  /**
   * The cache's RBAC users and replication group id: each worker's role may log in (IAM,
   * `elasticache:Connect`) as the app and read-only users of the registered cache services, and
   * as nobody else (not the monitor, not the break-glass admin). @default - no cache access
   */
  readonly cache?: { readonly users: CacheUsers; readonly replicationGroupId: string };
  /** AMI of the workers. @default latest Amazon Linux 2023 arm64 (public SSM parameter, resolved at deploy) */
  readonly machineImage?: ec2.IMachineImage;
  /** Per-worker instance generation; bump one to launch a fresh instance (docs/workers.md). @default all 0 */
  readonly instanceGenerations?: Readonly<Record<number, number>>;
}

/**
 * The worker hosts. Stateless: everything that holds data (the /data volumes) lives in the Data
 * stack, so this stack can be updated, its instances replaced or the whole stack deleted and
 * redeployed without losing a byte of the write-ahead buffers.
 */
export class WorkersStack extends Stack {
  public readonly fleet: WorkerFleet;

  constructor(scope: Construct, id: string, props: WorkersStackProps) {
    super(scope, id, props);
    const { config } = props;
    if (props.volumes.length !== config.workers.count) {
      throw new Error(`WorkersStack got ${props.volumes.length} volumes for workers.count = ${config.workers.count}`);
    }
    this.fleet = new WorkerFleet(this, 'Fleet', {
      envName: config.name,
      vpc: props.vpc,
      securityGroup: props.workerSecurityGroup,
      volumes: props.volumes,
      instanceType: new ec2.InstanceType(config.workers.instanceType),
      machineImage: props.machineImage,
      instanceGenerations: props.instanceGenerations,
      snapshots: {
        intervalHours: config.workers.snapshotIntervalHours,
        retained: config.workers.snapshotsRetained,
        dailyRetained: config.workers.dailySnapshotsRetained,
      },
      alertTopics: props.alertTopics,
      diskAlarmPercent: config.alarms.workerDiskPercent,
      memoryAlarmPercent: config.alarms.workerMemoryPercent,
    });
    if (props.cache) {
      const userIds = config.cache.services.flatMap((s) => props.cache!.users.userIdsOf(s.service));
      for (const w of this.fleet.workers) props.cache.users.grantConnect(w.role, props.cache.replicationGroupId, userIds);
    }
  }
}
