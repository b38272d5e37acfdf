/**
 * The probe: one statement (sql/db-health/probe.sql) whose single row becomes the metric map of
 * the contract. `toMetrics` is pure; `runProbe` does its I/O through the client it is given, so
 * the Lambda handler, the CLI and the tests run exactly the same code.
 */
import probeSql from '../../sql/db-health/probe.sql';
import { METRIC_NAMES, type MetricMap, type MetricName } from './contract';

/** The part of `pg.Client` the probe needs; any client (or pool) will do. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export interface ProbeOptions {
  /** Active queries older than this count as long-running (seed 001: 5 minutes). */
  readonly longQuerySeconds: number;
  /** Schema whose tables must carry a registered service prefix. */
  readonly appSchema: string;
  /** The registered prefixes, e.g. `['gt_', 'ag_']`. */
  readonly servicePrefixes: readonly string[];
  /** Unused indexes smaller than this are not counted, in bytes. */
  readonly unusedIndexMinBytes: number;
}

export interface ProbeResult {
  readonly metrics: MetricMap;
  /** True when the probed server is a replica (hot standby). */
  readonly inRecovery: boolean;
  /** Statements sent to the server for this result (the contract is: one). */
  readonly queries: number;
}

const PREFIX = /^[a-z]{2,8}_$/;
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Validates the options and returns the statement's positional parameters ($1..$4). */
export function probeParams(o: ProbeOptions): unknown[] {
  if (!Number.isFinite(o.longQuerySeconds) || o.longQuerySeconds <= 0) {
    throw new Error(`longQuerySeconds must be a positive number of seconds (got ${o.longQuerySeconds})`);
  }
  if (!IDENTIFIER.test(o.appSchema)) throw new Error(`appSchema must be a lower-case SQL identifier (got ${JSON.stringify(o.appSchema)})`);
  if (o.servicePrefixes.length === 0) throw new Error('servicePrefixes must name at least one prefix');
  const bad = o.servicePrefixes.filter((p) => !PREFIX.test(p));
  if (bad.length > 0) throw new Error(`servicePrefixes must look like "gt_" (got ${bad.map((b) => JSON.stringify(b)).join(', ')})`);
  if (!Number.isInteger(o.unusedIndexMinBytes) || o.unusedIndexMinBytes < 0) {
    throw new Error(`unusedIndexMinBytes must be a non-negative integer (got ${o.unusedIndexMinBytes})`);
  }
  // int8 travels as text so that values above 2^53 cannot lose precision on the way.
  return [o.longQuerySeconds, o.appSchema, [...o.servicePrefixes], String(o.unusedIndexMinBytes)];
}

/** node-postgres returns int8/numeric as strings; everything here fits a double. */
function num(row: Record<string, unknown>, name: MetricName): number | undefined {
  const v = row[name];
  if (v === null || v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new Error(`probe returned a non-numeric ${name}: ${JSON.stringify(v)}`);
  return n;
}

/**
 * Turns the probe's row into the metric map. Every metric but `replication_lag_seconds` must be
 * present; that one is NULL on a primary without replicas and is then left out, not sent as 0.
 */
export function toMetrics(row: Record<string, unknown>): MetricMap {
  const out: Partial<Record<MetricName, number>> = {};
  for (const name of METRIC_NAMES) {
    const v = num(row, name);
    if (v === undefined) {
      if (name === 'replication_lag_seconds') continue;
      throw new Error(`probe returned no value for ${name}`);
    }
    out[name] = v;
  }
  return out as MetricMap;
}

/** Runs the probe statement once and returns the metric map. */
export async function runProbe(db: Queryable, options: ProbeOptions): Promise<ProbeResult> {
  const { rows } = await db.query(probeSql, probeParams(options));
  if (rows.length !== 1) throw new Error(`probe returned ${rows.length} rows, expected 1`);
  return { metrics: toMetrics(rows[0]), inRecovery: rows[0].in_recovery === true, queries: 1 };
}
