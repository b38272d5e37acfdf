/**
 * The cache-health metric contract, shared by the probe, the CLI's JSON output, the EMF output,
 * the alarms and the dashboard (the CDK construct imports it from here, so no metric name is
 * spelled twice). Dependency-free on purpose: the notifier imports the digest marker.
 */

/** CloudWatch namespace of the custom metrics. */
export const METRICS_NAMESPACE = 'Platform/CacheHealth';

/** Every metric carries this dimension; its value is the environment name (`prod`). */
export const ENVIRONMENT_DIMENSION = 'Environment';

/** Per-namespace metrics carry this dimension as well; its value is the registered pattern (`progress:*`). */
export const PATTERN_DIMENSION = 'KeyPattern';

/** The environment-wide metrics, in the order the CLI prints them. */
export const METRIC_NAMES = [
  'memory_used_bytes',
  'maxmemory_bytes',
  'memory_used_ratio',
  'fragmentation_ratio',
  'hit_rate',
  'evicted_keys_per_minute',
  'expired_keys_per_minute',
  'rate_window_seconds',
  'connected_clients',
  'blocked_clients',
  'keys_total',
  'keys_sampled',
  'keys_without_ttl',
  'keys_unregistered',
  'biggest_key_bytes',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];

/**
 * Metrics that may be absent: `maxmemory_bytes` and `memory_used_ratio` when no maxmemory is set
 * (0 means unlimited), `hit_rate` when no lookup happened in the window, `biggest_key_bytes` on an
 * empty keyspace. Absent is left out of the EMF document, never sent as 0.
 */
export const OPTIONAL_METRICS = ['maxmemory_bytes', 'memory_used_ratio', 'hit_rate', 'biggest_key_bytes'] as const;
type OptionalMetric = (typeof OPTIONAL_METRICS)[number];

export type MetricMap = Record<Exclude<MetricName, OptionalMetric>, number> & Partial<Record<OptionalMetric, number>>;

/** The per-pattern metric: estimated keys in a registered namespace ({Environment, KeyPattern}). */
export const PATTERN_METRIC = 'pattern_keys';
/** The per-pattern metric: estimated keys without a TTL in a registered namespace. */
export const PATTERN_NO_TTL_METRIC = 'pattern_keys_without_ttl';

/** CloudWatch unit of each metric. */
export const METRIC_UNITS: Readonly<Record<MetricName, 'Count' | 'Seconds' | 'Bytes' | 'None'>> = {
  memory_used_bytes: 'Bytes',
  maxmemory_bytes: 'Bytes',
  memory_used_ratio: 'None',
  fragmentation_ratio: 'None',
  hit_rate: 'None',
  evicted_keys_per_minute: 'Count',
  expired_keys_per_minute: 'Count',
  rate_window_seconds: 'Seconds',
  connected_clients: 'Count',
  blocked_clients: 'Count',
  keys_total: 'Count',
  keys_sampled: 'Count',
  keys_without_ttl: 'Count',
  keys_unregistered: 'Count',
  biggest_key_bytes: 'Bytes',
};

/**
 * Every command the probe sends. The monitor user's ACL (lib/config/cache-acl.ts MONITOR_COMMANDS)
 * must allow each of them; a test runs the probe as that user on a real server.
 */
export const PROBE_COMMANDS = ['info', 'dbsize', 'scan', 'ttl', 'memory|usage'] as const;

/** The digest's SNS message marker, so the notifier can recognise it. */
export const DIGEST_KIND = 'cache-health-digest';
