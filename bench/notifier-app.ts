/**
 * Slack app mode benchmarks (real time; real code path, real dynalite, a Slack Web API stand-in):
 *
 *   npx tsx bench/notifier-app.ts [storm|load|all] [--threads 25] [--transitions 100] [--runs 11]
 *
 * - storm: `--threads` alarms first go to ALARM one invocation at a time (each opens a thread, with
 *   a graph uploaded into it), then `--transitions` transitions of those alarms arrive as one SQS
 *   batch (the notifier's batch size is 100), each invocation with the Lambda's deadline (function
 *   timeout 90 s minus 5 s). The stand-in enforces Slack's documented limits: `chat.postMessage`
 *   1/s per channel with a burst of 5, `chat.update` 50/min (Tier 3) with a burst of 5, 429 +
 *   Retry-After beyond them (https://docs.slack.dev/apis/web-api/rate-limits). The Slack client
 *   runs with its production pacing. Reported: posts, updates, uploads, 429s, wall time, messages
 *   lost, and whether every parent shows its alarm's final state.
 * - load: module load of the handler bundle (what both modes pay at a cold start: app mode's code
 *   is loaded on the first batch) and of app mode's own modules (`@slack/web-api`, the thread
 *   store, the graph), each over bare `node -e ''`, median of N interleaved cold processes.
 *
 * The only fake: CloudWatch's GetMetricWidgetImage (AWS), replaced by a fixed 12 kB PNG-sized buffer.
 * Prints one JSON object; `--write` also saves it to bench/results/notifier-app.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AppDelivery } from '../lambda/notifier/app/deliver-app';
import { SlackWeb } from '../lambda/notifier/app/slack-web';
import { DynamoThreadStore } from '../lambda/notifier/app/thread-store';
import { processEvent } from '../lambda/notifier/notify';
import { startDynalite } from '../test/support/dynalite';
import { SlackStandin } from '../test/support/slack-standin';
import { bundleLikeLambda, coldStart, commandLine, median, REPO } from './support';

const OUT = path.join(REPO, '.tmp', 'bench-notifier-app');
const args = process.argv.slice(2);
const { what, flag } = commandLine(args);
const THREADS = flag('threads', 25);
const TRANSITIONS = flag('transitions', 100);
const RUNS = flag('runs', 11);
/** The notifier's function timeout (lib/constructs/slack-notifier.ts) less the handler's 5 s margin. */
const DEADLINE_MS = 85_000;
const CHANNELS = { critical: 'C0CRIT', warning: 'C0WARN', info: 'C0INFO' };

const alarmName = (i: number) => `prod-svc-${String(i).padStart(3, '0')}-latency`;

