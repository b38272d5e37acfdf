import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { CW_AGENT_NAMESPACE, DISK_METRIC } from './workers/cloudwatch-agent-config';
import { DATA_MOUNTPOINT } from './workers/naming';
import type { SlackNotifier } from './slack-notifier';

export interface PlatformDashboardProps {
  /** Environment name; the dashboard is `<env>-platform`. */
  readonly envName: string;
  /** The PostgreSQL primary. */
  readonly database: rds.IDatabaseInstance;
  /** The read replica. @default - none */
  readonly replica?: rds.IDatabaseInstance;
  /** max_connections the connection alarm assumes, drawn as a line. @default - no line */
  readonly maxConnections?: number;
  /** vCPUs of the primary, drawn on the DBLoad graph (load above it means sessions wait). @default - no line */
  readonly vcpus?: number;
  /** Cache node IDs (`<group>-001`, …). */
  readonly cacheNodeIds: readonly string[];
  /** The cache-health probe: its widgets follow the Redis row. @default - no probe row */
  readonly cacheHealth?: { widgets(): cloudwatch.IWidget[] };
  /** The Slack notifier, for its health row. @default - no notifier row */
  readonly notifier?: SlackNotifier;
}

const WIDTH = 24;

/**
 * One CloudWatch dashboard per environment, in the order on-call reads it: the database (CPU,
 * connections, latency, DBLoad), the cache (engine CPU, memory, evictions, then the cache-health
 * probe's view from inside), the workers' `/data`
 * disks, and whether alerts themselves are flowing (the notifier).
 */
export class PlatformDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PlatformDashboardProps) {
    super(scope, id);
    const minute = Duration.minutes(1);
    const dbs = [{ label: 'primary', db: props.database }, ...(props.replica ? [{ label: 'replica', db: props.replica }] : [])];
    const perDb = (metricName: string, statistic: string) => dbs.map(({ label, db }) => db.metric(metricName, { period: minute, statistic, label }));
    const perNode = (metricName: string, statistic: string, period = minute) =>
      props.cacheNodeIds.map((node, i) => new cloudwatch.Metric({ namespace: 'AWS/ElastiCache', metricName, dimensionsMap: { CacheClusterId: node }, statistic, period, label: `node ${String(i + 1).padStart(3, '0')}` }));
    const graph = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: 6, height: 6, ...extra });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${props.envName}-platform`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: `## ${props.envName}: PostgreSQL`, width: WIDTH, height: 1 }));
    this.dashboard.addWidgets(
      graph('RDS CPUUtilization (%)', perDb('CPUUtilization', 'Average'), { leftYAxis: { min: 0, max: 100 } }),
      graph('RDS DatabaseConnections', perDb('DatabaseConnections', 'Maximum'), {
        leftAnnotations: props.maxConnections ? [{ value: props.maxConnections, label: 'max_connections', color: cloudwatch.Color.RED }] : undefined,
      }),
      graph('RDS Read/Write latency (s)', dbs.flatMap(({ label, db }) => [
        db.metric('ReadLatency', { period: minute, statistic: 'Average', label: `${label} read` }),
        db.metric('WriteLatency', { period: minute, statistic: 'Average', label: `${label} write` }),
      ])),
      graph('RDS DBLoad (average active sessions)', perDb('DBLoad', 'Average'), {
        leftAnnotations: props.vcpus ? [{ value: props.vcpus, label: 'vCPUs', color: cloudwatch.Color.ORANGE }] : undefined,
      }),
    );
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: `## ${props.envName}: Redis`, width: WIDTH, height: 1 }));
    this.dashboard.addWidgets(
      graph('Redis EngineCPUUtilization (%)', perNode('EngineCPUUtilization', 'Average'), { width: 8, leftYAxis: { min: 0, max: 100 } }),
      graph('Redis DatabaseMemoryUsagePercentage (%)', perNode('DatabaseMemoryUsagePercentage', 'Maximum'), { width: 8, leftYAxis: { min: 0, max: 100 } }),
      graph('Redis Evictions (per 5 min)', perNode('Evictions', 'Sum', Duration.minutes(5)), { width: 8 }),
    );
    // What only a client sees: namespaces, keys without a TTL, unregistered keys, the biggest key.
    if (props.cacheHealth) this.dashboard.addWidgets(...props.cacheHealth.widgets());
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: `## ${props.envName}: workers and alerting`, width: WIDTH, height: 1 }));
    const row: cloudwatch.IWidget[] = [
      graph(`Worker ${DATA_MOUNTPOINT} disk used (%)`, [
        new cloudwatch.MathExpression({
          expression: `SEARCH('{${CW_AGENT_NAMESPACE},InstanceId,path} MetricName="${DISK_METRIC}" path="${DATA_MOUNTPOINT}"', 'Maximum', 300)`,
          label: '',
          period: Duration.minutes(5),
        }),
      ], { leftYAxis: { min: 0, max: 100 } }),
    ];
    if (props.notifier) {
      const fn = props.notifier.function.function;
      row.push(
        graph('Notifier invocations / errors / throttles', [
          fn.metricInvocations({ period: Duration.minutes(5), statistic: 'Sum' }),
          fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
          fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        ]),
        graph('Notifier duration (ms)', [fn.metricDuration({ period: Duration.minutes(5), statistic: 'p95', label: 'p95' }), fn.metricDuration({ period: Duration.minutes(5), statistic: 'Maximum', label: 'max' })]),
        graph('Alert queues: oldest message (s) and dead letters', [
          ...Object.entries(props.notifier.queues).map(([s, q]) => q.metricApproximateAgeOfOldestMessage({ period: minute, statistic: 'Maximum', label: `${s} oldest` })),
        ], { right: [props.notifier.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: 'Maximum', label: 'dead letters' })] }),
      );
    }
    this.dashboard.addWidgets(...row);
  }
}
