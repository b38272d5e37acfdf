/**
 * Publishes a metric map as CloudWatch custom metrics in the Embedded Metric Format, through
 * Powertools metrics: one JSON line on stdout that CloudWatch Logs turns into metrics, so the
 * function needs no cloudwatch:PutMetricData and makes no extra network call from inside the VPC.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ENVIRONMENT_DIMENSION, METRICS_NAMESPACE, METRIC_NAMES, METRIC_UNITS, type MetricMap } from './contract';

/** Powertools' unit parameter type, without importing its internal type path. */
type Unit = Parameters<Metrics['addMetric']>[1];

/**
 * A Metrics instance whose only dimension is `Environment`. Powertools adds a `service`
 * dimension by default; it is dropped so that the alarms and the dashboard address each metric
 * by `{ Environment }` alone (one dimension set per metric = one billed custom metric each).
 */
export function createMetrics(environment: string, namespace: string = METRICS_NAMESPACE): Metrics {
  if (!environment) throw new Error('createMetrics: environment must be a non-empty string');
  const metrics = new Metrics({ namespace, serviceName: 'db-health' });
  metrics.clearDefaultDimensions();
  metrics.setDefaultDimensions({ [ENVIRONMENT_DIMENSION]: environment });
  return metrics;
}

/** Adds every metric present in the map and flushes them as one EMF document. */
export function emitMetrics(metrics: Metrics, map: MetricMap): void {
  for (const name of METRIC_NAMES) {
    const value = map[name];
    if (value === undefined) continue;
    metrics.addMetric(name, METRIC_UNITS[name] as Unit, value);
  }
  metrics.publishStoredMetrics();
}
