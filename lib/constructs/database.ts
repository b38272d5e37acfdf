import { Annotations, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sam from 'aws-cdk-lib/aws-sam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { minMaxAllocatedStorageGiB } from '../config/aws-limits';
import { SUBNETS } from './network';

/** The engine every environment runs: the newest PostgreSQL 16 minor this aws-cdk-lib knows. */
export const POSTGRES_ENGINE = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16_13 });

export interface DatabaseProps {
  /** The VPC; the instance sits in its `data` (isolated) subnets. */
  readonly vpc: ec2.IVpc;
  /** Security groups allowed to connect to the listener port. */
  readonly clientSecurityGroups: ec2.ISecurityGroup[];
  /** RDS instance class without `db.`, e.g. `m7g.large`. */
  readonly instanceClass: string;
  /** Initial gp3 storage, GiB. */
  readonly allocatedStorageGiB: number;
  /**
   * Storage autoscaling ceiling, GiB, of the primary and the replica; at least 10% above
   * `allocatedStorageGiB` (RDS's rule).
   */
  readonly maxAllocatedStorageGiB: number;
  /** Synchronous standby in another AZ. */
  readonly multiAz: boolean;
  /** Create a read replica. @default false */
  readonly readReplica?: boolean;
  /** Replica instance class without `db.`. @default - the primary's */
  readonly replicaInstanceClass?: string;
  /** Automated backup retention. */
  readonly backupRetention: Duration;
  /** Deletion protection (prod). */
  readonly deletionProtection: boolean;
  /** Listener port; not 5432. */
  readonly port: number;
  /** Application database name. */
  readonly databaseName: string;
  /** Master user name. */
  readonly masterUsername: string;
  /** Enhanced monitoring granularity. */
  readonly monitoringInterval: Duration;
  /** Performance Insights retention. */
  readonly performanceInsightRetention: rds.PerformanceInsightRetention;
  /** `log_min_duration_statement`, ms. */
  readonly slowQueryMs: number;
  /** `idle_in_transaction_session_timeout`, ms. */
  readonly idleInTransactionTimeoutMs: number;
  /** Master secret rotation period. */
  readonly secretRotation: Duration;
  /**
   * Interface endpoint through which the rotation function reaches Secrets Manager; its security
   * group is opened to the rotation function's group on 443 (with private DNS on, the function's
   * calls always go to the endpoint, so NAT is no way around a closed group).
   * @default - through NAT
   */
  readonly secretsManagerEndpoint?: ec2.IInterfaceVpcEndpoint;
  /** Retention of the exported `postgresql`/`upgrade` logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the exported log groups when the stack goes: RETAIN keeps the audit trail
   * (prod); DESTROY lets a torn-down environment be re-created under the same names.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Environment name, for descriptions and the secret name. */
  readonly envName: string;
}

/**
 * The central PostgreSQL 16 (seed 004): encrypted with its own rotating CMK, Performance
 * Insights, enhanced monitoring, slow-query and lock-wait logging, IAM auth, a rotated master
 * secret, and a read replica when asked for. Deleting it always leaves a final snapshot.
 */
export class Database extends Construct {
  public readonly instance: rds.DatabaseInstance;
  public readonly replica?: rds.DatabaseInstanceReadReplica;
  /** Master credentials (JSON with host, port, username, password, dbname). */
  public readonly secret: secretsmanager.ISecret;
  /** Encrypts storage, Performance Insights and the secrets. */
  public readonly key: kms.Key;
  public readonly securityGroup: ec2.SecurityGroup;
  /** The master secret's hosted rotation function: reaches PostgreSQL and the Secrets Manager endpoint (aws/aws-cdk#23086). */
  public readonly rotationSecurityGroup: ec2.SecurityGroup;
  /** Name of the master secret's hosted rotation function, for its Errors alarm. */
  public readonly rotationFunctionName: string;
  /** The master secret's rotation schedule (its creation starts the first rotation). */
  public readonly rotationSchedule: secretsmanager.RotationSchedule;
  public readonly parameterGroup: rds.ParameterGroup;
  public readonly port: number;
  public readonly databaseName: string;
  /** The instance class of the primary, e.g. `m7g.large`, for alarm maths. */
  public readonly instanceClass: string;
  private readonly logRemovalPolicy: RemovalPolicy;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    if (props.port === 5432) {
      throw new Error('Database port 5432 is the default; choose another (e.g. 6432) so default-port scans miss it');
    }
    const minCeiling = minMaxAllocatedStorageGiB(props.allocatedStorageGiB);
    if (props.maxAllocatedStorageGiB < minCeiling) {
      throw new Error(`maxAllocatedStorageGiB (${props.maxAllocatedStorageGiB}) must be at least ${minCeiling}, 10% above allocatedStorageGiB (${props.allocatedStorageGiB}): RDS rejects a smaller storage-autoscaling ceiling`);
    }
    this.port = props.port;
    this.databaseName = props.databaseName;
    this.instanceClass = props.instanceClass;
    this.logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;

