import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config';
import type { AlertTopicMap, Severity } from '../alert-topics';
import { alertTopicTarget } from '../workers/worker-snapshot-policy';
import { notifyOnAlarmAndOk } from './alarm-actions';
import { instanceClassSpec, rdsMaxConnections } from './instance-classes';

/** The thresholds this construct reads from the environment config. */
export type DatabaseAlarmThresholds = Pick<
  EnvironmentConfig['alarms'],
  'dbCpuPercent' | 'dbMemoryPercent' | 'dbDiskPercent' | 'dbReplicaLagSeconds' | 'dbConnectionsRatio' | 'dbReadLatencySeconds' | 'dbWriteLatencySeconds' | 'dbLoadPerVcpu'
>;

export interface DatabaseAlarmsProps {
  /** Environment name; alarm names start with it (`prod-db-cpu`). */
  readonly envName: string;
  /** The primary. */
  readonly instance: rds.IDatabaseInstance;
  /** The primary's class without `db.`, e.g. `m7g.large`: memory, vCPUs and max_connections follow from it. */
  readonly instanceClass: string;
  /** Initial allocated storage in GiB: the smallest the allocation ever is (storage autoscaling only grows it). */
  readonly allocatedStorageGiB: number;
  /** Storage autoscaling ceiling in GiB, named in the storage alarms' descriptions. @default - not named */
  readonly maxAllocatedStorageGiB?: number;
  /** The read replica, if any. @default - no replica alarms */
  readonly replica?: rds.IDatabaseInstance;
  /** The replica's class. @default - the primary's */
  readonly replicaInstanceClass?: string;
  /** Thresholds from the environment config. */
  readonly thresholds: DatabaseAlarmThresholds;
  /** Where ALARM and OK go, by severity. */
  readonly topics: AlertTopicMap;
  /** Alarm when MaximumUsedTransactionIDs passes this (wraparound stops writes at ~2.1 billion). @default 1_000_000_000 */
  readonly maxUsedTransactionIds?: number;
  /**
   * Send the instances' RDS events (RDS_EVENT_CATEGORIES) to the critical topic, through an
   * EventBridge rule (see `rdsEventPattern` for why not an RDS event subscription). @default true
   */
  readonly eventSubscription?: boolean;
}

/** Storage autoscaling starts at 10% free (USER_PIOPS.Autoscaling); the storage alarms never fire above it. */
const AUTOSCALING_FREE_SHARE = 0.1;

/** RDS event categories sent to the alert path. */
export const RDS_EVENT_CATEGORIES = ['failover', 'failure', 'low storage', 'maintenance', 'notification', 'configuration change'] as const;

/**
 * The EventBridge pattern for RDS events of these instances, in these categories.
 *
 * Why EventBridge and not an RDS event subscription: the critical topic is KMS-encrypted, and the
 * RDS documentation contradicts itself on that. The CreateEventSubscription API reference says "RDS
 * event notification is only available for unencrypted SNS topics. If you specify an encrypted SNS
 * topic, event notifications aren't sent for the topic"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateEventSubscription.html),
 * while the user guide's "Subscribing to Amazon RDS event notification" says to grant RDS the key
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Subscribing.html). RDS also
 * sends every event to EventBridge as `RDS DB Instance Event`
 * (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-rds.html), and EventBridge
 * publishing to an encrypted topic is documented without contradiction (the key lets
 * events.amazonaws.com use it, which AlertTopics grants); a failed delivery lands in the rule
 * target's dead-letter queue, which alarms. So that path is the one that delivers for certain.
 *
 * Scoped by `resources` (the instance ARNs): AWS's own samples disagree on SourceIdentifier
 * (`rds:my-db-instance` in one, `testdb` in another), but both name the instance ARN there.
 */
export function rdsEventPattern(instanceArns: string[]): events.EventPattern {
  return {
    source: ['aws.rds'],
    detailType: ['RDS DB Instance Event'],
    resources: instanceArns,
    detail: { EventCategories: [...RDS_EVENT_CATEGORIES] },
  };
}

/** One alarm of the catalogue: what it watches and where it goes. */
export interface CatalogueAlarm {
  readonly alarm: cloudwatch.Alarm;
  readonly severity: Severity;
}

/**
 * The PostgreSQL alarm catalogue (seed 004 thresholds, else AWS's recommended RDS alarms), every
 * alarm sending ALARM and OK to its severity's topic, plus the RDS event subscriptions.
 */
