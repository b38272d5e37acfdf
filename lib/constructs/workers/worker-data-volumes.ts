import { Duration, RemovalPolicy, Size, Tags, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { SUBNETS } from '../network';
import {
  SNAPSHOT_POLICY_TAG,
  WORKER_SLOT_TAG,
  snapshotPolicyTagValue,
  volumeIdParameterName,
  workerSlotName,
} from './naming';

/** What a worker needs to find, attach and decrypt its data volume (no export of the volume ID). */
export interface WorkerVolumeRef {
  /** Slot index, 0-based. */
  readonly index: number;
  /** Slot name, e.g. `prod-worker-1`; the value of the slot tag on the volume and the instance. */
  readonly slot: string;
  /** AZ of the volume; the worker must be launched in a subnet of this AZ. */
  readonly availabilityZone: string;
  /** SSM parameter holding the slot's current volume ID (read at boot). */
  readonly volumeIdParameterName: string;
  /** Key the volume is encrypted with; attaching it needs a grant on this key. */
  readonly encryptionKey: kms.IKey;
}

/** One slot's volume with the resources that describe it. */
export interface WorkerDataVolume extends WorkerVolumeRef {
  /** The standalone volume. */
  readonly volume: ec2.Volume;
  /** The parameter pointing at it. */
  readonly parameter: ssm.StringParameter;
}

export interface WorkerDataVolumesProps {
  /** Environment name, used in tags, names and the parameter path. */
  readonly envName: string;
  /** The VPC whose subnets decide the volumes' AZs. */
  readonly vpc: ec2.IVpc;
  /** Number of worker slots (one volume each). */
  readonly count: number;
  /** Size of each volume in GiB. */
  readonly sizeGiB: number;
  /**
   * Subnets the workers run in; volume `i` goes to the AZ of subnet `i mod n`, which is the
   * subnet WorkerFleet picks for worker `i` (it looks the subnet up by the volume's AZ).
   * @default the `app` subnet group
   */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * What CloudFormation does with a volume it stops managing (stack deletion, a slot removed, a
   * restore under a new logical ID): RETAIN or SNAPSHOT. DESTROY is refused: these hold data.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Restore slots from snapshots: `{ 1: 'snap-0abc…' }` creates slot 1's volume from the snapshot
   * under a new logical ID (the old volume is retained, not deleted), and points the slot's
   * parameter at it. See docs/workers.md, "Lost disk". @default no restore
   */
  readonly restoreSnapshotIds?: Readonly<Record<number, string>>;
  /**
   * gp3 baseline IOPS and throughput (MiB/s).
   * @default 3000 IOPS, 125 MiB/s (gp3's free baseline)
   */
  readonly iops?: number;
  readonly throughputMiBps?: number;
}

/**
 * One standalone, encrypted gp3 volume per worker slot, managed apart from the instances so that
 * replacing or terminating an instance never deletes a volume. Lives in the Data stack.
 *
 * Each slot also gets an SSM parameter holding its current volume ID: the worker's boot script
 * reads it, so the Workers stack never imports the volume ID and a restored volume can take a
 * slot's place without touching the Workers stack (a CloudFormation export in use cannot change).
 */
export class WorkerDataVolumes extends Construct {
  /** Customer-managed key of all worker volumes (and so of their snapshots). */
  public readonly key: kms.Key;
  /** The slots, in index order. */
  public readonly volumes: readonly WorkerDataVolume[];

  constructor(scope: Construct, id: string, props: WorkerDataVolumesProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (removalPolicy !== RemovalPolicy.RETAIN && removalPolicy !== RemovalPolicy.SNAPSHOT) {
      throw new Error(`WorkerDataVolumes removalPolicy must be RETAIN or SNAPSHOT (the volumes hold data), got ${removalPolicy}`);
    }
    if (!Number.isInteger(props.count) || props.count < 0) {
      throw new Error(`WorkerDataVolumes count must be a non-negative integer, got ${props.count}`);
    }
    for (const [slot, snap] of Object.entries(props.restoreSnapshotIds ?? {})) {
      const i = Number(slot);
      if (!Number.isInteger(i) || i < 0 || i >= props.count) {
        throw new Error(`restoreSnapshotIds names worker ${slot}, but there are ${props.count} workers (0..${props.count - 1})`);
      }
      if (!Token.isUnresolved(snap) && !/^snap-[0-9a-f]{8,17}$/.test(snap)) {
        throw new Error(`restoreSnapshotIds[${slot}] must be a snapshot ID like "snap-0123456789abcdef0", got "${snap}"`);
      }
    }

    const subnets = props.vpc.selectSubnets(props.subnets ?? { subnetGroupName: SUBNETS.app }).subnets;
    if (props.count > 0 && subnets.length === 0) {
      throw new Error('WorkerDataVolumes found no subnets to place volumes in');
    }

    this.key = new kms.Key(this, 'Key', {
      description: `${props.envName} worker data volumes and their snapshots`,
      enableKeyRotation: true,
      // Snapshots and backups of the volumes cannot be read without it: it outlives them.
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });

    const volumes: WorkerDataVolume[] = [];
    for (let i = 0; i < props.count; i++) {
      const slot = workerSlotName(props.envName, i);
      const availabilityZone = subnets[i % subnets.length].availabilityZone;
      const snapshotId = props.restoreSnapshotIds?.[i];
      // A restore gets a new logical ID: CloudFormation creates the restored volume and, because
      // the old logical ID leaves the template, applies the old volume's DeletionPolicy (Retain).
      const volumeId = snapshotId ? `Volume${i}From${snapshotId.replace(/[^A-Za-z0-9]/g, '')}` : `Volume${i}`;
      const volume = new ec2.Volume(this, volumeId, {
        availabilityZone,
        size: Size.gibibytes(props.sizeGiB),
        snapshotId,
        volumeType: ec2.EbsDeviceVolumeType.GP3,
        iops: props.iops ?? 3000,
        throughput: props.throughputMiBps ?? 125,
        encrypted: true,
        encryptionKey: this.key,
        removalPolicy,
        volumeName: `${slot}-data`,
      });
      Tags.of(volume).add(SNAPSHOT_POLICY_TAG, snapshotPolicyTagValue(props.envName));
      Tags.of(volume).add(WORKER_SLOT_TAG, slot);
      if (!Token.isUnresolved(availabilityZone)) {
        Validations.of(volume).acknowledge({
          id: 'CloudFormation-Validate::W3010',
          reason: 'A volume must sit in the AZ of the instance that attaches it: the AZ comes from the subnet the worker uses, which is a literal once the environment is bound to a region.',
        });
      }

      const parameterName = volumeIdParameterName(props.envName, i);
      const parameter = new ssm.StringParameter(this, `Volume${i}Id`, {
        parameterName,
        stringValue: volume.volumeId,
        description: `ID of ${slot}'s current /data volume; read by the worker at boot`,
      });
      volumes.push({
        index: i,
        slot,
        availabilityZone,
        volumeIdParameterName: parameterName,
        encryptionKey: this.key,
        volume,
        parameter,
      });
    }
    this.volumes = volumes;
  }
}
