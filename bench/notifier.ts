/**
 * Notifier benchmarks (real time, no fakes):
 *
 *   npx tsx bench/notifier.ts [bundle|load|storm|all] [--runs 10] [--transitions 100] [--undigested]
 *
 * - bundle: esbuild the handler the way PlatformFunction does (minified, node24, cjs, sourcemap,
 *   `@aws-sdk/*` external because the Node.js 24 runtime ships SDK v3) and, for comparison, with
 *   the SDK bundled in. Sizes raw and gzipped.
 * - load: module-load time of each bundle against bare `node -e ''` (median of N cold processes).
 *   With the SDK external, `require` resolves it from node_modules here; on Lambda it comes from
 *   the runtime's copy, so this is an upper bound of the same work.
 * - storm: N alarm transitions (2/3 ALARM, 1/3 OK) delivered as one SQS batch through the real
 *   code path and the real SlackPoster to a stand-in webhook on 127.0.0.1 that allows a burst of
 *   5 and then 1 message per second (429 + Retry-After beyond that). Posts, 429s, wall time, and
 *   whether every alarm was named. `--undigested` repeats it with digests off, for contrast
 *   (one post per transition; takes about a second and a half per transition).
 *
 * Prints one JSON object.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { SlackPoster } from '../lambda/notifier/deliver';
import { processEvent } from '../lambda/notifier/notify';
import { staticResolver } from '../lambda/notifier/webhooks';
import { bundleLikeLambda, coldStart, commandLine, median, REPO } from './support';

const OUT = path.join(REPO, '.tmp', 'bench-notifier');
const args = process.argv.slice(2);
const { what, flag } = commandLine(args);
const RUNS = flag('runs', 10);
const TRANSITIONS = flag('transitions', 100);

function bundle(external: boolean): Promise<{ file: string; bytes: number; gzipBytes: number }> {
  const file = path.join(OUT, external ? 'handler.sdk-external.js' : 'handler.sdk-bundled.js');
  return bundleLikeLambda(file, { entryPoints: [path.join(REPO, 'lambda/notifier/handler.ts')], sourcemap: true, external: external ? ['@aws-sdk/*'] : [] });
}

async function measureLoad(files: Record<string, string>) {
  const out: Record<string, { medianMs: number; overBareMs?: number; runs: number }> = {};
  const bare: number[] = [];
  const each: Record<string, number[]> = Object.fromEntries(Object.keys(files).map((k) => [k, []]));
  // Interleaved so that machine noise hits every variant alike.
  for (let i = 0; i < RUNS; i++) {
    bare.push(coldStart(''));
    for (const [k, f] of Object.entries(files)) each[k].push(coldStart(`require(${JSON.stringify(f)})`));
  }
  const bareMedian = median(bare);
  out["node -e ''"] = { medianMs: +bareMedian.toFixed(1), runs: RUNS };
  for (const [k, xs] of Object.entries(each)) out[k] = { medianMs: +median(xs).toFixed(1), overBareMs: +(median(xs) - bareMedian).toFixed(1), runs: RUNS };
  return out;
}

/** A webhook stand-in: token bucket of 5, refilled at 1/s; beyond it, 429 with Retry-After. */
async function standIn() {
  let tokens = 5;
  let last = Date.now();
  const log: { at: number; status: number; names: string[] }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const now = Date.now();
      tokens = Math.min(5, tokens + (now - last) / 1000);
      last = now;
      const names = body.match(/prod-svc-\d{3}-latency/g) ?? [];
      if (tokens >= 1) {
        tokens -= 1;
        log.push({ at: now, status: 200, names });
        res.writeHead(200).end('ok');
      } else {
        const wait = Math.ceil((1 - tokens) * 1000);
        log.push({ at: now, status: 429, names: [] });
        res.writeHead(429, { 'retry-after': String(Math.ceil(wait / 1000)) }).end('rate_limited');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0BENCH/B0BENCH/benchtoken`;
  return { url, log, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function stormEvent(n: number) {
  const now = Date.now();
  return {
    Records: Array.from({ length: n }, (_, i) => {
      const state = i % 3 === 2 ? 'OK' : 'ALARM';
      const name = `prod-svc-${String(i).padStart(3, '0')}-latency`;
      const message = {
        AlarmName: name,
        AlarmDescription: 'p99 latency above 500 ms. Runbook: https://example.com/runbooks/latency',
        AWSAccountId: '123456789012',
        NewStateValue: state,
        OldStateValue: state === 'OK' ? 'ALARM' : 'OK',
        NewStateReason: `Threshold Crossed: 1 out of the last 1 datapoints [${state === 'OK' ? 120 : 870.5} (23/11/26 01:14:00)] was ${state === 'OK' ? 'not ' : ''}greater than the threshold (500.0).`,
        StateChangeTime: new Date(now - (n - i) * 200).toISOString(),
        Region: 'Asia Pacific (Seoul)',
        AlarmArn: `arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:${name}`,
        Trigger: { MetricName: 'TargetResponseTime', Namespace: 'AWS/ApplicationELB', Statistic: 'p99', Unit: 'Seconds', Dimensions: [{ name: 'LoadBalancer', value: `app/svc-${i}/50dc6c495c0c9188` }], Period: 60, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold', Threshold: 0.5 },
      };
      const envelope = { Type: 'Notification', MessageId: `m-${i}`, TopicArn: 'arn:aws:sns:ap-northeast-2:123456789012:prod-alerts-critical', Subject: `${state}: "${name}"`, Message: JSON.stringify(message), Timestamp: new Date().toISOString() };
      return { messageId: `sqs-${i}`, eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:ap-northeast-2:123456789012:prod-alerts-critical-queue', body: JSON.stringify(envelope) };
    }),
  };
}

async function storm(n: number, stormThreshold?: number) {
  const server = await standIn();
  const event = stormEvent(n);
  const started = Date.now();
  const result = await processEvent(event, { config: { environment: 'prod', criticalMention: 'here', stormThreshold }, webhook: staticResolver(server.url), poster: new SlackPoster() });
  const wallMs = Date.now() - started;
  await server.close();
  const named = new Set(server.log.flatMap((l) => l.names));
  return {
    transitions: n,
    posts: result.posts.length,
    delivered: result.posts.filter((p) => p.outcome.ok).length,
    requests: server.log.length,
    rateLimited429: server.log.filter((l) => l.status === 429).length,
    wallSeconds: +(wallMs / 1000).toFixed(2),
    everyAlarmNamed: named.size === n,
    failedItems: result.failedItemIds.length,
  };
}

async function main() {
  const report: Record<string, unknown> = { node: process.version, when: new Date().toISOString(), loadAverage1m: +os.loadavg()[0].toFixed(2), cpus: os.cpus().length };
  if (what === 'bundle' || what === 'load' || what === 'all') {
    const ext = await bundle(true);
    const full = await bundle(false);
    report.bundle = {
      chosen: 'SDK external (@aws-sdk/* left to the Node.js 24 runtime), as PlatformFunction bundles it',
      sdkExternal: { bytes: ext.bytes, gzipBytes: ext.gzipBytes },
      sdkBundled: { bytes: full.bytes, gzipBytes: full.gzipBytes },
    };
    if (what !== 'bundle') report.moduleLoad = await measureLoad({ 'handler (SDK external)': ext.file, 'handler (SDK bundled)': full.file });
  }
  if (what === 'storm' || what === 'all') report.storm = await storm(TRANSITIONS);
  // For contrast, one post per transition (digests off): what a per-alarm notifier must do.
  if (args.includes('--undigested')) report.stormUndigested = await storm(TRANSITIONS, 100_000);
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
