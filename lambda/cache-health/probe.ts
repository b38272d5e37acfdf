/**
 * The probe: one `INFO`, one `DBSIZE`, then a `SCAN` of at most `budget.maxKeys` keys with a
 * `TTL` and a `MEMORY USAGE` for each key it returns (never `KEYS`, never a value). `summarize`
 * (pure) turns the sample into the metric map; `runProbe` does the I/O through the client it is
 * given, so the Lambda handler, the CLI, the tests and the bench run exactly the same code.
 *
 * Sampling: SCAN walks the hash table's buckets from cursor 0, and the keys in a bucket are placed
 * by a seeded hash of the name, so the first N keys are a sample unrelated to what the names say.
 * When the walk ends within the budget every count is exact; otherwise each count is scaled by
 * DBSIZE / keys sampled (an estimate; the bench measures its error against the true count).
 */
import { METRIC_NAMES, type MetricMap } from './contract';
import { parseInfo, serverMetrics, type CounterReading } from './info';

/** What the probe needs of a client: one command at a time (node-redis pipelines concurrent ones). */
export interface RedisCommands {
  sendCommand(args: string[]): Promise<unknown>;
}

export interface ScanBudget {
  /** Stop scanning once this many keys were returned. */
  readonly maxKeys: number;
  /** SCAN's COUNT hint: buckets visited per call (each call costs about this many key visits). */
  readonly scanCount: number;
}

/** Default budget: 10,000 keys in 10 SCAN calls, plus a TTL and a MEMORY USAGE per key. */
export const DEFAULT_BUDGET: ScanBudget = { maxKeys: 10_000, scanCount: 1_000 };

export interface ProbeOptions {
  /** The registered namespaces (every key pattern a service writes), e.g. `['sc:*', 'progress:*']`. */
  readonly patterns: readonly string[];
  /** Namespaces whose keys must carry a TTL (`cache.mustExpire`). */
  readonly mustExpire: readonly string[];
  /** @default DEFAULT_BUDGET */
  readonly budget?: ScanBudget;
  /** Biggest keys kept for the digest. @default 10 */
  readonly topKeys?: number;
}

/** One sampled key's metadata. */
export interface KeySample {
  readonly key: string;
  /** Seconds to live; -1 = no TTL. */
  readonly ttl: number;
  /** MEMORY USAGE in bytes. */
  readonly bytes: number;
}

export interface PatternStat {
  readonly pattern: string;
  /** Estimated keys in the namespace. */
  readonly keys: number;
  /** Estimated keys without a TTL. */
  readonly withoutTtl: number;
  /** Keys of the sample in the namespace. */
  readonly sampled: number;
  /** True when the whole namespace is in `mustExpire`. */
  readonly mustExpire: boolean;
}

export interface SampleInfo {
  readonly budget: ScanBudget;
  readonly scanCalls: number;
  /** Keys SCAN returned that still existed for TTL and MEMORY USAGE. */
  readonly keysSampled: number;
  /** True when SCAN finished the keyspace within the budget: counts are exact. */
  readonly complete: boolean;
  /** Multiplier from sample counts to estimates (1 when complete). */
  readonly scale: number;
  /** Commands sent in this probe. */
  readonly commands: number;
}

export interface ProbeResult {
  readonly metrics: MetricMap;
  readonly patterns: readonly PatternStat[];
  /** Estimated keys matching no registered namespace, and a few of them. */
  readonly unregistered: { readonly keys: number; readonly sampled: number; readonly examples: readonly string[] };
  /** Estimated keys without a TTL in must-expire namespaces, and a few of them. */
  readonly missingTtl: { readonly keys: number; readonly sampled: number; readonly examples: readonly string[] };
  /** The biggest sampled keys, largest first. */
  readonly biggest: readonly KeySample[];
  readonly sample: SampleInfo;
  /** The counters to pass as `previous` to the next probe of the same server. */
  readonly reading: CounterReading;
}

/**
 * True when `key` is in the namespace `pattern`. The registry (lib/config/cache-registry.ts)
 * only accepts literal namespaces ending in `:*`, so this is a prefix test; it is not imported
 * from there because that module brings zod into the function's bundle.
 */
export function inNamespace(pattern: string, key: string): boolean {
  return key.startsWith(pattern.slice(0, -1));
}

const EXAMPLES = 5;
const EXAMPLE_CHARS = 200;

/** Validates the budget; throws naming the bad field. */
export function checkBudget(b: ScanBudget): ScanBudget {
  if (!Number.isInteger(b.maxKeys) || b.maxKeys < 1 || b.maxKeys > 1_000_000) throw new Error(`scan budget maxKeys must be an integer from 1 to 1,000,000 (got ${b.maxKeys})`);
  if (!Number.isInteger(b.scanCount) || b.scanCount < 10 || b.scanCount > 10_000) throw new Error(`scan budget scanCount must be an integer from 10 to 10,000 (got ${b.scanCount})`);
  return b;
}

