import { METRIC_NAMES } from '../../../lambda/db-health/contract';
import { probeParams, toMetrics, type ProbeOptions } from '../../../lambda/db-health/probe';

/** A row as node-postgres returns it: int8 as strings, float8 as numbers. */
const row = (o: Record<string, unknown> = {}): Record<string, unknown> => ({
  connections_total: '12',
  connections_active: '3',
  connections_idle: '8',
  connections_idle_in_transaction: '1',
  connections_max: 200,
  long_running_queries: '0',
  oldest_transaction_seconds: 4.25,
  buffer_hit_ratio: 0.9931,
  database_size_bytes: '5368709120',
  unused_indexes: '2',
  tables_without_service_prefix: '0',
  replication_lag_seconds: null,
  xid_age: 123456,
  in_recovery: false,
  ...o,
});

const opts: ProbeOptions = { longQuerySeconds: 300, appSchema: 'public', servicePrefixes: ['gt_', 'ag_'], unusedIndexMinBytes: 1_048_576 };

describe('toMetrics', () => {
  test('maps every contract name to a number, converting int8 strings', () => {
    const m = toMetrics(row());
    expect(m).toEqual({
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
    });
  });

  test('omits replication_lag_seconds when NULL (a primary without replicas), keeps it when set', () => {
    expect('replication_lag_seconds' in toMetrics(row())).toBe(false);
    expect(toMetrics(row({ replication_lag_seconds: 0 })).replication_lag_seconds).toBe(0);
    expect(toMetrics(row({ replication_lag_seconds: 2.5 })).replication_lag_seconds).toBe(2.5);
  });

  test('the output keys are exactly the contract names', () => {
    expect(Object.keys(toMetrics(row({ replication_lag_seconds: 1 }))).sort()).toEqual([...METRIC_NAMES].sort());
  });

  test.each(METRIC_NAMES.filter((n) => n !== 'replication_lag_seconds'))('a missing %s is an error, not a silent 0', (name) => {
    expect(() => toMetrics(row({ [name]: null }))).toThrow(new RegExp(`no value for ${name}`));
  });

  test('a non-numeric value is an error naming the metric', () => {
    expect(() => toMetrics(row({ xid_age: 'lots' }))).toThrow(/non-numeric xid_age/);
  });
});

describe('probeParams', () => {
  test('passes the options as positional parameters (the size floor as int8 text)', () => {
    expect(probeParams(opts)).toEqual([300, 'public', ['gt_', 'ag_'], '1048576']);
  });

  test.each<[string, Partial<ProbeOptions>, RegExp]>([
    ['zero threshold', { longQuerySeconds: 0 }, /longQuerySeconds.*got 0/],
    ['NaN threshold', { longQuerySeconds: Number.NaN }, /longQuerySeconds/],
    ['bad schema', { appSchema: 'Public; DROP' }, /appSchema.*"Public; DROP"/],
    ['no prefixes', { servicePrefixes: [] }, /at least one prefix/],
    ['bad prefix', { servicePrefixes: ['gt_', "%'"] }, /servicePrefixes.*"%'"/],
    ['negative floor', { unusedIndexMinBytes: -1 }, /unusedIndexMinBytes.*-1/],
  ])('rejects %s', (_label, o, message) => {
    expect(() => probeParams({ ...opts, ...o })).toThrow(message);
  });
});
