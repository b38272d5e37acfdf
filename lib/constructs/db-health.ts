import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { LAMBDA_RUNTIME_CA_BUNDLE } from '../../lambda/db-health/connection';
import { ENVIRONMENT_DIMENSION, METRICS_NAMESPACE, type MetricName } from '../../lambda/db-health/contract';
import type { EnvironmentConfig } from '../config';
import { PREFIX_PATTERN } from '../config/service-registry';
import type { AlertTopicMap, Severity } from './alert-topics';
import { notifyOnAlarmAndOk } from './alarms/alarm-actions';
import { PlatformFunction } from './platform-function';

export { LAMBDA_RUNTIME_CA_BUNDLE };

export interface DbHealthProps {
  /** Environment name: the metrics' `Environment` dimension and the prefix of every alarm name. */
  readonly envName: string;
  /** The VPC; the function runs in its `app` subnets. */
  readonly vpc: ec2.IVpc;
  /** Security group that the database accepts (the network stack's `dbClientSecurityGroup`). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Secret of the monitoring login role (a member of pg_monitor): `{ username, password, host?, port?, dbname? }`. */
  readonly monitoringSecret: secretsmanager.ISecret;
  /** Host to probe; must match the server certificate. @default - the secret's `host` */
  readonly databaseHost?: string;
  /** Port. @default - the secret's `port`, else 5432 */
  readonly databasePort?: number;
  /** Database to probe. @default - the secret's `dbname` */
  readonly databaseName?: string;
  /** Schedule, long-query threshold, size and xid-age limits, unused-index floor (the config's `dbHealth`). */
  readonly settings: EnvironmentConfig['dbHealth'];
  /** Schema whose tables must carry a service prefix. */
  readonly appSchema: string;
  /** The registered service prefixes, e.g. `['gt_', 'ag_']`. */
  readonly servicePrefixes: readonly string[];
  /** Alarm when connections_total / connections_max exceeds this. @default 0.8 (seed 004) */
  readonly connectionsRatio?: number;
  /** Alarm when the buffer hit ratio falls below this. @default 0.95 (seed 004) */
  readonly bufferHitRatioMin?: number;
  /** Alert topics by severity; every alarm sends ALARM and OK. */
  readonly alertTopics: AlertTopicMap;
  /** When the digest is sent. @default - every day at 00:00 UTC (09:00 in Seoul) */
  readonly digestSchedule?: events.Schedule;
  /** PEM bundle, inside the function, that the server certificate must chain to. @default LAMBDA_RUNTIME_CA_BUNDLE */
  readonly caBundlePath?: string;
  /** Function memory, MiB. @default 256 */
  readonly memorySize?: number;
}

/** One alarm of the probe and where it goes. */
export interface DbHealthAlarm {
  readonly alarm: cloudwatch.Alarm;
  readonly severity: Severity;
}

/**
 * db-health: a scheduled in-VPC Lambda that probes PostgreSQL from inside (connections by state,
 * long-running queries, buffer hit ratio, size, unused indexes, unprefixed tables, replication
 * lag, xid age) with one statement per run, publishes the results as EMF custom metrics, alarms
 * on them, and sends a daily digest to the `info` topic.
 *
 * | alarm                      | condition                                                  | severity |
 * |----------------------------|------------------------------------------------------------|----------|
 * | `connections`              | connections_total / connections_max > 0.8, 5 minutes       | critical |
 * | `xid-age`                  | xid_age > settings.xidAgeLimit                             | critical |
 * | `buffer-hit-ratio`         | buffer_hit_ratio < 0.95, 3 datapoints                      | warning  |
 * | `long-running-queries`     | long_running_queries > 0 for 5 minutes                     | warning  |
 * | `idle-in-transaction`      | connections_idle_in_transaction > 0 for 5 minutes          | warning  |
 * | `database-size`            | database_size_bytes > settings.databaseSizeLimitGiB        | warning  |
 * | `unprefixed-tables`        | tables_without_service_prefix > 0                          | warning  |
 * | `probe-missing`            | no connections_max datapoint (missing data is breaching)   | warning  |
 *
 * Missing data: the threshold alarms treat it as not breaching (a silent probe must not flip
 * them to OK or ALARM); `probe-missing` is the one that notices the silence.
 */