export class DatabaseAlarms extends Construct {
  /** Alarms by short name (`cpu`, `connections`, `replica-lag`, …). */
  public readonly alarms: Readonly<Record<string, CatalogueAlarm>>;
  /** max_connections the connection alarm assumes for the primary. */
  public readonly maxConnections: number;
  /** The EventBridge rule that sends the instances' RDS events to the critical topic. */
  public readonly eventRule?: events.Rule;

  constructor(scope: Construct, id: string, props: DatabaseAlarmsProps) {
    super(scope, id);
    const t = props.thresholds;
    const spec = instanceClassSpec(props.instanceClass);
    if (props.allocatedStorageGiB <= 0) throw new Error(`allocatedStorageGiB must be positive, got ${props.allocatedStorageGiB}`);
    this.maxConnections = rdsMaxConnections(spec.memoryGiB);
    const alarms: Record<string, CatalogueAlarm> = {};
    const name = (s: string) => `${props.envName}-db-${s}`;
    const minute = Duration.minutes(1);

    const add = (key: string, severity: Severity, p: cloudwatch.AlarmProps) => {
      const alarm = new cloudwatch.Alarm(this, key.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()), p);
      notifyOnAlarmAndOk(props.topics[severity], alarm);
      alarms[key] = { alarm, severity };
    };
    const db = props.instance;

    add('cpu', 'critical', {
      alarmName: name('cpu'),
      alarmDescription: `${props.envName} PostgreSQL primary: CPUUtilization above ${t.dbCpuPercent}% for 5 minutes: little headroom left before queries queue. Check the top wait events and pg_stat_statements.`,
      metric: db.metricCPUUtilization({ period: minute, statistic: 'Average' }),
      threshold: t.dbCpuPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });

    // Storage. CloudWatch has no metric of the allocated size, so no alarm can compute a share of
    // the *current* allocation once storage autoscaling has grown it (RDS does: its low-storage
    // event, RDS-EVENT-0089, gives the share, and RDS-EVENT-0225 warns near the ceiling; both come
    // through the events rule below). What stays true at any allocation: autoscaling adds space as
    // soon as free space is at most 10% of the allocation for 5 minutes, and the allocation is never
    // below the initial one, so free space below 10% of the initial allocation for 15 minutes means
    // autoscaling did not add space (ceiling reached, the wait after its last growth, or the disk
    // fills faster than it grows). https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html
    const storageAlarm = (who: 'primary' | 'replica', instance: rds.IDatabaseInstance): cloudwatch.AlarmProps => {
      const share = Math.min(1 - t.dbDiskPercent / 100, AUTOSCALING_FREE_SHARE);
      const floorBytes = Math.round(props.allocatedStorageGiB * 1024 ** 3 * share);
      const ceiling = props.maxAllocatedStorageGiB ? ` (its ceiling is ${props.maxAllocatedStorageGiB} GiB)` : '';
      return {
        alarmName: name(who === 'primary' ? 'storage' : 'replica-storage'),
        alarmDescription:
          `${props.envName} PostgreSQL ${who}: FreeStorageSpace below ${(floorBytes / 1024 ** 3).toFixed(1)} GiB for 15 minutes. ` +
          `Storage autoscaling grows the volume once free space is 10% of the allocation (never less than the initial ${props.allocatedStorageGiB} GiB), ` +
          `so this little free space means it did not: it reached its ceiling${ceiling}, is waiting after its last growth, or the disk fills faster than it grows.` +
          (who === 'replica' ? ' A replica whose disk fills stops replaying WAL.' : ''),
        metric: instance.metricFreeStorageSpace({ period: Duration.minutes(5), statistic: 'Minimum' }),
        threshold: floorBytes,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      };
    };
    add('storage', 'critical', storageAlarm('primary', db));

    const memoryBytes = spec.memoryGiB * 1024 ** 3;
    const freeMemoryBytes = Math.round(memoryBytes * (1 - t.dbMemoryPercent / 100));
    add('memory', 'critical', {
      alarmName: name('memory'),
      alarmDescription: `${props.envName} PostgreSQL primary: more than ${t.dbMemoryPercent}% of the db.${props.instanceClass}'s ${spec.memoryGiB} GiB in use (FreeableMemory below ${(freeMemoryBytes / 1024 ** 2).toFixed(0)} MiB) for 5 minutes: the page cache shrinks and the instance may start to swap.`,
      metric: db.metricFreeableMemory({ period: minute, statistic: 'Minimum' }),
      threshold: freeMemoryBytes,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });

