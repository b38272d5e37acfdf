import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { deriveCacheUsers, type EnvironmentConfig } from '../config';
import type { AlertTopicMap } from '../constructs/alert-topics';
import { CacheAlarms, DatabaseAlarms } from '../constructs/alarms';
import { Cache } from '../constructs/cache';
import { Database } from '../constructs/database';
import { BackupPlan } from '../constructs/backup-plan';
import { RoleSchema } from '../constructs/role-schema';
import { SecretRotationAlerts } from '../constructs/secret-rotation-alerts';
import { WorkerDataVolumes } from '../constructs/workers/worker-data-volumes';

export interface DataStackProps extends StackProps {
  /** The environment's validated config. */
  readonly config: EnvironmentConfig;
  /** The environment's VPC. */
  readonly vpc: ec2.IVpc;
  /** Worker hosts' security group: may reach the database and the cache. */
  readonly workerSecurityGroup: ec2.ISecurityGroup;
  /** In-VPC functions' security group: may reach the database. */
  readonly dbClientSecurityGroup: ec2.ISecurityGroup;
  /** Secrets Manager interface endpoint, for the rotation functions. @default - none: they call the public endpoint through NAT */
  readonly secretsManagerEndpoint?: ec2.IInterfaceVpcEndpoint;
  /** Alert topics for the data tier's alarms. */
  readonly alertTopics: AlertTopicMap;
  /** Unencrypted topic for the cache's own ElastiCache events (ElastiCache cannot publish to an encrypted one). */
  readonly cacheEventTopic: sns.ITopic;
}

/**
 * Everything that holds data: PostgreSQL, the cache and (from the workers issue) the worker
 * volumes and the backup vault. Kept apart from stateless stacks so that those can be replaced
 * freely; termination protection in production.
 */
