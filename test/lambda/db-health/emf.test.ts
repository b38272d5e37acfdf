import { ENVIRONMENT_DIMENSION, METRICS_NAMESPACE, METRIC_NAMES, METRIC_UNITS, type MetricMap } from '../../../lambda/db-health/contract';
import { createMetrics, emitMetrics } from '../../../lambda/db-health/emf';

const sample: MetricMap = {
  connections_total: 12,
  connections_active: 3,
  connections_idle: 8,
  connections_idle_in_transaction: 1,
  connections_max: 200,
  long_running_queries: 0,
  oldest_transaction_seconds: 4.25,
  buffer_hit_ratio: 0.9931,
  database_size_bytes: 5368709120,
  unused_indexes: 2,
  tables_without_service_prefix: 0,
  xid_age: 123456,
};

/** Runs `fn` and returns the JSON documents it wrote to stdout (where Powertools writes EMF). */
function captureStdout(fn: () => void): Record<string, any>[] {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return lines
    .join('')
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l));
}

describe('EMF output', () => {
  test('one document: namespace, the Environment dimension only, every metric with its unit and value', () => {
    const metrics = createMetrics('prod');
    const docs = captureStdout(() => emitMetrics(metrics, sample));
    expect(docs).toHaveLength(1);
    const doc = docs[0];
    const [directive] = doc._aws.CloudWatchMetrics;
    expect(doc._aws.CloudWatchMetrics).toHaveLength(1);
    expect(typeof doc._aws.Timestamp).toBe('number');
    expect(directive.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive.Namespace).toBe('Platform/DbHealth');
    expect(directive.Dimensions).toEqual([[ENVIRONMENT_DIMENSION]]);
    expect(doc.Environment).toBe('prod');
    // Powertools' default `service` dimension is dropped: alarms address metrics by Environment alone.
    expect(doc.service).toBeUndefined();
    const names = (directive.Metrics as { Name: string; Unit: string }[]).map((m) => m.Name);
    expect(names).toEqual(METRIC_NAMES.filter((n) => n !== 'replication_lag_seconds'));
    for (const m of directive.Metrics as { Name: keyof MetricMap; Unit: string; StorageResolution?: number }[]) {
      expect(m.Unit).toBe(METRIC_UNITS[m.Name]);
      expect(m.StorageResolution).toBeUndefined(); // standard resolution: 60 s is plenty and cheaper
      expect(doc[m.Name]).toBe(sample[m.Name]);
    }
  });

  test('replication_lag_seconds is emitted when the probe has it', () => {
    const docs = captureStdout(() => emitMetrics(createMetrics('staging'), { ...sample, replication_lag_seconds: 0.4 }));
    const names = docs[0]._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name);
    expect(names).toContain('replication_lag_seconds');
    expect(docs[0].replication_lag_seconds).toBe(0.4);
    expect(docs[0].Environment).toBe('staging');
  });

  test('the same instance can publish again (stored metrics are cleared, the dimension is kept)', () => {
    const metrics = createMetrics('dev');
    captureStdout(() => emitMetrics(metrics, sample));
    const second = captureStdout(() => emitMetrics(metrics, { ...sample, connections_total: 99 }));
    expect(second).toHaveLength(1);
    expect(second[0].connections_total).toBe(99);
    expect(second[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Environment']]);
  });

  test('an empty environment is refused', () => {
    expect(() => createMetrics('')).toThrow(/environment/);
  });
});
