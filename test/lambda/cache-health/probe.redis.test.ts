/**
 * The probe on a real redis-server 7.0 (Debian), logged in as the monitor user with exactly the
 * access string lib/config/cache-acl.ts derives, on a keyspace loaded with a known mix of keys.
 * Every metric is checked against the known counts; the budget's cost is read back from the
 * server's own INFO commandstats.
 *
 * INFO fields: https://redis.io/docs/latest/commands/info/ · SCAN guarantees (a full iteration
 * returns every key present throughout; COUNT is a hint): https://redis.io/docs/latest/commands/scan/
 */
import { ENVIRONMENTS, loadEnvironment, monitorUserId, MONITOR_ACCESS_STRING, MONITOR_COMMANDS, registeredNamespaces } from '../../../lib/config';
import { PROBE_COMMANDS } from '../../../lambda/cache-health/contract';
import { formatDigest, digestData } from '../../../lambda/cache-health/digest';
import { parseInfo } from '../../../lambda/cache-health/info';
import { runProbe, type ProbeOptions } from '../../../lambda/cache-health/probe';
import { startRedis, type RedisClient, type TestRedis } from '../../support/redis';

const dev = loadEnvironment('dev', ENVIRONMENTS.dev);
const MONITOR = monitorUserId('dev');
const OPTIONS: ProbeOptions = {
  patterns: registeredNamespaces(dev.cache.services, dev.cache.mustExpire, dev.roles.services),
  mustExpire: dev.cache.mustExpire,
};

/** The known mix: [namespace key prefix, with TTL, without TTL, type]. */
const MIX = [
  ['progress:', 40, 7, 'string'],
  ['video:status:', 20, 3, 'string'],
  ['job:status:', 10, 0, 'hash'],
  ['sc:', 5, 25, 'string'],
  ['rq:', 0, 4, 'set'],
] as const;
const UNREGISTERED = ['legacy:session:1', 'legacy:session:2', 'tmp', 'progress', 'Progress:1', 'video:stat:9', '<!channel> `x`'];
const BIG_KEY = 'sc:blob';
const TOTAL = MIX.reduce((n, [, a, b]) => n + a + b, 0) + UNREGISTERED.length + 1;

let redis: TestRedis;
let admin: RedisClient;
let monitor: RedisClient;
let blocker: RedisClient;

async function seed(): Promise<void> {
  const writes: Promise<unknown>[] = [];
  for (const [prefix, withTtl, withoutTtl, type] of MIX) {
    for (let i = 0; i < withTtl + withoutTtl; i++) {
      const key = `${prefix}${i}`;
      if (type === 'string') writes.push(admin.sendCommand(['SET', key, `v${i}`]));
      if (type === 'hash') writes.push(admin.sendCommand(['HSET', key, 'state', 'running', 'pct', String(i)]));
      if (type === 'set') writes.push(admin.sendCommand(['SADD', key, 'a', 'b']));
      if (i < withTtl) writes.push(admin.sendCommand(['EXPIRE', key, '3600']));
    }
  }
  for (const k of UNREGISTERED) writes.push(admin.sendCommand(['SET', k, 'x', 'EX', '3600']));
  writes.push(admin.sendCommand(['SET', BIG_KEY, 'x'.repeat(100_000)]));
  await Promise.all(writes);
}

async function commandCalls(): Promise<Record<string, number>> {
  const info = parseInfo(String(await admin.sendCommand(['INFO', 'commandstats'])));
  const out: Record<string, number> = {};
  for (const [k, v] of info) if (k.startsWith('cmdstat_')) out[k.slice(8)] = Number(/calls=(\d+)/.exec(v)![1]);
  return out;
}

beforeAll(async () => {
  redis = await startRedis({
    // Exactly the derived monitor ACL (the harness adds a test password; AWS uses an IAM token).
    users: [
      { name: MONITOR, rules: MONITOR_ACCESS_STRING },
      // The same ACL without MEMORY USAGE: the probe must fail as this user (the ACL is load-bearing).
      { name: 'monitor-without-memory', rules: MONITOR_ACCESS_STRING.replace(' +memory|usage', '') },
    ],
    extraArgs: ['--maxmemory', '64mb', '--maxmemory-policy', 'volatile-ttl'],
  });
  admin = await redis.connect();
  await seed();
  monitor = await redis.connect({ username: MONITOR });
  // A third client blocked in BLPOP: blocked_clients must say 1.
  blocker = await redis.connect();
  void blocker.sendCommand(['BLPOP', 'sc:queue:never', '0']).catch(() => undefined);
  // Until the server says so, however long a loaded machine takes (the test timeout bounds it).
  while (parseInfo(String(await admin.sendCommand(['INFO', 'clients']))).get('blocked_clients') !== '1') {
    await new Promise((r) => setTimeout(r, 25));
  }
});