/** One SQS record per transition: CloudWatch's SNS alarm message inside an SNS envelope. */
function sqsBatch(transitions: { i: number; state: 'ALARM' | 'OK'; at: number }[]) {
  return {
    Records: transitions.map((t, k) => {
      const name = alarmName(t.i);
      const message = {
        AlarmName: name,
        AlarmDescription: 'p99 latency above 500 ms. Runbook: https://github.com/acme/platform-infra/blob/main/docs/runbooks/database.md#db-cpu-cpu-high',
        AWSAccountId: '123456789012',
        NewStateValue: t.state,
        OldStateValue: t.state === 'OK' ? 'ALARM' : 'OK',
        NewStateReason: `Threshold Crossed: 1 out of the last 1 datapoints was ${t.state === 'OK' ? 'not ' : ''}greater than the threshold (0.5).`,
        StateChangeTime: new Date(t.at).toISOString().replace('Z', '+0000'),
        Region: 'Asia Pacific (Seoul)',
        AlarmArn: `arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:${name}`,
        Trigger: { MetricName: 'TargetResponseTime', Namespace: 'AWS/ApplicationELB', Statistic: 'Average', Unit: 'Seconds', Dimensions: [{ name: 'LoadBalancer', value: `app/svc-${t.i}/50dc6c495c0c9188` }], Period: 60, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold', Threshold: 0.5 },
      };
      const envelope = { Type: 'Notification', MessageId: `m-${t.at}-${k}`, TopicArn: 'arn:aws:sns:ap-northeast-2:123456789012:prod-alerts-critical', Subject: `${t.state}: "${name}"`, Message: JSON.stringify(message), Timestamp: new Date(t.at).toISOString() };
      return { messageId: `sqs-${t.at}-${k}`, eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:ap-northeast-2:123456789012:prod-alerts-critical-queue', body: JSON.stringify(envelope), attributes: {}, messageAttributes: {} };
    }),
  };
}

async function storm() {
  const dynamo = await startDynalite();
  const slack = await new SlackStandin({ channels: Object.values(CHANNELS), postPerSecond: 1, postBurst: 5, updatePerMinute: 50, updateBurst: 5 }).start();
  await dynamo.createThreadTable('threads');
  const web = new SlackWeb(slack.token, { slackApiUrl: slack.apiUrl });
  const png = new Uint8Array(12 * 1024).fill(7);
  // Warnings (a skipped parent update, an unavailable table) are counted by message for the report.
  const warnings = new Map<string, number>();
  const count = (m: string, ...x: Record<string, unknown>[]) => {
    const key = `${m}${x[0]?.error ? `: ${String(x[0].error).replace(/prod-svc-\d+/g, '…')}` : ''}`;
    warnings.set(key, (warnings.get(key) ?? 0) + 1);
  };
  const logger = { debug() {}, info() {}, warn: count, error: count };
  const delivery = new AppDelivery(web, new DynamoThreadStore(dynamo.client(), 'threads'), { channels: CHANNELS, graph: async () => png, logger });
  const invoke = async (event: unknown) => {
    web.deadline = Date.now() + DEADLINE_MS;
    return processEvent(event, { config: { environment: 'prod', criticalMention: 'none', defaultRegion: 'ap-northeast-2' }, webhook: async () => '', poster: { post: async () => ({ ok: false, attempts: 0, permanent: true, error: 'webhook in app mode' }) }, delivery });
  };
  try {
    // Opening: each alarm's first ALARM, one invocation each (a quiet night turning bad).
    const t0 = Date.now() - 3_600_000;
    const openStarted = Date.now();
    let lostOpening = 0;
    for (let i = 0; i < THREADS; i++) lostOpening += (await invoke(sqsBatch([{ i, state: 'ALARM', at: t0 + i * 1000 }]))).failedItemIds.length;
    const openSeconds = (Date.now() - openStarted) / 1000;
    const before = { posts: slack.count('chat.postMessage'), updates: slack.count('chat.update'), uploads: slack.count('files.completeUploadExternal'), r429: slack.rateLimited };

    // The storm: TRANSITIONS transitions spread over the alarms, alternating OK/ALARM, one batch.
    const transitions: { i: number; state: 'ALARM' | 'OK'; at: number }[] = [];
    const perAlarm = new Map<number, number>();
    for (let k = 0; k < TRANSITIONS; k++) {
      const i = k % THREADS;
      const n = (perAlarm.get(i) ?? 0) + 1;
      perAlarm.set(i, n);
      transitions.push({ i, state: n % 2 === 1 ? 'OK' : 'ALARM', at: t0 + 600_000 + k * 1000 });
    }
    const finalState = new Map<number, string>();
    for (const t of transitions) finalState.set(t.i, t.state);
    const stormStarted = Date.now();
    const result = await invoke(sqsBatch(transitions));
    const stormSeconds = (Date.now() - stormStarted) / 1000;

    const parents = slack.parents('C0CRIT').filter((m) => /prod-svc-\d{3}-latency/.test(m.text) && !/alarms? changed state/i.test(m.text));
    const stale: string[] = [];
    for (const [i, state] of finalState) {
      const p = parents.find((m) => m.text.includes(alarmName(i)));
      const shown = p ? JSON.stringify(p.blocks) : '';
      const ok = state === 'OK' ? /resolved after/.test(shown) : /ALARM since/.test(shown);
      if (!ok) stale.push(alarmName(i));
    }
    return {
      limits: 'chat.postMessage 1/s per channel, burst 5; chat.update 50/min, burst 5 (stand-in); client at its production pacing',
      opening: { threads: THREADS, posts: before.posts, uploads: before.uploads, rateLimited429: before.r429, lostMessages: lostOpening, wallSeconds: +openSeconds.toFixed(1) },
      storm: {
        transitions: TRANSITIONS,
        alarms: THREADS,
        posts: slack.count('chat.postMessage') - before.posts,
        updates: slack.count('chat.update') - before.updates,
        uploads: slack.count('files.completeUploadExternal') - before.uploads,
        rateLimited429: slack.rateLimited - before.r429,
        lostMessages: result.failedItemIds.length,
        wallSeconds: +stormSeconds.toFixed(1),
        parentsShowingFinalState: `${finalState.size - stale.length}/${finalState.size}`,
        stale,
      },
      warnings: Object.fromEntries(warnings),
    };
  } finally {
    await slack.stop();
    await dynamo.close();
  }
}

function bundle(name: string, contents: string) {
  return bundleLikeLambda(path.join(OUT, `${name}.js`), { stdin: { contents, resolveDir: REPO, loader: 'ts' } });
}

async function load() {
  const handler = await bundle('handler', "export * from './lambda/notifier/handler';");
  const app = await bundle('app-modules', "export * from './lambda/notifier/app/deliver-app'; export * from './lambda/notifier/app/slack-web'; export * from './lambda/notifier/app/thread-store'; export * from './lambda/notifier/app/graph';");
  const times: Record<string, number[]> = { bare: [], handler: [], app: [] };
  for (let i = 0; i < RUNS; i++) {
    times.bare.push(coldStart(''));
    times.handler.push(coldStart(`require(${JSON.stringify(handler.file)})`));
    times.app.push(coldStart(`require(${JSON.stringify(app.file)})`));
  }
  const bare = median(times.bare);
  const over = (k: string) => +(median(times[k]) - bare).toFixed(1);
  return {
    bundles: { handler: { bytes: handler.bytes, gzipBytes: handler.gzipBytes }, appModules: { bytes: app.bytes, gzipBytes: app.gzipBytes } },
    moduleLoadOverBareNodeMs: { handlerColdStartBothModes: over('handler'), appModulesOnFirstBatch: over('app'), bareNodeMs: +bare.toFixed(1), runs: RUNS },
  };
}

async function main() {
  const report: Record<string, unknown> = { node: process.version, when: new Date().toISOString(), loadAverage1m: +os.loadavg()[0].toFixed(2), cpus: os.cpus().length };
  if (what === 'load' || what === 'all') report.load = await load();
  if (what === 'storm' || what === 'all') report.storm = await storm();
  const text = JSON.stringify(report, null, 2) + '\n';
  process.stdout.write(text);
  if (args.includes('--write')) fs.writeFileSync(path.join(REPO, 'bench', 'results', 'notifier-app.json'), text);
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
