/**
 * cache-health benchmark on a real redis-server 7.0 (the test harness), as the derived monitor user.
 *
 *   nice -n 10 npx tsx bench/cache-health.ts [probe|bundle|all] [--keys 1000000] [--runs 5]
 *
 * - probe: loads `--keys` keys with a known mix (namespaces, TTL or not, unregistered ones; the true
 *   counts are known), then runs the probe `--runs` times per budget. For each run: its wall time,
 *   the server time it used (INFO commandstats after CONFIG RESETSTAT: usec per command, summed)
 *   and its estimate of the keys without a TTL against the true count. Medians are printed.
 * - bundle: esbuilds the cache-health and notifier handlers the way PlatformFunction does (minified,
 *   node24, cjs, @aws-sdk/* external) and measures each bundle's size and module-load time over
 *   bare `node -e ''` (median of `--runs` cold processes, interleaved).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ENVIRONMENTS, loadEnvironment, monitorUserId, MONITOR_ACCESS_STRING, registeredNamespaces } from '../lib/config';
import { parseInfo } from '../lambda/cache-health/info';
import { runProbe, type ProbeOptions, type ScanBudget } from '../lambda/cache-health/probe';
import { createClient } from '@redis/client';
import { clientOptions } from '../lambda/cache-health/connection';
import { startRedis } from '../test/support/redis';
import { bundleLikeLambda, coldStart, commandLine, median, REPO } from './support';

/** A client with the Lambda's options (lambda/cache-health/connection.ts), plain TCP; `timeout` for the loader's long EVALs. */
async function connect(port: number, username: string, password: string, timeout?: number) {
  const o = clientOptions({ host: '127.0.0.1', port, username, password, tls: false });
  // The bench's clients sit idle for minutes between probes: no idle-socket timeout here.
  const c = createClient({ ...o, socket: { ...o.socket, socketTimeout: undefined } as typeof o.socket, ...(timeout !== undefined ? { commandOptions: { timeout } } : {}) });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}
type RedisClient = Awaited<ReturnType<typeof connect>>;

const OUT = path.join(REPO, '.tmp', 'bench-cache-health');
const args = process.argv.slice(2);
const { what, flag } = commandLine(args);
const KEYS = flag('keys', 1_000_000);
const RUNS = flag('runs', 5);

/** The mix, as fractions of KEYS: [prefix, share, share of those without a TTL]. */
const MIX: readonly [string, number, number][] = [
  ['progress:', 0.4, 0.01],
  ['video:status:', 0.2, 0.005],
  ['job:status:', 0.1, 0],
  ['sc:', 0.25, 1],
  ['rq:', 0.04, 1],
  ['legacy:', 0.01, 0], // unregistered, with a TTL
];

/** Loads the mix server-side (one EVAL per 10,000 keys, inside node-redis's 5 s command timeout on a loaded machine), returns the true counts. */
async function load(admin: RedisClient): Promise<{ total: number; noTtlMustExpire: number; unregistered: number }> {
  const script = `for i = tonumber(ARGV[2]), tonumber(ARGV[3]) do
    if i < tonumber(ARGV[4]) then redis.call('SET', ARGV[1] .. i, 'v') else redis.call('SET', ARGV[1] .. i, 'v', 'EX', 86400) end
  end return 1`;
  let total = 0;
  let noTtlMustExpire = 0;
  let unregistered = 0;
  for (const [prefix, share, noTtlShare] of MIX) {
    const n = Math.round(KEYS * share);
    const noTtl = Math.round(n * noTtlShare);
    for (let from = 0; from < n; from += 10_000) {
      await admin.sendCommand(['EVAL', script, '0', prefix, String(from), String(Math.min(n, from + 10_000) - 1), String(noTtl)]);
    }
    total += n;
    if (['progress:', 'video:status:', 'job:status:'].includes(prefix)) noTtlMustExpire += noTtl;
    if (prefix === 'legacy:') unregistered += n;
  }
  return { total, noTtlMustExpire, unregistered };
}

async function serverUsec(admin: RedisClient): Promise<{ usec: number; calls: Record<string, number> }> {
  const info = parseInfo(String(await admin.sendCommand(['INFO', 'commandstats'])));
  let usec = 0;
  const calls: Record<string, number> = {};
  for (const [k, v] of info) {
    const name = k.replace(/^cmdstat_/, '');
    if (!k.startsWith('cmdstat_') || name === 'info' || name === 'config|resetstat') continue;
    usec += Number(/usec=(\d+)/.exec(v)![1]);
    calls[name] = Number(/calls=(\d+)/.exec(v)![1]);
  }
  return { usec, calls };
}