    this.key = new kms.Key(this, 'Key', {
      description: `${props.envName} PostgreSQL storage, Performance Insights and secrets`,
      enableKeyRotation: true,
      // The key outlives the instance: its snapshots and backups cannot be read without it.
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.envName} PostgreSQL: only the listed client groups on port ${props.port}`,
      allowAllOutbound: false,
    });
    props.clientSecurityGroups.forEach((sg, i) =>
      this.securityGroup.addIngressRule(sg, ec2.Port.tcp(props.port), `PostgreSQL from client group ${i + 1}`),
    );

    this.parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine: POSTGRES_ENGINE,
      description: `${props.envName} PostgreSQL 16 parameters`,
      parameters: {
        // Refuse unencrypted connections: credentials and data never cross the network in clear.
        'rds.force_ssl': '1',
        // pg_stat_statements finds the top queries (seed 000, method 3); it must be preloaded.
        shared_preload_libraries: 'pg_stat_statements',
        // Count statements inside functions too, so the role schema's and services' PL/pgSQL shows up.
        'pg_stat_statements.track': 'all',
        // Utility statements (DDL, ALTER ROLE …) stay out of pg_stat_statements: their literals are
        // not normalised, so `ALTER ROLE … PASSWORD 'SCRAM-SHA-256$…'` would be kept verbatim where
        // pg_monitor members (platform_monitor) read it, and the digest would show it. Costs: DDL,
        // VACUUM, COPY and CALL no longer appear in the top statements (what they run inside does,
        // with track = all). https://www.postgresql.org/docs/16/pgstatstatements.html#PGSTATSTATEMENTS-CONFIG-PARAMS
        'pg_stat_statements.track_utility': '0',
        // Bind parameters are never written to the log (statement logging and slow-query lines
        // would print them in full by default): the role schema sends verifiers as parameters, and
        // application parameters are customer data. Errors too (0 is PostgreSQL's default there).
        // https://www.postgresql.org/docs/16/runtime-config-logging.html#GUC-LOG-PARAMETER-MAX-LENGTH
        log_parameter_max_length: '0',
        log_parameter_max_length_on_error: '0',
        // I/O time per statement and in Performance Insights: tells IO:WALSync from CPU (seed 003).
        track_io_timing: '1',
        // Slow-query log for the CloudWatch `postgresql` log export.
        log_min_duration_statement: String(props.slowQueryMs),
        // Log waits longer than deadlock_timeout (1 s): the LWLock/lock waits of seed 003 get a statement.
        log_lock_waits: '1',
        // A forgotten open transaction holds locks and blocks vacuum; end it.
        idle_in_transaction_session_timeout: String(props.idleInTransactionTimeoutMs),
        // The role schema sets SCRAM verifiers; never fall back to md5.
        password_encryption: 'scram-sha-256',
      },
    });

    const subnets: ec2.SubnetSelection = { subnetGroupName: SUBNETS.data };
    const primaryIdentifier = `${props.envName}-postgres`;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.instance = new rds.DatabaseInstance(this, 'Primary', {
      engine: POSTGRES_ENGINE,
      instanceType: new ec2.InstanceType(props.instanceClass),
      vpc: props.vpc,
      vpcSubnets: subnets,
      securityGroups: [this.securityGroup],
      port: props.port,
      databaseName: props.databaseName,
      credentials: rds.Credentials.fromGeneratedSecret(props.masterUsername, {
        secretName: `platform/${props.envName}/postgres/master`,
        encryptionKey: this.key,
      }),
      storageEncrypted: true,
      storageEncryptionKey: this.key,
      storageType: rds.StorageType.GP3,
      allocatedStorage: props.allocatedStorageGiB,
      maxAllocatedStorage: props.maxAllocatedStorageGiB,
      multiAz: props.multiAz,
      iamAuthentication: true,
      enablePerformanceInsights: true,
      performanceInsightRetention: props.performanceInsightRetention,
      performanceInsightEncryptionKey: this.key,
      monitoringInterval: props.monitoringInterval,
      instanceIdentifier: primaryIdentifier,
      cloudwatchLogsExports: ['postgresql', 'upgrade'],
      parameterGroup: this.parameterGroup,
      backupRetention: props.backupRetention,
      // RDS's own snapshot at 00:00–00:30 KST, clear of AWS Backup's 02:00/03:00/04:00 KST jobs
      // (seed 004's schedule), which would otherwise collide with it; maintenance Monday 06:00 KST,
      // after those jobs, because AWS Backup will not start an RDS job in the hour before maintenance.
      preferredBackupWindow: '15:00-15:30',
      preferredMaintenanceWindow: 'Sun:21:00-Sun:22:00',
      copyTagsToSnapshot: true,
      deleteAutomatedBackups: false,
      deletionProtection: props.deletionProtection,
      autoMinorVersionUpgrade: true,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      publiclyAccessible: false,
      // Every environment: a delete leaves a final snapshot. Losing dev data is still losing data.
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    this.secret = this.instance.secret!;
    this.createLogGroups(this.instance, 'Primary', primaryIdentifier, logRetention);
    // Our own group for the hosted rotation function (CDK would create an anonymous one that no
    // endpoint admits): the instance admits it on the listener port, the endpoint on 443.
    this.rotationSecurityGroup = new ec2.SecurityGroup(this, 'RotationSecurityGroup', {
      vpc: props.vpc,
      description: `${props.envName} master secret rotation function: PostgreSQL and the Secrets Manager endpoint`,
      allowAllOutbound: true,
    });
    if (props.secretsManagerEndpoint) {
      // allowTo puts the ingress rule in this stack (the endpoint's stack must not depend on this one).
      this.rotationSecurityGroup.connections.allowTo(props.secretsManagerEndpoint, ec2.Port.tcp(443), 'Master secret rotation to Secrets Manager');
      // allowTo also asks for an egress rule, which allowAllOutbound already covers (the function
      // reaches the database too): only the peer's ingress rule matters here.
      Annotations.of(this.rotationSecurityGroup).acknowledgeWarning('@aws-cdk/aws-ec2:ipv4IgnoreEgressRule', 'allowAllOutbound covers the egress; allowTo is for the endpoint ingress rule');
    }
    const rotation = this.instance.addRotationSingleUser({
      automaticallyAfter: props.secretRotation,
      endpoint: props.secretsManagerEndpoint,
      vpcSubnets: { subnetGroupName: SUBNETS.app },
      securityGroup: this.rotationSecurityGroup,
    });
    // The hosted application names its function from this parameter (a literal CDK derives).
    this.rotationFunctionName = ((rotation.node.defaultChild as sam.CfnApplication).parameters as Record<string, string>).functionName;
    this.rotationSchedule = this.secret.node.findChild('RotationSchedule') as secretsmanager.RotationSchedule;

    if (props.readReplica) {
      const replicaIdentifier = `${primaryIdentifier}-replica`;
      this.replica = new rds.DatabaseInstanceReadReplica(this, 'Replica', {
        sourceDatabaseInstance: this.instance,
        instanceType: new ec2.InstanceType(props.replicaInstanceClass ?? props.instanceClass),
        vpc: props.vpc,
        vpcSubnets: subnets,
        securityGroups: [this.securityGroup],
        port: props.port,
        // Encryption is inherited from the source (CloudFormation rejects StorageEncrypted here).
        parameterGroup: this.parameterGroup,
        enablePerformanceInsights: true,
        performanceInsightRetention: props.performanceInsightRetention,
        performanceInsightEncryptionKey: this.key,
        monitoringInterval: props.monitoringInterval,
        instanceIdentifier: replicaIdentifier,
        storageType: rds.StorageType.GP3,
        // The replica starts with the source's storage and must grow like it: a replica whose disk
        // fills stops replaying WAL (and holds the primary's WAL back with it).
        maxAllocatedStorage: props.maxAllocatedStorageGiB,
        cloudwatchLogsExports: ['postgresql', 'upgrade'],
        iamAuthentication: true,
        deletionProtection: props.deletionProtection,
        autoMinorVersionUpgrade: true,
        caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
        publiclyAccessible: false,
        // A replica holds no data of its own; its source keeps the snapshot.
        removalPolicy: RemovalPolicy.DESTROY,
      });
      this.createLogGroups(this.replica, 'Replica', replicaIdentifier, logRetention);
      Validations.of(this.replica).acknowledge(
        {
          id: 'AwsSolutions-RDS2',
          reason: 'A read replica inherits storage encryption (and this CMK) from its encrypted source; CloudFormation rejects StorageEncrypted on a replica (cfn-lint F3020), so the rule cannot see it.',
        },
        {
          id: 'AwsSolutions-RDS11',
          reason: 'The replica listens on the same non-default port as the primary (Port is set); the rule compares against the engine default and cannot see the engine on a replica.',
        },
        {
          id: 'AwsSolutions-RDS13',
          reason: 'Read replicas cannot have automated backups of their own in this setup; the primary is backed up (the AWS Backup plan: daily, weekly, monthly) and a replica is rebuilt from it.',
        },
        {
          id: 'AwsSolutions-RDS3',
          reason: 'The replica is the second copy by design (a primary plus a replica); the primary is Multi-AZ.',
        },
      );
    }

    for (const inst of [this.instance, this.replica]) {
      if (!inst) continue;
      const role = inst.node.tryFindChild('MonitoringRole');
      if (role) {
        Validations.of(role).acknowledge({
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
          reason: 'The AWS-managed enhanced monitoring policy only lets RDS write OS metrics to its own log group; AWS updates it with the service.',
        });
      }
    }
    if (!props.multiAz) {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-RDS3',
        reason: 'This is the cheap profile (dev): a single-AZ instance is acceptable; production config validation forces Multi-AZ.',
      });
    }
    if (!props.deletionProtection) {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason: 'Non-production environments are torn down freely; a final snapshot is still taken on delete (RemovalPolicy.SNAPSHOT).',
      });
    }
  }

  /**
   * Lets `role` call the Performance Insights API (pi:GetResourceMetrics) on these instances, whose
   * Performance Insights data this key encrypts (RDS user guide, USER_PerfInsights.access-control.cmk-policy):
   * kms:Decrypt and kms:GenerateDataKey on this key, only through RDS in this Region
   * (kms:ViaService `rds.<region>.amazonaws.com`; Performance Insights has no service name of its
   * own there) and only for Performance Insights' encryption context of these instances. An IAM
   * policy in this stack, not a key-policy statement: the key policy cannot name the instances'
   * DbiResourceId (instance → secret → key → instance would be a cycle); the key policy delegates
   * to IAM (CDK's default), so the grant is the same.
   */
  public grantPerformanceInsightsRead(role: iam.IRole): iam.Policy {
    const resourceIds = [this.instance, this.replica].flatMap((i) => (i?.instanceResourceId ? [i.instanceResourceId] : []));
    return new iam.Policy(this, 'PerformanceInsightsReaders', {
      roles: [role],
      statements: [new iam.PolicyStatement({
        sid: 'DecryptPerformanceInsights',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [this.key.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `rds.${Stack.of(this).region}.amazonaws.com` },
          'ForAnyValue:StringEquals': {
            'kms:EncryptionContext:aws:pi:service': 'rds',
            'kms:EncryptionContext:service': 'pi',
            'kms:EncryptionContext:aws:rds:db-id': resourceIds,
          },
        },
      })],
    });
  }

  /**
   * The exported log groups, created here rather than through `cloudwatchLogsRetention` (which
   * adds a custom-resource Lambda per stack). They hold the slow-query and lock-wait audit trail.
   * Names are RDS's fixed convention.
   */
  private createLogGroups(inst: rds.DatabaseInstanceBase, prefix: 'Primary' | 'Replica', identifier: string, retention: logs.RetentionDays): void {
    for (const type of ['postgresql', 'upgrade']) {
      const group = new logs.LogGroup(this, `${prefix}${type === 'postgresql' ? 'Postgresql' : 'Upgrade'}Logs`, {
        logGroupName: `/aws/rds/instance/${identifier}/${type}`,
        retention,
        removalPolicy: this.logRemovalPolicy,
      });
      // RDS would otherwise create the group itself (without retention) on first write.
      inst.node.addDependency(group);
    }
  }
}