    const connections = Math.floor(this.maxConnections * t.dbConnectionsRatio);
    add('connections', 'critical', {
      alarmName: name('connections'),
      alarmDescription: `${props.envName} PostgreSQL primary: more than ${connections} connections = ${t.dbConnectionsRatio} × max_connections ${this.maxConnections} (LEAST(DBInstanceClassMemory/9531392, 5000) on db.${props.instanceClass}) for 3 minutes; at max_connections new connections are refused. Look for leaked pools and idle-in-transaction sessions.`,
      metric: db.metricDatabaseConnections({ period: minute, statistic: 'Maximum' }),
      threshold: connections,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });

    for (const [key, metricName, threshold] of [
      ['read-latency', 'ReadLatency', t.dbReadLatencySeconds],
      ['write-latency', 'WriteLatency', t.dbWriteLatencySeconds],
    ] as const) {
      add(key, 'warning', {
        alarmName: name(key),
        alarmDescription: `${props.envName} PostgreSQL primary: ${metricName} above ${threshold * 1000} ms for 5 minutes: storage is slowing every query down. Check IOPS/throughput limits and the wait events.`,
        metric: db.metric(metricName, { period: minute, statistic: 'Average', unit: cloudwatch.Unit.SECONDS }),
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
    }

    const load = t.dbLoadPerVcpu * spec.vcpus;
    add('load', 'warning', {
      alarmName: name('load'),
      alarmDescription: `${props.envName} PostgreSQL primary: DBLoad (average active sessions) above ${load} = ${t.dbLoadPerVcpu} × ${spec.vcpus} vCPUs for 10 minutes: sessions are queueing. The message lists the top Performance Insights wait events (LWLock:WALWrite, IO:WALSync and the like mean write-ahead log pressure).`,
      metric: db.metric('DBLoad', { period: minute, statistic: 'Average' }),
      threshold: load,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 10,
      datapointsToAlarm: 8,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });

    const xids = props.maxUsedTransactionIds ?? 1_000_000_000;
    add('transaction-ids', 'critical', {
      alarmName: name('transaction-ids'),
      alarmDescription: `${props.envName} PostgreSQL primary: MaximumUsedTransactionIDs above ${xids.toLocaleString('en-US')}; at about 2.1 billion PostgreSQL stops accepting writes to prevent wraparound. Find what blocks autovacuum (long transactions, abandoned replication slots).`,
      metric: db.metric('MaximumUsedTransactionIDs', { period: Duration.minutes(5), statistic: 'Average' }),
      threshold: xids,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });

    if (props.replica) {
      if (props.replicaInstanceClass) instanceClassSpec(props.replicaInstanceClass);
      // A replica fills its disk and burns CPU on its own (its reads, its WAL replay); seed 004's
      // thresholds apply to it as to the primary.
      add('replica-storage', 'critical', storageAlarm('replica', props.replica));
      add('replica-cpu', 'warning', {
        alarmName: name('replica-cpu'),
        alarmDescription: `${props.envName} PostgreSQL replica: CPUUtilization above ${t.dbCpuPercent}% for 5 minutes (the primary's CPU threshold). Reads on the replica slow down and it may fall behind (see replica lag).`,
        metric: props.replica.metricCPUUtilization({ period: minute, statistic: 'Average' }),
        threshold: t.dbCpuPercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
      add('replica-lag', 'warning', {
        alarmName: name('replica-lag'),
        alarmDescription: `${props.envName} PostgreSQL replica: ReplicaLag above ${t.dbReplicaLagSeconds} s for 5 minutes. Reads from the replica are stale, and promoting it now would lose the writes it has not replayed; see the replica runbook.`,
        metric: props.replica.metric('ReplicaLag', { period: minute, statistic: 'Maximum', unit: cloudwatch.Unit.SECONDS }),
        threshold: t.dbReplicaLagSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
    }
    this.alarms = alarms;

    if (props.eventSubscription ?? true) {
      // One rule to the critical topic: RDS events on the shared database are rare and worth one
      // channel. The notifier pings only for failure-like ones (failover, failure, low storage,
      // restarts); maintenance, notification and configuration-change events post quietly.
      this.eventRule = new events.Rule(this, 'Events', {
        description: `${props.envName}: RDS events of the PostgreSQL instances (${RDS_EVENT_CATEGORIES.join(', ')})`,
        eventPattern: rdsEventPattern([db.instanceArn, ...(props.replica ? [props.replica.instanceArn] : [])]),
        targets: [alertTopicTarget(props.topics.critical)],
      });
    }
  }
}
