/**
 * The db-health metric contract. The names are shared by the probe, the CLI's JSON output, the
 * EMF output, the alarms and the dashboard; the CDK construct imports them from here so that
 * nothing spells a metric name twice. Dependency-free on purpose.
 */

/** CloudWatch namespace of the custom metrics. */
export const METRICS_NAMESPACE = 'Platform/DbHealth';

/** The one dimension every metric carries; its value is the environment name (`prod`). */
export const ENVIRONMENT_DIMENSION = 'Environment';

/** Every metric, in the order the CLI prints them. */
export const METRIC_NAMES = [
  'connections_total',
  'connections_active',
  'connections_idle',
  'connections_idle_in_transaction',
  'connections_max',
  'long_running_queries',
  'oldest_transaction_seconds',
  'buffer_hit_ratio',
  'database_size_bytes',
  'unused_indexes',
  'tables_without_service_prefix',
  'replication_lag_seconds',
  'xid_age',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];

/**
 * One probe's result. `replication_lag_seconds` is absent on a primary without replicas; every
 * other metric is always present.
 */
export type MetricMap = Record<Exclude<MetricName, 'replication_lag_seconds'>, number> & {
  replication_lag_seconds?: number;
};

/** CloudWatch unit of each metric (values of Powertools' `MetricUnit`, spelled as CloudWatch does). */
export const METRIC_UNITS: Readonly<Record<MetricName, 'Count' | 'Seconds' | 'Bytes' | 'None'>> = {
  connections_total: 'Count',
  connections_active: 'Count',
  connections_idle: 'Count',
  connections_idle_in_transaction: 'Count',
  connections_max: 'Count',
  long_running_queries: 'Count',
  oldest_transaction_seconds: 'Seconds',
  buffer_hit_ratio: 'None',
  database_size_bytes: 'Bytes',
  unused_indexes: 'Count',
  tables_without_service_prefix: 'Count',
  replication_lag_seconds: 'Seconds',
  xid_age: 'Count',
};

/** The digest's SNS message marker, so the notifier (or anything else) can recognise it. */
export const DIGEST_KIND = 'db-health-digest';
