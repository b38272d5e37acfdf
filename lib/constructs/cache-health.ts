import { Annotations, Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import {
  ENVIRONMENT_DIMENSION,
  METRICS_NAMESPACE,
  PATTERN_DIMENSION,
  PATTERN_METRIC,
  PATTERN_NO_TTL_METRIC,
  PROBE_COMMANDS,
  type MetricName,
} from '../../lambda/cache-health/contract';
import { MONITOR_COMMANDS } from '../config/cache-acl';
import { KEY_PATTERN } from '../config/cache-registry';
import type { EnvironmentConfig } from '../config';
import type { AlertTopicMap, Severity } from './alert-topics';
import { notifyOnAlarmAndOk } from './alarms/alarm-actions';
import type { Cache } from './cache';
import { PlatformFunction } from './platform-function';

export interface CacheHealthProps {
  /** Environment name: the metrics' `Environment` dimension and the prefix of every alarm name. */
  readonly envName: string;
  /** The VPC; the function runs in its `app` subnets. */
  readonly vpc: ec2.IVpc;
  /** The cache: its primary endpoint, port, security group (which gets an ingress rule from the probe) and RBAC users. */
  readonly cache: Cache;
  /** The user the probe logs in as (IAM authentication); must be the cache's `monitor` user. */
  readonly monitorUserId: string;
  /** The registered namespaces, e.g. `['sc:*', 'progress:*']` (`registeredNamespaces()` of the config). */
  readonly keyPatterns: readonly string[];
  /** Namespaces whose keys must carry a TTL (`cache.mustExpire`). */
  readonly mustExpire: readonly string[];
  /** Schedule and scan budget (the config's `cacheHealth`). */
  readonly settings: EnvironmentConfig['cacheHealth'];
  /** Alarm when used_memory / maxmemory exceeds this percentage. @default 80 */
  readonly memoryPercent?: number;
  /** Alert topics by severity; every alarm sends ALARM and OK. */
  readonly alertTopics: AlertTopicMap;
  /** When the digest is sent. @default - every day at 00:05 UTC (09:05 in Seoul, after the db-health digest) */
  readonly digestSchedule?: events.Schedule;
  /** Function memory, MiB. @default 256 */
  readonly memorySize?: number;
}

/** One alarm of the probe and where it goes. */
export interface CacheHealthAlarm {
  readonly alarm: cloudwatch.Alarm;
  readonly severity: Severity;
}

/**
 * cache-health: a scheduled in-VPC Lambda that logs in to the cache as the monitor user (IAM token,
 * verified TLS) and reads INFO plus a budgeted SCAN sample (TTL and MEMORY USAGE per key, never a
 * value), publishes EMF metrics, alarms on them and sends a daily digest to the `info` topic.
 *
 * | alarm                 | condition                                                      | severity |
 * |-----------------------|----------------------------------------------------------------|----------|
 * | `keys-without-ttl`    | keys_without_ttl > 0 (keys in a must-expire namespace, no TTL) | warning  |
 * | `unregistered-keys`   | keys_unregistered > 0 (keys in no registered namespace)        | warning  |
 * | `memory`              | used_memory / maxmemory > memoryPercent for 5 minutes          | warning  |
 * | `probe-missing`       | no keys_total datapoint (missing data is breaching)            | warning  |
 *
 * The node-level memory alarm (cache-alarms.ts, critical) pages; this one is the probe's own view
 * of the same pressure, with the namespaces to look at in the digest.
 */
export class CacheHealth extends Construct {
  /** The probe function. */
  public readonly function: PlatformFunction;
  /** The probe's own security group (the cache accepts it on its port). */
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly probeRule: events.Rule;
  public readonly digestRule: events.Rule;
  /** Alarms by short name. */
  public readonly alarms: Readonly<Record<string, CacheHealthAlarm>>;
  /** The datapoint period: one probe per period. */
  public readonly period: Duration;
  private readonly props: CacheHealthProps;

  constructor(scope: Construct, id: string, props: CacheHealthProps) {
    super(scope, id);
    const s = props.settings;
    if (!Number.isInteger(s.scheduleMinutes) || s.scheduleMinutes < 1 || s.scheduleMinutes > 60) {
      throw new Error(`CacheHealth: settings.scheduleMinutes must be an integer from 1 to 60 (got ${s.scheduleMinutes})`);
    }
    if (props.keyPatterns.length === 0) throw new Error('CacheHealth: keyPatterns must name at least one namespace');
    for (const [field, list] of [['keyPatterns', props.keyPatterns], ['mustExpire', props.mustExpire]] as const) {
      const bad = list.find((p) => !KEY_PATTERN.test(p));
      if (bad !== undefined) throw new Error(`CacheHealth: ${field} has an invalid namespace ${JSON.stringify(bad)} (expected e.g. "progress:*")`);
    }
    const memoryPercent = props.memoryPercent ?? 80;
    if (!(memoryPercent > 0 && memoryPercent <= 100)) throw new Error(`CacheHealth: memoryPercent must be in (0, 100] (got ${memoryPercent})`);
    const monitor = props.cache.users.specs[props.monitorUserId];
    if (!monitor || monitor.kind !== 'monitor') {
      throw new Error(`CacheHealth: monitorUserId "${props.monitorUserId}" is not a monitor user of the cache (monitor users: ${props.cache.users.userIdsOfKind('monitor').join(', ') || 'none'})`);
    }
    const missing = PROBE_COMMANDS.filter((c) => !(MONITOR_COMMANDS as readonly string[]).includes(c));
    if (missing.length > 0) throw new Error(`CacheHealth: the monitor ACL does not allow ${missing.join(', ')}, which the probe runs`);
    this.props = props;
    this.period = Duration.minutes(s.scheduleMinutes);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.envName} cache-health probe: the cache port, and HTTPS out for SNS`,
      allowAllOutbound: true,
    });
    // The ingress rule on the cache's group lives in this stack (the peer's), so the data stack
    // does not depend on this one.
    this.securityGroup.connections.allowTo(props.cache.securityGroup, ec2.Port.tcp(props.cache.port), `${props.envName} cache-health probe`);
    // allowTo also asks for an egress rule, which allowAllOutbound already covers (HTTPS to SNS).
    Annotations.of(this.securityGroup).acknowledgeWarning('@aws-cdk/aws-ec2:ipv4IgnoreEgressRule', 'allowAllOutbound covers the egress; allowTo is for the cache ingress rule');

    const rg = props.cache.replicationGroup;
    this.function = new PlatformFunction(this, 'Probe', {
      entry: 'lambda/cache-health/handler.ts',
      description: `${props.envName}: cache health probe (EMF metrics) and daily digest`,
      memorySize: props.memorySize ?? 256,
      timeout: Duration.seconds(60),
      vpc: props.vpc,
      securityGroups: [this.securityGroup],
      environment: {
        ENVIRONMENT_NAME: props.envName,
        METRICS_NAMESPACE,
        CACHE_HOST: rg.attrPrimaryEndPointAddress,
        CACHE_PORT: rg.attrPrimaryEndPointPort,
        CACHE_REPLICATION_GROUP_ID: rg.ref,
        CACHE_USER_ID: props.monitorUserId,
        KEY_PATTERNS: props.keyPatterns.join(','),
        MUST_EXPIRE: props.mustExpire.join(','),
        SCAN_MAX_KEYS: String(s.scanMaxKeys),
        SCAN_COUNT: String(s.scanCount),
        DIGEST_TOPIC_ARN: props.alertTopics.info.topicArn,
        POWERTOOLS_SERVICE_NAME: 'cache-health',
      },
    });
    const fn = this.function.function;
    props.cache.users.grantConnect(fn, rg.ref, [props.monitorUserId]);
    props.alertTopics.info.grantPublish(fn);
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'grantPublish on the KMS-encrypted info topic: SNS needs the GenerateDataKey family on the topic key to encrypt the digest; the statement names that one key ARN.',
    });
    Validations.of(fn).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'Scheduled probe and digest: a failed probe shows as the cache-health-probe-missing alarm, and a stale probe or digest event is not worth replaying (the next run reads the current state). EventBridge delivery failures go to the undelivered-by-eventbridge queue.',
    });

    this.probeRule = new events.Rule(this, 'ProbeSchedule', {
      description: `${props.envName}: run the cache-health probe every ${s.scheduleMinutes} minute(s)`,
      schedule: events.Schedule.rate(this.period),
      targets: [new targets.LambdaFunction(fn, { event: events.RuleTargetInput.fromObject({ mode: 'probe' }), retryAttempts: 0 })],
    });
    this.digestRule = new events.Rule(this, 'DigestSchedule', {
      description: `${props.envName}: send the daily cache-health digest to the info topic`,
      schedule: props.digestSchedule ?? events.Schedule.cron({ minute: '5', hour: '0' }),
      targets: [new targets.LambdaFunction(fn, { event: events.RuleTargetInput.fromObject({ mode: 'digest' }), retryAttempts: 2 })],
    });
    this.alarms = this.createAlarms(memoryPercent);
  }

  /** A contract metric of this environment, one datapoint per probe period. */
  public metric(name: MetricName, statistic: string = 'Maximum', props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { [ENVIRONMENT_DIMENSION]: this.props.envName }, statistic, period: this.period, ...props });
  }

  /** A namespace's estimated keys (or keys without a TTL). */
  public patternMetric(pattern: string, withoutTtl = false): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: withoutTtl ? PATTERN_NO_TTL_METRIC : PATTERN_METRIC,
      dimensionsMap: { [ENVIRONMENT_DIMENSION]: this.props.envName, [PATTERN_DIMENSION]: pattern },
      statistic: 'Maximum',
      period: this.period,
      label: pattern,
    });
  }

  private createAlarms(memoryPercent: number): Record<string, CacheHealthAlarm> {
    const s = this.props.settings;
    const env = this.props.envName;
    const fiveMinutes = Math.max(1, Math.ceil(5 / s.scheduleMinutes));
    const alarms: Record<string, CacheHealthAlarm> = {};
    const add = (key: string, severity: Severity, p: Omit<cloudwatch.AlarmProps, 'alarmName'>): void => {
      const alarm = new cloudwatch.Alarm(this, key.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()), {
        alarmName: `${env}-cache-health-${key}`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...p,
      });
      notifyOnAlarmAndOk(this.props.alertTopics[severity], alarm);
      alarms[key] = { alarm, severity };
    };
    const sampled = `a sample of at most ${s.scanMaxKeys.toLocaleString('en-US')} keys per probe`;
    add('keys-without-ttl', 'warning', {
      alarmDescription: `${env} cache: keys without a TTL in namespaces that must expire (${this.props.mustExpire.join(', ')}: progress that polling reads), seen in ${sampled}. They never leave and fill memory; the probe's log names a few.`,
      metric: this.metric('keys_without_ttl'),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    add('unregistered-keys', 'warning', {
      alarmDescription: `${env} cache: keys outside every registered namespace (cache.services), seen in ${sampled}. Someone writes keys the registry does not know; the probe's log names a few.`,
      metric: this.metric('keys_unregistered'),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    add('memory', 'warning', {
      alarmDescription: `${env} cache: used_memory above ${memoryPercent}% of maxmemory for 5 minutes, as the cache-health probe reads INFO. See the biggest keys and namespaces in the daily digest.`,
      metric: this.metric('memory_used_ratio'),
      threshold: memoryPercent / 100,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: fiveMinutes,
      datapointsToAlarm: fiveMinutes,
    });
    const silentPeriods = Math.max(3, fiveMinutes);
    add('probe-missing', 'warning', {
      alarmDescription: `${env} cache-health: the probe has reported nothing for ${silentPeriods * s.scheduleMinutes} minutes. Check the function's errors and logs: the cache may be unreachable, or the monitor user's IAM access wrong.`,
      metric: this.metric('keys_total', 'SampleCount'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: silentPeriods,
      datapointsToAlarm: silentPeriods,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    return alarms;
  }

  /** Dashboard widgets for the probe's metrics and alarms (for the dashboard to place). */
  public widgets(): cloudwatch.IWidget[] {
    const g = (title: string, left: cloudwatch.IMetric[], o: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title: `cache-health: ${title}`, left, width: 8, height: 6, ...o });
    const a = (key: string) => this.alarms[key].alarm;
    const fn = this.function.function;
    return [
      new cloudwatch.TextWidget({ markdown: `## ${this.props.envName}: cache-health (inside Redis)`, width: 24, height: 1 }),
      new cloudwatch.AlarmStatusWidget({ title: `cache-health alarms (${this.props.envName})`, alarms: Object.values(this.alarms).map((x) => x.alarm), width: 24, height: 3 }),
      g('memory used / maxmemory', [this.metric('memory_used_ratio', 'Maximum', { label: 'used / max' })], {
        leftAnnotations: [a('memory').toAnnotation()],
        leftYAxis: { min: 0, max: 1 },
        right: [this.metric('fragmentation_ratio', 'Maximum', { label: 'fragmentation ratio' })],
      }),
      g('hit rate', [this.metric('hit_rate', 'Average')], { leftYAxis: { min: 0, max: 1 } }),
      g('evicted and expired keys per minute', [
        this.metric('evicted_keys_per_minute', 'Maximum', { label: 'evicted / min' }),
        this.metric('expired_keys_per_minute', 'Maximum', { label: 'expired / min' }),
      ]),
      g('clients', [this.metric('connected_clients', 'Maximum', { label: 'connected' }), this.metric('blocked_clients', 'Maximum', { label: 'blocked' })]),
      g('keys per namespace (estimated)', this.props.keyPatterns.map((p) => this.patternMetric(p)), {
        right: [this.metric('keys_total', 'Maximum', { label: 'DBSIZE' })],
      }),
      g('keys without TTL (must expire) and unregistered keys', [
        this.metric('keys_without_ttl', 'Maximum', { label: 'without TTL where required' }),
        this.metric('keys_unregistered', 'Maximum', { label: 'unregistered' }),
      ], { leftAnnotations: [a('keys-without-ttl').toAnnotation()] }),
      g('biggest key in the sample (bytes)', [this.metric('biggest_key_bytes')], { leftYAxis: { min: 0 } }),
      g('probe runs and sample', [fn.metricInvocations({ period: this.period }), fn.metricErrors({ period: this.period })], {
        right: [fn.metricDuration({ period: this.period, statistic: 'p90' }), this.metric('keys_sampled', 'Maximum', { label: 'keys sampled' })],
      }),
    ];
  }
}