afterAll(async () => {
  for (const c of [monitor, admin]) await c?.close().catch(() => undefined);
  blocker?.destroy();
  await redis?.stop();
});

test('every command the probe sends is one the monitor user may run', () => {
  for (const c of PROBE_COMMANDS) expect(MONITOR_COMMANDS).toContain(c);
});

test('as the monitor user, a complete scan gives the exact known counts', async () => {
  const r = await runProbe(monitor, OPTIONS);
  expect(r.sample.complete).toBe(true);
  expect(r.sample.scale).toBe(1);
  expect(r.metrics.keys_total).toBe(TOTAL);
  expect(r.metrics.keys_sampled).toBe(TOTAL);
  // Keys without a TTL in the must-expire namespaces (progress, video:status, job:status): 7 + 3 + 0.
  expect(r.metrics.keys_without_ttl).toBe(10);
  expect(r.missingTtl.examples.every((k) => /^(progress|video:status|job:status):/.test(k))).toBe(true);
  // No registered namespace: "progress" and "Progress:1" are not "progress:*", "video:stat:9" is not "video:status:*".
  expect(r.metrics.keys_unregistered).toBe(UNREGISTERED.length);
  expect(r.unregistered.examples).toHaveLength(5);
  expect(UNREGISTERED.length).toBeGreaterThan(5);
  for (const k of r.unregistered.examples) expect(UNREGISTERED).toContain(k);
  expect(Object.fromEntries(r.patterns.map((p) => [p.pattern, [p.keys, p.withoutTtl]]))).toEqual({
    'sc:*': [5 + 25 + 1, 25 + 1],
    'progress:*': [47, 7],
    'video:status:*': [23, 3],
    'job:status:*': [10, 0],
    'rq:*': [4, 4],
  });
  expect(r.patterns.filter((p) => p.mustExpire).map((p) => p.pattern).sort()).toEqual(['job:status:*', 'progress:*', 'video:status:*']);
  // The biggest key is the 100 kB string; MEMORY USAGE counts the value plus its overhead.
  expect(r.biggest[0].key).toBe(BIG_KEY);
  expect(r.metrics.biggest_key_bytes).toBe(r.biggest[0].bytes);
  expect(r.biggest[0].bytes).toBeGreaterThanOrEqual(100_000);
  expect(r.biggest[0].bytes).toBeLessThan(140_000);
  // Clients: admin, monitor, blocker; the blocker waits in BLPOP.
  expect(r.metrics.connected_clients).toBe(3);
  expect(r.metrics.blocked_clients).toBe(1);
  // Memory against the server's --maxmemory 64mb.
  expect(r.metrics.maxmemory_bytes).toBe(64 * 1024 * 1024);
  expect(r.metrics.memory_used_bytes).toBeGreaterThan(100_000);
  expect(r.metrics.memory_used_ratio).toBeCloseTo(r.metrics.memory_used_bytes / (64 * 1024 * 1024), 4);
  expect(r.metrics.fragmentation_ratio).toBeGreaterThan(0);
  expect(r.metrics.evicted_keys_per_minute).toBe(0);
});

test('hit rate between two probes counts the clients\' lookups, not the probe\'s own TTLs', async () => {
  const first = await runProbe(monitor, OPTIONS);
  // 3 hits and 1 miss by a client.
  for (const k of ['progress:0', 'sc:0', 'video:status:1']) expect(await admin.sendCommand(['GET', k])).not.toBeNull();
  expect(await admin.sendCommand(['GET', 'progress:missing'])).toBeNull();
  const second = await runProbe(monitor, OPTIONS, first.reading);
  expect(second.metrics.hit_rate).toBe(0.75);
  expect(second.metrics.rate_window_seconds).toBeGreaterThanOrEqual(1);
  // Without the previous reading, the window is the server's uptime (average since start).
  const uptime = async () => Number(parseInfo(String(await admin.sendCommand(['INFO', 'server']))).get('uptime_in_seconds'));
  const before = await uptime();
  const alone = await runProbe(monitor, OPTIONS);
  const after = await uptime();
  expect(alone.metrics.rate_window_seconds).toBeGreaterThanOrEqual(Math.max(1, before));
  expect(alone.metrics.rate_window_seconds).toBeLessThanOrEqual(Math.max(1, after));
});

