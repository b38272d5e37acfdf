import { Duration, Fn } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config';
import type { AlertTopicMap, Severity } from '../alert-topics';
import { notifyOnAlarmAndOk } from './alarm-actions';
import type { CatalogueAlarm } from './database-alarms';

/** The thresholds this construct reads from the environment config. */
export type CacheAlarmThresholds = Pick<EnvironmentConfig['alarms'], 'cacheCpuPercent' | 'cacheMemoryPercent' | 'cacheConnections'>;

export interface CacheAlarmsProps {
  /** Environment name; alarm names start with it (`prod-cache-001-cpu`). */
  readonly envName: string;
  /** The replication group (cluster mode disabled: one shard, `1 + replicas` nodes). */
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** Replicas of the primary; node IDs are `<group>-001` … `<group>-00N`. */
  readonly replicas: number;
  /** Thresholds from the environment config. */
  readonly thresholds: CacheAlarmThresholds;
  /** Where ALARM and OK go, by severity. */
  readonly topics: AlertTopicMap;
  /** Evictions per node in 5 minutes that count as memory pressure (progress keys carry TTLs, so a few are normal). @default 1000 */
  readonly evictionsPer5Minutes?: number;
  /** ReplicationLag on a replica, in seconds. @default 5 */
  readonly replicationLagSeconds?: number;
  /**
   * Topic for the group's own ElastiCache notifications (failover, node replacement), set as its
   * NotificationTopicArn. It must not be KMS-encrypted and its policy must use aws:SourceOwner
   * (see ElastiCacheEventTopic), so the encrypted alert topics cannot serve; hence no default.
   */
  readonly notificationTopic: sns.ITopic;
}

/** Node IDs of a cluster-mode-disabled group: `<group>-001`, `<group>-002`, … */
export function cacheNodeIds(replicationGroup: elasticache.CfnReplicationGroup, replicas: number): string[] {
  return Array.from({ length: 1 + replicas }, (_, i) => Fn.join('-', [replicationGroup.ref, String(i + 1).padStart(3, '0')]));
}

/**
 * The cache alarm catalogue, per node because ElastiCache publishes host and engine metrics per
 * cache cluster (node): EngineCPUUtilization, DatabaseMemoryUsagePercentage, Evictions,
 * CurrConnections, and ReplicationLag when there are replicas (on every node, since the primary
 * moves on failover). It also points the group's NotificationTopicArn at its (unencrypted) event topic.
 */
export class CacheAlarms extends Construct {
  /** Alarms by short name (`001-cpu`, `002-replication-lag`, …). */
  public readonly alarms: Readonly<Record<string, CatalogueAlarm>>;

  constructor(scope: Construct, id: string, props: CacheAlarmsProps) {
    super(scope, id);
    if (!Number.isInteger(props.replicas) || props.replicas < 0 || props.replicas > 5) throw new Error(`replicas must be an integer from 0 to 5, got ${props.replicas}`);
    if ((props.notificationTopic as sns.Topic).masterKey) {
      throw new Error(`CacheAlarms notificationTopic ${props.notificationTopic.node.path} is KMS-encrypted; ElastiCache cannot publish to an encrypted topic (it goes inactive). Use an ElastiCacheEventTopic.`);
    }
    const t = props.thresholds;
    const evictions = props.evictionsPer5Minutes ?? 1000;
    const lag = props.replicationLagSeconds ?? 5;
    const alarms: Record<string, CatalogueAlarm> = {};
    const metric = (node: string, metricName: string, statistic: string, period = Duration.minutes(1)) =>
      new cloudwatch.Metric({ namespace: 'AWS/ElastiCache', metricName, dimensionsMap: { CacheClusterId: node }, statistic, period });
    const add = (key: string, severity: Severity, p: cloudwatch.AlarmProps) => {
      const alarm = new cloudwatch.Alarm(this, `Node${key.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase())}`, p);
      notifyOnAlarmAndOk(props.topics[severity], alarm);
      alarms[key] = { alarm, severity };
    };

    cacheNodeIds(props.replicationGroup, props.replicas).forEach((node, i) => {
      const n = String(i + 1).padStart(3, '0');
      const name = (s: string) => `${props.envName}-cache-${n}-${s}`;
      add(`${n}-cpu`, 'warning', {
        alarmName: name('cpu'),
        alarmDescription: `${props.envName} cache node ${n}: EngineCPUUtilization (the Redis thread) above ${t.cacheCpuPercent}% for 5 minutes. Look for big keys and O(N) commands in the slow log.`,
        metric: metric(node, 'EngineCPUUtilization', 'Average'),
        threshold: t.cacheCpuPercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
      add(`${n}-memory`, 'critical', {
        alarmName: name('memory'),
        alarmDescription: `${props.envName} cache node ${n}: DatabaseMemoryUsagePercentage above ${t.cacheMemoryPercent}% for 5 minutes; volatile-ttl eviction starts at 100%. Progress keys must carry a TTL: check key TTLs and namespaces (keys without one are never evicted).`,
        metric: metric(node, 'DatabaseMemoryUsagePercentage', 'Maximum'),
        threshold: t.cacheMemoryPercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
      add(`${n}-evictions`, 'warning', {
        alarmName: name('evictions'),
        alarmDescription: `${props.envName} cache node ${n}: more than ${evictions} evictions in 5 minutes: the cache is too small for its keys and polling falls back to the database.`,
        metric: metric(node, 'Evictions', 'Sum', Duration.minutes(5)),
        threshold: evictions,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      add(`${n}-connections`, 'warning', {
        alarmName: name('connections'),
        alarmDescription: `${props.envName} cache node ${n}: more than ${t.cacheConnections} client connections for 5 minutes: a client is leaking connections.`,
        metric: metric(node, 'CurrConnections', 'Maximum'),
        threshold: t.cacheConnections,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
      if (props.replicas > 0) {
        add(`${n}-replication-lag`, 'warning', {
          alarmName: name('replication-lag'),
          alarmDescription: `${props.envName} cache node ${n}: ReplicationLag above ${lag} s for 5 minutes while it is a replica; a failover now would lose recent writes.`,
          metric: metric(node, 'ReplicationLag', 'Maximum'),
          threshold: lag,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 5,
          datapointsToAlarm: 5,
          // Only replicas publish it; the primary of the moment has no datapoints.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
      }
    });
    this.alarms = alarms;

    // The group's own events (FailoverComplete, CacheNodeReplaceStarted, …) to the alert path.
    props.replicationGroup.notificationTopicArn = props.notificationTopic.topicArn;
  }
}
