/**
 * The server side of the probe, from one `INFO` reply (pure): memory against maxmemory,
 * fragmentation, hit rate, evicted and expired keys per minute, connected and blocked clients.
 *
 * Redis counts evictions, expirations, hits and misses from its start (or the last CONFIG
 * RESETSTAT). Per-minute rates need two readings: with the previous probe's reading of the same
 * server process (same `run_id`, counters not gone backwards) the window is the time between the
 * two; otherwise (first probe, restart, failover to another node) it is the server's uptime, so
 * the figure is the average since start. `rate_window_seconds` says which window was used.
 * Field names: https://redis.io/docs/latest/commands/info/
 */

/** `INFO` text → `section field → value` (all sections flattened; field names are unique). */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i <= 0) continue;
    out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

/** The counters a rate needs, kept between probes. */
export interface CounterReading {
  readonly runId: string;
  readonly uptimeSeconds: number;
  readonly evictedKeys: number;
  readonly expiredKeys: number;
  readonly hits: number;
  readonly misses: number;
  /**
   * Lookups the probe itself made after this reading (its TTLs count as keyspace hits or misses;
   * MEMORY USAGE does not); the next window subtracts them so the hit rate is the clients'.
   */
  readonly probeHits?: number;
  readonly probeMisses?: number;
}

export interface ServerMetrics {
  readonly memory_used_bytes: number;
  readonly maxmemory_bytes?: number;
  readonly memory_used_ratio?: number;
  readonly fragmentation_ratio: number;
  readonly hit_rate?: number;
  readonly evicted_keys_per_minute: number;
  readonly expired_keys_per_minute: number;
  readonly rate_window_seconds: number;
  readonly connected_clients: number;
  readonly blocked_clients: number;
}

function field(info: Map<string, string>, name: string): number {
  const v = info.get(name);
  if (v === undefined) throw new Error(`INFO has no ${name} field`);
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`INFO field ${name} is not a number: ${JSON.stringify(v)}`);
  return n;
}

/** The counters of this reading. */
export function counters(info: Map<string, string>): CounterReading {
  const runId = info.get('run_id');
  if (!runId) throw new Error('INFO has no run_id field');
  return {
    runId,
    uptimeSeconds: field(info, 'uptime_in_seconds'),
    evictedKeys: field(info, 'evicted_keys'),
    expiredKeys: field(info, 'expired_keys'),
    hits: field(info, 'keyspace_hits'),
    misses: field(info, 'keyspace_misses'),
  };
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

/** The server metrics of one INFO reply, with rates against `previous` when it is comparable. */
export function serverMetrics(info: Map<string, string>, previous?: CounterReading): { metrics: ServerMetrics; reading: CounterReading } {
  const now = counters(info);
  const comparable =
    previous !== undefined &&
    previous.runId === now.runId &&
    now.uptimeSeconds >= previous.uptimeSeconds &&
    now.evictedKeys >= previous.evictedKeys &&
    now.expiredKeys >= previous.expiredKeys &&
    now.hits >= previous.hits &&
    now.misses >= previous.misses;
  const base: CounterReading = comparable ? previous : { runId: now.runId, uptimeSeconds: 0, evictedKeys: 0, expiredKeys: 0, hits: 0, misses: 0 };
  const window = Math.max(1, now.uptimeSeconds - base.uptimeSeconds);
  const perMinute = (a: number, b: number) => round(((a - b) / window) * 60, 3);
  // The previous probe's own lookups happened after its INFO, inside this window.
  const hits = Math.max(0, now.hits - base.hits - (comparable ? (base.probeHits ?? 0) : 0));
  const misses = Math.max(0, now.misses - base.misses - (comparable ? (base.probeMisses ?? 0) : 0));
  const lookups = hits + misses;
  const used = field(info, 'used_memory');
  const max = field(info, 'maxmemory');
  return {
    reading: now,
    metrics: {
      memory_used_bytes: used,
      ...(max > 0 ? { maxmemory_bytes: max, memory_used_ratio: round(used / max, 4) } : {}),
      fragmentation_ratio: field(info, 'mem_fragmentation_ratio'),
      ...(lookups > 0 ? { hit_rate: round(hits / lookups, 4) } : {}),
      evicted_keys_per_minute: perMinute(now.evictedKeys, base.evictedKeys),
      expired_keys_per_minute: perMinute(now.expiredKeys, base.expiredKeys),
      rate_window_seconds: window,
      connected_clients: field(info, 'connected_clients'),
      blocked_clients: field(info, 'blocked_clients'),
    },
  };
}