/** The sample's namespace statistics (pure). */
export function summarize(
  samples: readonly KeySample[],
  o: Pick<ProbeOptions, 'patterns' | 'mustExpire' | 'topKeys'>,
  scale: number,
): Pick<ProbeResult, 'patterns' | 'unregistered' | 'missingTtl' | 'biggest'> {
  const est = (n: number) => Math.round(n * scale);
  const per = new Map(o.patterns.map((p) => [p, { sampled: 0, noTtl: 0 }]));
  const unregistered: string[] = [];
  const missing: string[] = [];
  let unregisteredCount = 0;
  let missingCount = 0;
  for (const s of samples) {
    const pattern = o.patterns.find((p) => inNamespace(p, s.key));
    if (pattern === undefined) {
      unregisteredCount += 1;
      if (unregistered.length < EXAMPLES) unregistered.push(s.key.slice(0, EXAMPLE_CHARS));
    } else {
      const st = per.get(pattern)!;
      st.sampled += 1;
      if (s.ttl === -1) st.noTtl += 1;
    }
    if (s.ttl === -1 && o.mustExpire.some((p) => inNamespace(p, s.key))) {
      missingCount += 1;
      if (missing.length < EXAMPLES) missing.push(s.key.slice(0, EXAMPLE_CHARS));
    }
  }
  const biggest = [...samples].sort((a, b) => b.bytes - a.bytes || (a.key < b.key ? -1 : 1)).slice(0, o.topKeys ?? 10);
  return {
    patterns: o.patterns.map((p) => {
      const st = per.get(p)!;
      return { pattern: p, keys: est(st.sampled), withoutTtl: est(st.noTtl), sampled: st.sampled, mustExpire: o.mustExpire.includes(p) };
    }),
    unregistered: { keys: est(unregisteredCount), sampled: unregisteredCount, examples: unregistered },
    missingTtl: { keys: est(missingCount), sampled: missingCount, examples: missing },
    biggest,
  };
}

const asNumber = (v: unknown, what: string): number => {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new Error(`${what} returned ${JSON.stringify(v)}, expected a number`);
  return n;
};

/** SCAN within the budget, with TTL and MEMORY USAGE for each key returned. */
export async function sampleKeys(
  db: RedisCommands,
  budget: ScanBudget,
): Promise<{ samples: KeySample[]; scanCalls: number; complete: boolean; commands: number; lookups: { hits: number; misses: number } }> {
  checkBudget(budget);
  const seen = new Set<string>();
  const samples: KeySample[] = [];
  let cursor = '0';
  let scanCalls = 0;
  let commands = 0;
  const lookups = { hits: 0, misses: 0 };
  // A guard against a server that keeps returning empty pages (SCAN may return none in a call).
  const maxCalls = Math.ceil(budget.maxKeys / budget.scanCount) * 4 + 4;
  do {
    const reply = (await db.sendCommand(['SCAN', cursor, 'COUNT', String(budget.scanCount)])) as [unknown, unknown];
    scanCalls += 1;
    commands += 1;
    if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) throw new Error(`SCAN returned an unexpected reply: ${JSON.stringify(reply).slice(0, 100)}`);
    cursor = String(reply[0]);
    // SCAN may return a key twice (while the table is rehashed); each key is sampled once.
    const keys = (reply[1] as unknown[]).map(String).filter((k) => !seen.has(k) && seen.add(k) !== undefined);
    const room = budget.maxKeys - samples.length;
    const batch = keys.slice(0, room);
    const meta = await Promise.all(
      batch.map(async (key) => {
        const [ttl, bytes] = await Promise.all([db.sendCommand(['TTL', key]), db.sendCommand(['MEMORY', 'USAGE', key])]);
        return { key, ttl: asNumber(ttl, 'TTL'), bytes: bytes === null ? null : asNumber(bytes, 'MEMORY USAGE') };
      }),
    );
    commands += batch.length * 2;
    for (const m of meta) {
      // TTL counts as a keyspace hit or miss in Redis 7.0; MEMORY USAGE does not (checked on 7.0.15).
      lookups[m.ttl === -2 ? 'misses' : 'hits'] += 1;
      // -2 / null: the key expired or was deleted between SCAN and the lookup.
      if (m.ttl === -2 || m.bytes === null) continue;
      samples.push({ key: m.key, ttl: m.ttl, bytes: m.bytes });
    }
    if (keys.length > room) break;
  } while (cursor !== '0' && samples.length < budget.maxKeys && scanCalls < maxCalls);
  return { samples, scanCalls, complete: cursor === '0', commands, lookups };
}

/** Runs the probe once: INFO, DBSIZE, and the sample. */
export async function runProbe(db: RedisCommands, o: ProbeOptions, previous?: CounterReading): Promise<ProbeResult> {
  const budget = o.budget ?? DEFAULT_BUDGET;
  const [infoText, dbsize] = await Promise.all([db.sendCommand(['INFO']), db.sendCommand(['DBSIZE'])]);
  if (typeof infoText !== 'string') throw new Error('INFO returned no text');
  const server = serverMetrics(parseInfo(infoText), previous);
  const keysTotal = asNumber(dbsize, 'DBSIZE');
  const s = await sampleKeys(db, budget);
  const scale = s.complete || s.samples.length === 0 ? (s.complete ? 1 : 0) : Math.max(keysTotal, s.samples.length) / s.samples.length;
  const sum = summarize(s.samples, o, scale);
  const metrics: Record<string, number | undefined> = {
    ...server.metrics,
    keys_total: keysTotal,
    keys_sampled: s.samples.length,
    keys_without_ttl: sum.missingTtl.keys,
    keys_unregistered: sum.unregistered.keys,
    biggest_key_bytes: sum.biggest[0]?.bytes,
  };
  const ordered: Record<string, number> = {};
  for (const name of METRIC_NAMES) if (metrics[name] !== undefined) ordered[name] = metrics[name]!;
  return {
    metrics: ordered as MetricMap,
    ...sum,
    sample: { budget, scanCalls: s.scanCalls, keysSampled: s.samples.length, complete: s.complete, scale, commands: s.commands + 2 },
    reading: { ...server.reading, probeHits: s.lookups.hits, probeMisses: s.lookups.misses },
  };
}