export class DbHealth extends Construct {
  /** The probe function. */
  public readonly function: PlatformFunction;
  /** The probe schedule (every `settings.scheduleMinutes` minutes). */
  public readonly probeRule: events.Rule;
  /** The daily digest schedule. */
  public readonly digestRule: events.Rule;
  /** Alarms by short name (`connections`, `xid-age`, …). */
  public readonly alarms: Readonly<Record<string, DbHealthAlarm>>;
  /** The datapoint period: one probe per period. */
  public readonly period: Duration;
  private readonly envName: string;
  private readonly props: DbHealthProps;

  constructor(scope: Construct, id: string, props: DbHealthProps) {
    super(scope, id);
    const s = props.settings;
    if (!Number.isInteger(s.scheduleMinutes) || s.scheduleMinutes < 1 || s.scheduleMinutes > 60) {
      throw new Error(`DbHealth: settings.scheduleMinutes must be an integer from 1 to 60 (got ${s.scheduleMinutes})`);
    }
    if (props.servicePrefixes.length === 0) throw new Error('DbHealth: servicePrefixes must name at least one prefix');
    const badPrefix = props.servicePrefixes.find((p) => !PREFIX_PATTERN.test(p) || p.includes(','));
    if (badPrefix !== undefined) throw new Error(`DbHealth: servicePrefixes has an invalid prefix ${JSON.stringify(badPrefix)} (expected e.g. "gt_")`);
    const ratio = props.connectionsRatio ?? 0.8;
    if (!(ratio > 0 && ratio <= 1)) throw new Error(`DbHealth: connectionsRatio must be in (0, 1] (got ${ratio})`);
    const hitMin = props.bufferHitRatioMin ?? 0.95;
    if (!(hitMin > 0 && hitMin <= 1)) throw new Error(`DbHealth: bufferHitRatioMin must be in (0, 1] (got ${hitMin})`);
    if (props.databasePort !== undefined && !(Number.isInteger(props.databasePort) && props.databasePort > 0 && props.databasePort < 65536)) {
      throw new Error(`DbHealth: databasePort must be a TCP port (got ${props.databasePort})`);
    }
    this.envName = props.envName;
    this.props = props;
    this.period = Duration.minutes(s.scheduleMinutes);

    this.function = new PlatformFunction(this, 'Probe', {
      entry: 'lambda/db-health/handler.ts',
      description: `${props.envName}: PostgreSQL health probe (EMF metrics) and daily digest`,
      memorySize: props.memorySize ?? 256,
      timeout: Duration.seconds(30),
      vpc: props.vpc,
      securityGroups: [props.securityGroup],
      environment: {
        ENVIRONMENT_NAME: props.envName,
        METRICS_NAMESPACE,
        DB_SECRET_ARN: props.monitoringSecret.secretArn,
        ...(props.databaseHost !== undefined ? { DB_HOST: props.databaseHost } : {}),
        ...(props.databasePort !== undefined ? { DB_PORT: String(props.databasePort) } : {}),
        ...(props.databaseName !== undefined ? { DB_NAME: props.databaseName } : {}),
        DB_CA_PATH: props.caBundlePath ?? LAMBDA_RUNTIME_CA_BUNDLE,
        LONG_QUERY_SECONDS: String(s.longQuerySeconds),
        APP_SCHEMA: props.appSchema,
        SERVICE_PREFIXES: props.servicePrefixes.join(','),
        UNUSED_INDEX_MIN_BYTES: String(s.unusedIndexMinBytes),
        DIGEST_TOPIC_ARN: props.alertTopics.info.topicArn,
        POWERTOOLS_SERVICE_NAME: 'db-health',
      },
    });
    const fn = this.function.function;
    // Not secret.grantRead(): for a secret encrypted with a key in another stack (the Data
    // stack's database key) it writes this role into the key policy, a cycle between the stacks.
    // The same grant, on the role alone (the key policy already trusts the account's IAM):
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [props.monitoringSecret.secretFullArn ?? `${props.monitoringSecret.secretArn}-??????`],
      }),
    );
    if (props.monitoringSecret.encryptionKey) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [props.monitoringSecret.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    props.alertTopics.info.grantPublish(fn);
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        'grantPublish on the KMS-encrypted info topic: SNS needs the GenerateDataKey family on the topic key to encrypt the digest; the statement names that one key ARN.',
    });

    Validations.of(fn).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'Scheduled probe and digest: a failed probe shows as the db-health-probe-missing alarm, and a stale probe or digest event is not worth replaying (the next run reads the current state). EventBridge delivery failures go to the undelivered-by-eventbridge queue.',
    });

    this.probeRule = new events.Rule(this, 'ProbeSchedule', {
      description: `${props.envName}: run the db-health probe every ${s.scheduleMinutes} minute(s)`,
      schedule: events.Schedule.rate(this.period),
      targets: [new targets.LambdaFunction(fn, { event: events.RuleTargetInput.fromObject({ mode: 'probe' }), retryAttempts: 0 })],
    });
    this.digestRule = new events.Rule(this, 'DigestSchedule', {
      description: `${props.envName}: send the daily db-health digest to the info topic`,
      schedule: props.digestSchedule ?? events.Schedule.cron({ minute: '0', hour: '0' }),
      targets: [new targets.LambdaFunction(fn, { event: events.RuleTargetInput.fromObject({ mode: 'digest' }), retryAttempts: 2 })],
    });

    this.alarms = this.createAlarms(ratio, hitMin);
  }

  /** A contract metric of this environment, one datapoint per probe period. */
  public metric(name: MetricName, statistic: string = 'Maximum', props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { [ENVIRONMENT_DIMENSION]: this.envName },
      statistic,
      period: this.period,
      ...props,
    });
  }

  /** connections_total / connections_max, 0 to 1. */
  public connectionsRatioMetric(): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: 'total / maxconn',
      usingMetrics: { total: this.metric('connections_total'), maxconn: this.metric('connections_max') },
      period: this.period,
      label: 'connections / max_connections',
    });
  }

  private createAlarms(ratio: number, hitMin: number): Record<string, DbHealthAlarm> {
    const s = this.props.settings;
    const env = this.envName;
    // "For 5 minutes": as many consecutive probe periods as cover 5 minutes.
    const fiveMinutes = Math.max(1, Math.ceil(5 / s.scheduleMinutes));
    const alarms: Record<string, DbHealthAlarm> = {};
    const add = (key: string, severity: Severity, p: Omit<cloudwatch.AlarmProps, 'alarmName'>): void => {
      const alarm = new cloudwatch.Alarm(this, key.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()), {
        alarmName: `${env}-db-health-${key}`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...p,
      });
      notifyOnAlarmAndOk(this.props.alertTopics[severity], alarm);
      alarms[key] = { alarm, severity };
    };
    const sizeLimitBytes = Math.round(s.databaseSizeLimitGiB * 1024 ** 3);

    add('connections', 'critical', {
      alarmDescription: `${env} PostgreSQL: connections above ${ratio} x max_connections for 5 minutes, as seen by the db-health probe; at max_connections new connections are refused. Look for a connection leak or a pool sized past max_connections.`,
      metric: this.connectionsRatioMetric(),
      threshold: ratio,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: fiveMinutes,
      datapointsToAlarm: fiveMinutes,
    });
    add('xid-age', 'critical', {
      alarmDescription: `${env} PostgreSQL: age(datfrozenxid) above ${s.xidAgeLimit.toLocaleString('en-US')} (wraparound stops writes at ~2.1 billion). Check autovacuum progress and long-open transactions.`,
      metric: this.metric('xid_age'),
      threshold: s.xidAgeLimit,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    add('buffer-hit-ratio', 'warning', {
      alarmDescription: `${env} PostgreSQL: buffer hit ratio below ${hitMin} (the target is 95% or more of reads served from memory). Reads are going to disk: check the working set against shared_buffers and the top statements in the digest.`,
      metric: this.metric('buffer_hit_ratio', 'Average'),
      threshold: hitMin,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
    });
    add('long-running-queries', 'warning', {
      alarmDescription: `${env} PostgreSQL: queries active for more than ${s.longQuerySeconds} s, for 5 minutes; they hold locks and keep vacuum from cleaning up behind them. Find them in pg_stat_activity (state = 'active', oldest query_start).`,
      metric: this.metric('long_running_queries'),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: fiveMinutes,
      datapointsToAlarm: fiveMinutes,
    });
    add('idle-in-transaction', 'warning', {
      alarmDescription: `${env} PostgreSQL: sessions idle inside an open transaction at every probe for 5 minutes. They hold locks and block vacuum; find them in pg_stat_activity (state = 'idle in transaction').`,
      metric: this.metric('connections_idle_in_transaction', 'Minimum'),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: fiveMinutes,
      datapointsToAlarm: fiveMinutes,
    });
    add('database-size', 'warning', {
      alarmDescription: `${env} PostgreSQL: database larger than ${s.databaseSizeLimitGiB} GiB, the size the team plans storage, backup and restore times for. See the largest tables in the daily digest.`,
      metric: this.metric('database_size_bytes'),
      threshold: sizeLimitBytes,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    add('unprefixed-tables', 'warning', {
      alarmDescription: `${env} PostgreSQL: tables in schema "${this.props.appSchema}" whose names carry no registered service prefix, so no service's roles own or can reach them. The daily digest lists them with their owners.`,
      metric: this.metric('tables_without_service_prefix'),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    const silentPeriods = Math.max(3, fiveMinutes);
    add('probe-missing', 'warning', {
      alarmDescription: `${env} db-health: the probe has reported nothing for ${silentPeriods * s.scheduleMinutes} minutes. Check the function's errors and logs: the database may be unreachable, or the monitoring secret wrong.`,
      metric: this.metric('connections_max', 'SampleCount'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: silentPeriods,
      datapointsToAlarm: silentPeriods,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    return alarms;
  }

  /** Dashboard widgets for the probe's metrics and alarms (for the dashboard construct to place). */
  public widgets(): cloudwatch.IWidget[] {
    const s = this.props.settings;
    const width = 8;
    const height = 6;
    const g = (title: string, left: cloudwatch.IMetric[], o: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title: `db-health: ${title}`, left, width, height, ...o });
    const a = (key: string) => this.alarms[key].alarm;
    return [
      new cloudwatch.TextWidget({ markdown: `## ${this.envName}: db-health (inside PostgreSQL)`, width: 24, height: 1 }),
      new cloudwatch.AlarmStatusWidget({
        title: `db-health alarms (${this.envName})`,
        alarms: Object.values(this.alarms).map((x) => x.alarm),
        width: 24,
        height: 3,
      }),
      g('connections by state', [
        this.metric('connections_total', 'Maximum', { label: 'total' }),
        this.metric('connections_active', 'Maximum', { label: 'active' }),
        this.metric('connections_idle', 'Maximum', { label: 'idle' }),
        this.metric('connections_idle_in_transaction', 'Maximum', { label: 'idle in transaction' }),
      ], { right: [this.metric('connections_max', 'Maximum', { label: 'max_connections' })] }),
      g('connections / max_connections', [this.connectionsRatioMetric()], {
        leftAnnotations: [a('connections').toAnnotation()],
        leftYAxis: { min: 0, max: 1 },
      }),
      g('long-running queries and oldest transaction', [this.metric('long_running_queries', 'Maximum', { label: `active > ${s.longQuerySeconds} s` })], {
        right: [this.metric('oldest_transaction_seconds', 'Maximum', { label: 'oldest transaction (s)' })],
      }),
      g('buffer hit ratio', [this.metric('buffer_hit_ratio', 'Average')], {
        leftAnnotations: [a('buffer-hit-ratio').toAnnotation()],
        leftYAxis: { min: 0.8, max: 1 },
      }),
      g('database size', [this.metric('database_size_bytes')], { leftAnnotations: [a('database-size').toAnnotation()], leftYAxis: { min: 0 } }),
      g('xid age', [this.metric('xid_age')], { leftAnnotations: [a('xid-age').toAnnotation()], leftYAxis: { min: 0 } }),
      g('unused indexes and unprefixed tables', [
        this.metric('unused_indexes', 'Maximum', { label: 'unused indexes' }),
        this.metric('tables_without_service_prefix', 'Maximum', { label: 'tables without prefix' }),
      ]),
      g('replication lag (s)', [this.metric('replication_lag_seconds')], { leftYAxis: { min: 0 } }),
      g('probe runs', [this.function.function.metricInvocations({ period: this.period }), this.function.function.metricErrors({ period: this.period })], {
        right: [this.function.function.metricDuration({ period: this.period, statistic: 'p90' })],
      }),
    ];
  }
}