async function probeBench() {
  const dev = loadEnvironment('dev', ENVIRONMENTS.dev);
  const user = monitorUserId('dev');
  const redis = await startRedis({ users: [{ name: user, rules: MONITOR_ACCESS_STRING }] });
  try {
    const admin = await connect(redis.port, redis.adminUser, redis.password, 120_000);
    const t0 = Date.now();
    const truth = await load(admin);
    const loadSeconds = (Date.now() - t0) / 1000;
    const monitor = await connect(redis.port, user, redis.password);
    const mem = parseInfo(String(await admin.sendCommand(['INFO', 'memory'])));
    const options: ProbeOptions = { patterns: registeredNamespaces(dev.cache.services, dev.cache.mustExpire, dev.roles.services), mustExpire: dev.cache.mustExpire };
    const budgets: ScanBudget[] = [
      { maxKeys: dev.cacheHealth.scanMaxKeys, scanCount: dev.cacheHealth.scanCount },
      { maxKeys: 50_000, scanCount: 1_000 },
      { maxKeys: 1_000_000, scanCount: 1_000 },
    ];
    const results = [];
    for (const budget of budgets) {
      const wall: number[] = [];
      const usec: number[] = [];
      const estimates: number[] = [];
      let last;
      // The whole keyspace once: it is the reference, and at 1M keys it takes minutes on a loaded machine.
      const runs = budget.maxKeys >= KEYS ? 1 : RUNS;
      for (let i = 0; i < runs; i++) {
        await admin.sendCommand(['CONFIG', 'RESETSTAT']);
        const t = process.hrtime.bigint();
        const r = await runProbe(monitor, { ...options, budget });
        wall.push(Number(process.hrtime.bigint() - t) / 1e6);
        const s = await serverUsec(admin);
        usec.push(s.usec);
        estimates.push(r.metrics.keys_without_ttl);
        last = { r, calls: s.calls };
      }
      const est = median(estimates);
      const row = {
        budget,
        keysSampled: last!.r.sample.keysSampled,
        complete: last!.r.sample.complete,
        commands: last!.r.sample.commands,
        serverCalls: last!.calls,
        wallMedianMs: +median(wall).toFixed(1),
        serverMedianMs: +(median(usec) / 1000).toFixed(1),
        keysWithoutTtl: { estimate: est, truth: truth.noTtlMustExpire, errorPercent: +(((est - truth.noTtlMustExpire) / truth.noTtlMustExpire) * 100).toFixed(1), sampledWithoutTtl: last!.r.missingTtl.sampled },
        keysUnregistered: { estimate: last!.r.metrics.keys_unregistered, truth: truth.unregistered },
        runs,
      };
      results.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`); // partial results while the rest runs
    }
    await admin.close();
    await monitor.close();
    return { keys: truth.total, loadSeconds: +loadSeconds.toFixed(1), usedMemoryMiB: +(Number(mem.get('used_memory')) / 2 ** 20).toFixed(1), results };
  } finally {
    await redis.stop();
  }
}

function bundleOf(entry: string, name: string): Promise<{ file: string; bytes: number; gzipBytes: number }> {
  return bundleLikeLambda(path.join(OUT, `${name}.js`), { entryPoints: [path.join(REPO, entry)], sourcemap: true });
}

async function bundleBench() {
  const files = { 'cache-health': await bundleOf('lambda/cache-health/handler.ts', 'cache-health'), notifier: await bundleOf('lambda/notifier/handler.ts', 'notifier') };
  const bare: number[] = [];
  const each: Record<string, number[]> = { 'cache-health': [], notifier: [] };
  for (let i = 0; i < RUNS; i++) {
    bare.push(coldStart(''));
    for (const [k, f] of Object.entries(files)) each[k].push(coldStart(`require(${JSON.stringify(f.file)})`));
  }
  const b = median(bare);
  return Object.fromEntries([
    ["node -e ''", { loadMedianMs: +b.toFixed(1), runs: RUNS }],
    ...Object.entries(files).map(([k, f]) => [k, { bytes: f.bytes, gzipBytes: f.gzipBytes, loadMedianMs: +median(each[k]).toFixed(1), overBareMs: +(median(each[k]) - b).toFixed(1), runs: RUNS }]),
  ]);
}

async function main() {
  const report: Record<string, unknown> = { node: process.version, when: new Date().toISOString(), loadAverage1m: +os.loadavg()[0].toFixed(2), cpus: os.cpus().length };
  if (what === 'bundle' || what === 'all') report.bundle = await bundleBench();
  if (what === 'probe' || what === 'all') report.probe = await probeBench();
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench/cache-health: ${(e as Error).stack ?? String(e)} ${JSON.stringify(e)}\n`);
  process.exitCode = 1;
});
