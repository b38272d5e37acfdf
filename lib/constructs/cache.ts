import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { cacheParameterGroupFamily, knownCacheVersions } from '../config/aws-limits';
import type { CacheUserSpec } from '../config/cache-acl';
import { CacheUsers } from './cache-users';
import { SUBNETS } from './network';

export interface CacheProps {
  /** The VPC; nodes sit in its `data` (isolated) subnets. */
  readonly vpc: ec2.IVpc;
  /** The only security groups allowed to connect (the workers'). */
  readonly clientSecurityGroups: ec2.ISecurityGroup[];
  /** `redis` or `valkey`. @default 'redis' */
  readonly engine?: 'redis' | 'valkey';
  /** Engine version, `major.minor`. @default '7.1' */
  readonly engineVersion?: string;
  /** Node type without `cache.`, e.g. `t4g.micro`. */
  readonly nodeType: string;
  /** Replicas of the primary; 0 is a single node, 1 or more enables automatic failover and Multi-AZ. */
  readonly replicas: number;
  /** Days of daily snapshots to keep; 0 disables them. */
  readonly snapshotRetentionDays: number;
  /** Listener port. @default 6380 */
  readonly port?: number;
  /** The RBAC users (from `deriveCacheUsers`); the replication group accepts only these. */
  readonly users: readonly CacheUserSpec[];
  /**
   * Migration from the shared AUTH token (docs/cache-rbac-migration.md): keep the token secret
   * and let the group's "default" user accept it until every client uses its IAM user.
   * @default false - no token, "default" is off
   */
  readonly legacyAuthToken?: boolean;
  /** Encrypts data at rest (and the legacy AUTH secret while it exists). @default - a new rotating key */
  readonly key?: kms.IKey;
  /** Retention of the slow log. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Environment name, for names and descriptions. */
  readonly envName: string;
}

/**
 * The Redis (or Valkey) that takes hot progress polling off PostgreSQL (seed 000): encrypted at
 * rest with a CMK and in transit with TLS, reachable only from the workers, and with per-service
 * RBAC users that log in with IAM (lib/constructs/cache-users.ts) instead of one shared AUTH
 * token. ElastiCache has only L1 constructs, hence the Cfn* resources.
 */
export class Cache extends Construct {
  public readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** The legacy AUTH token, JSON `{ "token": "…" }`, only while `legacyAuthToken` is set. */
  public readonly authSecret?: secretsmanager.Secret;
  /** The RBAC users and their user group. */
  public readonly users: CacheUsers;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly key: kms.IKey;
  public readonly port: number;

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    const engine = props.engine ?? 'redis';
    const version = props.engineVersion ?? '7.1';
    const major = Number(version.split('.')[0]);
    if (engine === 'redis' && major < 6) throw new Error(`Cache engineVersion "${version}" is too old: TLS with AUTH needs Redis 6 or later`);
    const family = cacheParameterGroupFamily(engine, version);
    if (!family) throw new Error(`Cache engineVersion "${version}" has no documented ${engine} parameter-group family; use one of ${knownCacheVersions(engine)}`);
    if (props.replicas < 0 || props.replicas > 5) throw new Error(`Cache replicas (${props.replicas}) must be between 0 and 5`);
    this.port = props.port ?? 6380;
    const failover = props.replicas > 0;

    this.key = props.key ?? new kms.Key(this, 'Key', {
      description: `${props.envName} cache at-rest encryption and AUTH token`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });

    if (props.legacyAuthToken) {
      // Kept only for the AUTH -> RBAC migration: the "default" user accepts it meanwhile.
      this.authSecret = new secretsmanager.Secret(this, 'AuthToken', {
        secretName: `platform/${props.envName}/cache/auth`,
        description: `${props.envName} ${engine} legacy AUTH token (migration to RBAC only)`,
        encryptionKey: this.key,
        generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'token', passwordLength: 64, excludePunctuation: true },
      });
      Validations.of(this.authSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'Temporary: the legacy AUTH token lives only while cache.legacyAuthToken is set for the RBAC migration (docs/cache-rbac-migration.md); RBAC users authenticate with IAM and have no password.',
      });
    }
    this.users = new CacheUsers(this, 'Users', {
      envName: props.envName,
      users: props.users,
      legacyDefaultPassword: this.authSecret?.secretValueFromJson('token'),
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.envName} cache: workers only, port ${this.port}`,
      allowAllOutbound: false,
    });
    props.clientSecurityGroups.forEach((sg, i) =>
      this.securityGroup.addIngressRule(sg, ec2.Port.tcp(this.port), `Cache from client group ${i + 1}`),
    );

    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: `${props.envName} cache subnets (isolated)`,
      subnetIds: props.vpc.selectSubnets({ subnetGroupName: SUBNETS.data }).subnetIds,
    });

    const parameters = new elasticache.CfnParameterGroup(this, 'Parameters', {
      cacheParameterGroupFamily: family,
      description: `${props.envName} cache parameters`,
      properties: {
        // Progress keys (seed 000) all carry a TTL. When memory runs out, evict the keys nearest
        // their expiry (finished jobs' progress) and never a key without a TTL: anything stored
        // without one is meant to stay, so a write fails loudly rather than evicting it silently.
        'maxmemory-policy': 'volatile-ttl',
      },
    });

    const slowLog = new logs.LogGroup(this, 'SlowLog', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: `${props.envName} ${engine} for progress polling and hot reads`,
      engine,
      engineVersion: version,
      cacheNodeType: `cache.${props.nodeType}`,
      numNodeGroups: 1,
      replicasPerNodeGroup: props.replicas,
      automaticFailoverEnabled: failover,
      multiAzEnabled: failover,
      port: this.port,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      cacheParameterGroupName: parameters.ref,
      atRestEncryptionEnabled: true,
      kmsKeyId: this.key.keyArn,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      // RBAC: only the users of this group can log in (IAM tokens); "default" is off.
      userGroupIds: [this.users.userGroup.ref],
      snapshotRetentionLimit: props.snapshotRetentionDays,
      // 03:00–04:00 KST, after the database's backup window.
      snapshotWindow: '18:00-19:00',
      preferredMaintenanceWindow: 'sun:19:30-sun:20:30',
      autoMinorVersionUpgrade: true,
      logDeliveryConfigurations: [
        {
          destinationType: 'cloudwatch-logs',
          logFormat: 'json',
          logType: 'slow-log',
          destinationDetails: { cloudWatchLogsDetails: { logGroup: slowLog.logGroupName } },
        },
      ],
    });
    this.replicationGroup.node.addDependency(this.users.userGroup);
    Validations.of(this.replicationGroup).acknowledge({
      id: 'AwsSolutions-AEC6',
      reason: 'Authentication is RBAC (UserGroupIds), which replaces the single AUTH token this rule looks for: per-service users with IAM tokens and ACLs, and the group\'s "default" user switched off.',
    });
    // Deleting the group (or replacing it) leaves a final snapshot rather than losing its keys.
    this.replicationGroup.applyRemovalPolicy(RemovalPolicy.SNAPSHOT);

    if (!failover) {
      Validations.of(this.replicationGroup).acknowledge({
        id: 'AwsSolutions-AEC4',
        reason: 'Cheap profile (dev): one node; the cache holds only TTL\'d, re-computable progress keys. Production config validation forces a replica.',
      });
    }
  }
}
