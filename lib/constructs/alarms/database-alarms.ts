import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config';
import type { AlertTopicMap, Severity } from '../alert-topics';
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
  /** Allocated storage in GiB; FreeStorageSpace is judged as a share of it. */
  readonly allocatedStorageGiB: number;
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
  /** Subscribe the critical topic to the instances' RDS events (RDS_EVENT_CATEGORIES). @default true */
  readonly eventSubscription?: boolean;
}

/** RDS event categories the subscription covers. */
export const RDS_EVENT_CATEGORIES = ['failover', 'failure', 'low storage', 'maintenance', 'notification', 'configuration change'] as const;

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
    const id0 = db.instanceIdentifier;

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

    const allocatedBytes = props.allocatedStorageGiB * 1024 ** 3;
    const freeStorageBytes = Math.round(allocatedBytes * (1 - t.dbDiskPercent / 100));
    add('storage', 'critical', {
      alarmName: name('storage'),
      alarmDescription: `${props.envName} PostgreSQL primary: more than ${t.dbDiskPercent}% of the ${props.allocatedStorageGiB} GiB allocated is used (FreeStorageSpace below ${(freeStorageBytes / 1024 ** 3).toFixed(1)} GiB). Storage autoscaling may be growing it; check what grew.`,
      metric: db.metricFreeStorageSpace({ period: Duration.minutes(5), statistic: 'Minimum' }),
      threshold: freeStorageBytes,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });

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
      // One subscription to the critical topic: RDS events on the shared database are rare and
      // worth one channel. The notifier pings only for failure-like ones (failover, failure, low
      // storage, restarts); maintenance, notification and configuration-change events post
      // quietly. 'configuration change' is there because Control Tower (CT.RDS.PR.17) asks for it.
      new rds.CfnEventSubscription(this, 'Events', {
        snsTopicArn: props.topics.critical.topicArn,
        sourceType: 'db-instance',
        sourceIds: [id0, ...(props.replica ? [props.replica.instanceIdentifier] : [])],
        eventCategories: [...RDS_EVENT_CATEGORIES],
        enabled: true,
      });
    }
  }
}
