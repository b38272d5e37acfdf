/**
 * Publishes a probe result as CloudWatch custom metrics in the Embedded Metric Format through
 * Powertools metrics (one JSON line on stdout per dimension set; no PutMetricData call from inside
 * the VPC): the environment's metrics with `{ Environment }`, and per registered namespace
 * `pattern_keys` and `pattern_keys_without_ttl` with `{ Environment, KeyPattern }`.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ENVIRONMENT_DIMENSION, METRICS_NAMESPACE, METRIC_NAMES, METRIC_UNITS, PATTERN_DIMENSION, PATTERN_METRIC, PATTERN_NO_TTL_METRIC, type MetricMap } from './contract';
import type { PatternStat } from './probe';

type Unit = Parameters<Metrics['addMetric']>[1];

/**
 * A Metrics instance whose only dimensions are the given ones (Powertools' default `service`
 * dimension is dropped, so alarms and widgets address each metric by exactly these).
 */
export function createMetrics(environment: string, namespace: string = METRICS_NAMESPACE, pattern?: string): Metrics {
  if (!environment) throw new Error('createMetrics: environment must be a non-empty string');
  const metrics = new Metrics({ namespace, serviceName: 'cache-health' });
  metrics.clearDefaultDimensions();
  metrics.setDefaultDimensions({ [ENVIRONMENT_DIMENSION]: environment, ...(pattern !== undefined ? { [PATTERN_DIMENSION]: pattern } : {}) });
  return metrics;
}

/** Flushes the environment's metrics, then one document per namespace. */
export function emitMetrics(
  metrics: Metrics,
  map: MetricMap,
  patterns: readonly PatternStat[],
  perPattern: (pattern: string) => Metrics,
): void {
  for (const name of METRIC_NAMES) {
    const value = map[name];
    if (value === undefined) continue;
    metrics.addMetric(name, METRIC_UNITS[name] as Unit, value);
  }
  metrics.publishStoredMetrics();
  for (const p of patterns) {
    const m = perPattern(p.pattern);
    m.addMetric(PATTERN_METRIC, 'Count' as Unit, p.keys);
    m.addMetric(PATTERN_NO_TTL_METRIC, 'Count' as Unit, p.withoutTtl);
    m.publishStoredMetrics();
  }
}