test('a budget smaller than the keyspace stops early, costs what it says, and scales to DBSIZE', async () => {
  const before = await commandCalls();
  const r = await runProbe(monitor, { ...OPTIONS, budget: { maxKeys: 40, scanCount: 10 } });
  const after = await commandCalls();
  expect(r.sample.complete).toBe(false);
  expect(r.metrics.keys_sampled).toBeLessThanOrEqual(40);
  expect(r.sample.scale).toBeCloseTo(TOTAL / r.metrics.keys_sampled, 10);
  // The server counted exactly the calls the probe reports, and never a KEYS.
  const delta = (c: string) => (after[c] ?? 0) - (before[c] ?? 0);
  expect(delta('scan')).toBe(r.sample.scanCalls);
  expect(delta('ttl')).toBe(r.metrics.keys_sampled);
  expect(delta('memory|usage')).toBe(r.metrics.keys_sampled);
  // INFO commandstats counts a call once it has run, so the `before` reading is in the delta too.
  expect(delta('info')).toBe(1 + 1);
  expect(delta('dbsize')).toBe(1);
  expect(after.keys).toBeUndefined();
  expect(r.sample.commands).toBe(delta('scan') + delta('ttl') + delta('memory|usage') + (delta('info') - 1) + delta('dbsize'));
  // Estimates add up to the keyspace (each rounded once).
  const sum = r.patterns.reduce((n, p) => n + p.keys, 0) + r.metrics.keys_unregistered;
  expect(Math.abs(sum - TOTAL)).toBeLessThanOrEqual(r.patterns.length + 1);
});

test('without MEMORY USAGE in the monitor ACL the probe fails with the server\'s NOPERM', async () => {
  const weak = await redis.connect({ username: 'monitor-without-memory' });
  try {
    await expect(runProbe(weak, OPTIONS)).rejects.toThrow(/NOPERM/);
  } finally {
    await weak.close();
  }
});

test('the digest: keys per namespace, the biggest keys, must-expire namespaces with keys without a TTL first, escaped key names', async () => {
  const r = await runProbe(monitor, OPTIONS);
  const m = formatDigest(digestData(r), 'dev', new Date('2026-12-07T00:00:00Z'));
  expect(m.kind).toBe('cache-health-digest');
  expect(m.title).toBe('Cache health digest: dev');
  const sections = m.blocks.filter((b) => b.type === 'section').map((b) => (b.text as { text: string }).text);
  expect(sections).toHaveLength(3);
  expect(sections[0]).toContain(`all ${TOTAL} keys scanned`);
  expect(sections[0]).toContain('• `progress:*`: 47 keys · 7 without TTL · must expire');
  expect(sections[0]).toContain('• _no registered namespace_: 7 keys');
  expect(sections[1]).toMatch(/^\*Biggest keys in the sample\* \(MEMORY USAGE\)\n1\. `sc:blob`: 1\d\d KiB · no TTL/);
  const lines = sections[2].split('\n');
  expect(lines[0]).toBe('*Namespaces with keys without a TTL*: 4');
  // Must-expire namespaces first (largest first), then the others.
  expect(lines.slice(1, 5)).toEqual([
    '• :warning: `progress:*`: 7 of 47 (must expire: these keys are a leak)',
    '• :warning: `video:status:*`: 3 of 23 (must expire: these keys are a leak)',
    '• `sc:*`: 26 of 31',
    '• `rq:*`: 4 of 4',
  ]);
  // A key name cannot mention anyone or close the code span.
  expect(m.text).not.toContain('<!channel>');
  expect(JSON.stringify(m.blocks)).not.toContain('<!channel>');
  expect(m.text.length).toBeLessThanOrEqual(3000);
});