export class DataStack extends Stack {
  public readonly database: Database;
  public readonly cache: Cache;
  /** The database's alarm catalogue and RDS event subscriptions. */
  public readonly databaseAlarms: DatabaseAlarms;
  /** The cache's alarm catalogue; also sets its NotificationTopicArn. */
  public readonly cacheAlarms: CacheAlarms;
  /** One standalone /data volume per worker (the Workers stack attaches them). */
  public readonly workerVolumes: WorkerDataVolumes;
  /** AWS Backup vault and plan for the database and the worker volumes (seed 004). */
  public readonly backupPlan: BackupPlan;
  /** The three-tier role schema (custom resource), login secrets, and the monitoring role's secret. */
  public readonly roleSchema: RoleSchema;
  /** Rotation failures of the master and login secrets: RotationFailed events and the rotation functions' Errors. */
  public readonly rotationAlerts: SecretRotationAlerts;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, { ...props, terminationProtection: props.config.production });
    const { config } = props;
    const db = config.database;
    // Log groups keep their construct default (a month); the stage's LogRetentionFloor raises every
    // prod log group to a year. Prod also keeps the database's audit trail when the stack goes.

    this.database = new Database(this, 'Postgres', {
      envName: config.name,
      vpc: props.vpc,
      clientSecurityGroups: [props.workerSecurityGroup, props.dbClientSecurityGroup],
      instanceClass: db.instanceClass,
      allocatedStorageGiB: db.allocatedStorageGiB,
      maxAllocatedStorageGiB: db.maxAllocatedStorageGiB,
      multiAz: db.multiAz,
      readReplica: db.readReplica,
      replicaInstanceClass: db.replicaInstanceClass,
      backupRetention: Duration.days(db.backupRetentionDays),
      deletionProtection: db.deletionProtection,
      port: db.port,
      databaseName: db.databaseName,
      masterUsername: db.masterUsername,
      monitoringInterval: Duration.seconds(db.monitoringIntervalSeconds),
      performanceInsightRetention: db.performanceInsightsRetentionDays as rds.PerformanceInsightRetention,
      slowQueryMs: db.slowQueryMs,
      idleInTransactionTimeoutMs: db.idleInTransactionTimeoutMs,
      secretRotation: Duration.days(db.secretRotationDays),
      secretsManagerEndpoint: props.secretsManagerEndpoint,
      logRemovalPolicy: config.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.cache = new Cache(this, 'Cache', {
      envName: config.name,
      vpc: props.vpc,
      clientSecurityGroups: [props.workerSecurityGroup],
      engine: config.cache.engine,
      engineVersion: config.cache.engineVersion,
      nodeType: config.cache.nodeType,
      replicas: config.cache.replicas,
      snapshotRetentionDays: config.cache.snapshotRetentionDays,
      port: config.cache.port,
      users: deriveCacheUsers(config.name, config.cache, config.roles.services),
      legacyAuthToken: config.cache.legacyAuthToken,
    });

    this.databaseAlarms = new DatabaseAlarms(this, 'DatabaseAlarms', {
      envName: config.name,
      instance: this.database.instance,
      instanceClass: db.instanceClass,
      allocatedStorageGiB: db.allocatedStorageGiB,
      maxAllocatedStorageGiB: db.maxAllocatedStorageGiB,
      replica: this.database.replica,
      replicaInstanceClass: db.replicaInstanceClass,
      thresholds: config.alarms,
      topics: props.alertTopics,
    });
    this.cacheAlarms = new CacheAlarms(this, 'CacheAlarms', {
      envName: config.name,
      replicationGroup: this.cache.replicationGroup,
      replicas: config.cache.replicas,
      thresholds: config.alarms,
      topics: props.alertTopics,
      notificationTopic: props.cacheEventTopic,
    });

    this.workerVolumes = new WorkerDataVolumes(this, 'WorkerVolumes', {
      envName: config.name,
      vpc: props.vpc,
      count: config.workers.count,
      sizeGiB: config.workers.dataVolumeGiB,
      // Prod keeps a deleted volume; elsewhere CloudFormation takes a final snapshot, then deletes.
      removalPolicy: config.production ? RemovalPolicy.RETAIN : RemovalPolicy.SNAPSHOT,
      // Lost disk (docs/workers.md): `restoreSnapshotIds: { <worker>: 'snap-…' }` restores a slot.
    });

    this.backupPlan = new BackupPlan(this, 'Backup', {
      envName: config.name,
      resources: [
        backup.BackupResource.fromRdsDatabaseInstance(this.database.instance),
        ...this.workerVolumes.volumes.map((v) =>
          backup.BackupResource.fromArn(this.formatArn({ service: 'ec2', resource: 'volume', resourceName: v.volume.volumeId }))),
      ],
      retentionDays: config.backup.retentionDays,
      timezone: config.backup.timezone,
      vaultLock: config.backup.vaultLock,
      alertTopic: props.alertTopics.warning,
    });

    this.roleSchema = new RoleSchema(this, 'RoleSchema', {
      vpc: props.vpc,
      dbClientSecurityGroup: props.dbClientSecurityGroup,
      instance: this.database.instance,
      masterSecret: this.database.secret,
      port: this.database.port,
      databaseName: db.databaseName,
      environmentName: config.name,
      roles: config.roles,
      enforcePrefixes: config.roles.enforcePrefixes,
      rotationInterval: Duration.days(db.secretRotationDays),
      encryptionKey: this.database.key,
    });
    // Creating the master secret's schedule starts its first rotation; on the first deploy that
    // would race the role schema's login as the master user (a 28P01 rolls the stack back).
    this.database.rotationSchedule.node.addDependency(this.roleSchema.resource);

    this.rotationAlerts = new SecretRotationAlerts(this, 'SecretRotationAlerts', {
      envName: config.name,
      secretNamePrefix: `platform/${config.name}/postgres/`,
      rotationFunctions: [
        { key: 'master-secret-rotation', rotates: 'the master secret', functionName: this.database.rotationFunctionName },
        { key: 'role-secret-rotation', rotates: "the role schema's login secrets", functionName: this.roleSchema.rotationFunction.function.functionName },
      ],
      topic: props.alertTopics.warning,
    });
  }
}
