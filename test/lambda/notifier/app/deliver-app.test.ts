/**
 * App mode end to end: the notifier's own pipeline (processEvent) → AppDelivery → @slack/web-api →
 * a Slack Web API stand-in on 127.0.0.1, with thread state in dynalite. Event shapes are the
 * AWS sample alarm and RDS events in test/fixtures/events (CloudWatch's SNS alarm message:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AppDelivery } from '../../../../lambda/notifier/app/deliver-app';
import { SlackWeb } from '../../../../lambda/notifier/app/slack-web';
import { DynamoThreadStore } from '../../../../lambda/notifier/app/thread-store';
import { processEvent, type LoggerLike, type NotifierDeps } from '../../../../lambda/notifier/notify';
import { startDynalite, type TestDynamo } from '../../../support/dynalite';
import { SlackStandin } from '../../../support/slack-standin';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'fixtures', 'events');
const cpuEvent = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'cloudwatch-alarm-rds-cpu.sns-lambda.json'), 'utf8'));
const baseAlarm = JSON.parse(cpuEvent.Records[0].Sns.Message);
const rdsFailover = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'rds-event-failover.sns-envelope.json'), 'utf8'));
const CHANNELS = { critical: 'C0CRIT', warning: 'C0WARN', info: 'C0INFO' };
const T0 = Date.parse('2026-11-23T01:15:42.761Z');
const minutes = (n: number) => n * 60_000;

/** An SQS batch of alarm transitions (as the notifier's queues deliver them). */
function batch(...transitions: { name?: string; state: string; at: number; old?: string }[]) {
  return {
    Records: transitions.map((t, i) => {
      const message = {
        ...baseAlarm,
        AlarmName: t.name ?? baseAlarm.AlarmName,
        AlarmArn: `arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:${t.name ?? baseAlarm.AlarmName}`,
        AlarmDescription: 'CPU high. Runbook: https://github.com/acme/platform-infra/blob/main/docs/runbooks/database.md#db-cpu-cpu-high',
        NewStateValue: t.state,
        OldStateValue: t.old ?? (t.state === 'ALARM' ? 'OK' : 'ALARM'),
        StateChangeTime: new Date(t.at).toISOString().replace('Z', '+0000'),
      };
      const sns = { Type: 'Notification', MessageId: `m-${t.at}-${i}`, TopicArn: 'arn:aws:sns:ap-northeast-2:123456789012:prod-Alerting-CriticalTopic', Subject: 'x', Message: JSON.stringify(message), Timestamp: new Date(t.at).toISOString() };
      return { messageId: `sqs-${t.at}-${i}-${Math.random()}`, eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:ap-northeast-2:123456789012:prod-Alerting-CriticalQueue', body: JSON.stringify(sns), attributes: {}, messageAttributes: {} };
    }),
  };
}

let dynamo: TestDynamo;
let slack: SlackStandin;
let logs: string[];
const logger: LoggerLike = {
  debug: (m, ...x) => logs.push(`${m} ${JSON.stringify(x)}`),
  info: (m, ...x) => logs.push(`${m} ${JSON.stringify(x)}`),
  warn: (m, ...x) => logs.push(`${m} ${JSON.stringify(x)}`),
  error: (m, ...x) => logs.push(`${m} ${JSON.stringify(x)}`),
};
let tableSeq = 0;

function deps(table: string, opts: { now?: number; graph?: (a: unknown) => Promise<Uint8Array | undefined>; rethreadAfterMinutes?: number } = {}): NotifierDeps {
  const web = new SlackWeb(slack.token, { slackApiUrl: slack.apiUrl, postIntervalMs: 50, postBurst: 5, updateIntervalMs: 50, updateBurst: 5, onLog: (_l, m) => logs.push(m) });
  const store = new DynamoThreadStore(dynamo.client(), table);
  const now = opts.now ?? T0;
  return {
    config: { environment: 'prod', criticalMention: 'none', defaultRegion: 'ap-northeast-2' },
    webhook: async () => {
      throw new Error('app mode must not read webhooks');
    },
    poster: { post: async () => { throw new Error('app mode must not post to webhooks'); } },
    logger,
    now: () => new Date(now),
    delivery: new AppDelivery(web, store, { channels: CHANNELS, logger, now: () => now, graph: opts.graph as never, rethreadAfterMinutes: opts.rethreadAfterMinutes, claimWaitMs: 2000 }),
  };
}

async function freshTable(): Promise<string> {
  const name = `threads-${++tableSeq}`;
  await dynamo.createThreadTable(name);
  return name;
}

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(() => dynamo.close());
beforeEach(async () => {
  logs = [];
  slack = await new SlackStandin({ channels: Object.values(CHANNELS), postPerSecond: 20, postBurst: 5, updatePerMinute: 1200, updateBurst: 5 }).start();
});
afterEach(() => slack.stop());

const statusOf = (ts: string) => JSON.stringify(slack.messages.get(ts)!.blocks);

test('ALARM, then OK, then ALARM: one thread (the first ALARM is its parent, two replies), the parent shows the final state and a Runbook button', async () => {
  const table = await freshTable();
  for (const [state, at] of [['ALARM', T0], ['OK', T0 + minutes(14)], ['ALARM', T0 + minutes(30)]] as const) {
    const r = await processEvent(batch({ state, at }), deps(table, { now: at }));
    expect(r.failedItemIds).toEqual([]);
  }
  const parents = slack.parents('C0CRIT');
  expect(parents).toHaveLength(1);
  expect(slack.replies(parents[0].ts)).toHaveLength(2);
  expect(parents[0].updates).toBe(2);
  expect(statusOf(parents[0].ts)).toMatch(/🔴 ALARM since 01:45 UTC · 3 transitions/);
  expect(statusOf(parents[0].ts)).toMatch(/"url":"https:\/\/github.com\/acme\/platform-infra\/blob\/main\/docs\/runbooks\/database.md#db-cpu-cpu-high"/);
});

test('ALARM → OK reads "ALARM → resolved after 14 min" on the parent; a redelivered OK posts nothing more', async () => {
  const table = await freshTable();
  await processEvent(batch({ state: 'ALARM', at: T0 }), deps(table));
  await processEvent(batch({ state: 'OK', at: T0 + minutes(14) }), deps(table, { now: T0 + minutes(14) }));
  await processEvent(batch({ state: 'OK', at: T0 + minutes(14) }), deps(table, { now: T0 + minutes(15) }));
  const [parent] = slack.parents('C0CRIT');
  expect(statusOf(parent.ts)).toMatch(/🔴 ALARM → ✅ resolved after 14 min \(01:15–01:29 UTC\)/);
  expect(slack.replies(parent.ts)).toHaveLength(1);
});

test('an ALARM after the rethread window opens a new thread', async () => {
  const table = await freshTable();
  await processEvent(batch({ state: 'ALARM', at: T0 }), deps(table));
  await processEvent(batch({ state: 'OK', at: T0 + minutes(5) }), deps(table, { now: T0 + minutes(5) }));
  await processEvent(batch({ state: 'ALARM', at: T0 + minutes(5 + 61) }), deps(table, { now: T0 + minutes(66), rethreadAfterMinutes: 60 }));
  expect(slack.parents('C0CRIT')).toHaveLength(2);
});

test('an RDS failover event joins the open thread of its instance, broadcast to the channel', async () => {
  const table = await freshTable();
  await processEvent(batch({ state: 'ALARM', at: T0 }), deps(table));
  const [parent] = slack.parents('C0CRIT');
  await processEvent({ Records: [{ EventSource: 'aws:sns', Sns: { ...rdsFailover, TopicArn: 'arn:aws:sns:ap-northeast-2:123456789012:prod-Alerting-CriticalTopic' } }] }, deps(table));
  const replies = slack.replies(parent.ts);
  expect(replies).toHaveLength(1);
  expect(replies[0].text).toMatch(/fail/i);
  expect(replies[0].broadcast).toBe(true);
});

test('two invocations with the same ALARM at once open one thread', async () => {
  const table = await freshTable();
  const [a, b] = await Promise.all([processEvent(batch({ state: 'ALARM', at: T0 }), deps(table)), processEvent(batch({ state: 'ALARM', at: T0 + 1000 }), deps(table))]);
  expect([...a.failedItemIds, ...b.failedItemIds]).toEqual([]);
  expect(slack.parents('C0CRIT')).toHaveLength(1);
});

test('a lost table still delivers every message, without threading', async () => {
  const r1 = await processEvent(batch({ state: 'ALARM', at: T0 }), deps('table-that-does-not-exist'));
  const r2 = await processEvent(batch({ state: 'OK', at: T0 + minutes(3) }), deps('table-that-does-not-exist'));
  expect([...r1.failedItemIds, ...r2.failedItemIds]).toEqual([]);
  expect(slack.count('chat.postMessage')).toBe(2);
  expect(logs.join('\n')).toMatch(/thread table unavailable; posting without threading/);
});

test('the graph goes into the thread through getUploadURLExternal → upload → completeUploadExternal, in that order', async () => {
  const table = await freshTable();
  const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
  await processEvent(batch({ state: 'ALARM', at: T0 }), deps(table, { graph: async () => png }));
  const order = slack.calls.map((c) => c.method);
  expect(order).toEqual(['chat.postMessage', 'files.getUploadURLExternal', 'upload', 'files.completeUploadExternal']);
  const [parent] = slack.parents('C0CRIT');
  expect(parent.files).toHaveLength(1);
  expect([...slack.uploads.values()][0].bytes).toEqual(Buffer.from(png));
});

test('no graph in time: the message goes out without it', async () => {
  const table = await freshTable();
  const r = await processEvent(batch({ state: 'ALARM', at: T0 }), deps(table, { graph: async () => undefined }));
  expect(r.failedItemIds).toEqual([]);
  expect(slack.calls.map((c) => c.method)).toEqual(['chat.postMessage']);
});

test('a storm still takes a digest, and each alarm with a thread gets its parent updated to its final state', async () => {
  const table = await freshTable();
  const names = Array.from({ length: 8 }, (_, i) => `prod-alarm-${i}`);
  for (const name of names) await processEvent(batch({ name, state: 'ALARM', at: T0 }), deps(table));
  expect(slack.parents('C0CRIT')).toHaveLength(8);
  const posts = slack.count('chat.postMessage');
  const storm = names.flatMap((name, i) => [
    { name, state: 'OK', at: T0 + minutes(10) + i },
    { name, state: 'ALARM', at: T0 + minutes(11) + i },
    { name, state: 'OK', at: T0 + minutes(12) + i },
  ]);
  const r = await processEvent(batch(...storm), deps(table, { now: T0 + minutes(13) }));
  expect(r.failedItemIds).toEqual([]);
  expect(slack.count('chat.postMessage') - posts).toBe(1);
  for (const p of slack.parents('C0CRIT').filter((m) => m.updates > 0)) expect(statusOf(p.ts)).toMatch(/resolved after 12 min/);
  expect(slack.parents('C0CRIT').filter((m) => m.updates > 0)).toHaveLength(8);
});

test('the bot token never appears in a log line, even when Slack refuses it', async () => {
  const table = await freshTable();
  await processEvent(batch({ state: 'ALARM', at: T0 }), deps(table));
  const wrong = new SlackWeb('xoxb-9999-wrongTOKENvalue', { slackApiUrl: slack.apiUrl, onLog: (_l, m) => logs.push(m) });
  const out = await wrong.postMessage('C0CRIT', { text: 'x' });
  expect(out).toMatchObject({ ok: false, permanent: true, error: 'postMessage: invalid_auth' });
  const all = logs.join('\n');
  expect(all).not.toContain(slack.token);
  expect(all).not.toContain('wrongTOKENvalue');
  expect(slack.badAuth).toEqual(['Bearer xoxb-9999-wrongTOKENvalue']);
});

test('a 429 with Retry-After is waited out and the post still lands', async () => {
  await slack.stop();
  slack = await new SlackStandin({ channels: Object.values(CHANNELS), postPerSecond: 1, postBurst: 1 }).start();
  const web = new SlackWeb(slack.token, { slackApiUrl: slack.apiUrl, postIntervalMs: 10, postBurst: 5 });
  const outs = await Promise.all([web.postMessage('C0WARN', { text: 'a' }), web.postMessage('C0WARN', { text: 'b' })]);
  expect(outs.every((o) => o.ok)).toBe(true);
  expect(slack.rateLimited).toBeGreaterThanOrEqual(1);
  expect(web.counts.rateLimited).toBeGreaterThanOrEqual(1);
});

test("a 100-transition storm within Slack's limits (time scaled 10×): no message lost, no 429, every parent shows its alarm's final state", async () => {
  // Slack's limits (https://docs.slack.dev/apis/web-api/rate-limits): chat.postMessage about 1/s per
  // channel with short bursts, chat.update Tier 3 (50/min). Both the stand-in's limits and the
  // client's production pacing (1050 ms, 1250 ms, burst 4) run 10× faster here, so the test takes
  // seconds; bench/notifier-app.ts runs the same storm at the real limits.
  await slack.stop();
  slack = await new SlackStandin({ channels: Object.values(CHANNELS), postPerSecond: 10, postBurst: 5, updatePerMinute: 500, updateBurst: 5 }).start();
  const table = await freshTable();
  const web = new SlackWeb(slack.token, { slackApiUrl: slack.apiUrl, postIntervalMs: 105, updateIntervalMs: 125 });
  const delivery = new AppDelivery(web, new DynamoThreadStore(dynamo.client(), table), { channels: CHANNELS, logger, claimWaitMs: 2000 });
  const run = (event: unknown, now: number) => processEvent(event, { ...deps(table, { now }), delivery });
  const names = Array.from({ length: 25 }, (_, i) => `prod-svc-${String(i).padStart(2, '0')}-latency`);
  for (const [i, name] of names.entries()) expect((await run(batch({ name, state: 'ALARM', at: T0 + i }), T0 + i)).failedItemIds).toEqual([]);
  const openingPosts = slack.count('chat.postMessage');
  expect(openingPosts).toBe(25);

  // 100 transitions, four per alarm (OK, ALARM, OK, and for every other alarm ALARM again), one batch.
  const storm = names.flatMap((name, i) => ['OK', 'ALARM', 'OK', i % 2 ? 'ALARM' : 'OK'].map((state, k) => ({ name, state, at: T0 + minutes(10 + k) + i, old: k === 3 && i % 2 === 0 ? 'OK' : undefined })));
  expect(storm).toHaveLength(100);
  const r = await run(batch(...storm), T0 + minutes(15));
  expect(r.failedItemIds).toEqual([]);
  expect(slack.rateLimited).toBe(0);
  // The storm's digests, as in webhook mode: one per 40 lines (plan.ts linesPerPost), no per-transition posts.
  expect(r.posts.every((p) => p.post.digest)).toBe(true);
  expect(slack.count('chat.postMessage') - openingPosts).toBe(Math.ceil(100 / 40));
  for (const [i, name] of names.entries()) {
    const parent = slack.parents('C0CRIT').find((m) => m.text.includes(name));
    expect(parent).toBeDefined();
    expect(statusOf(parent!.ts)).toMatch(i % 2 ? /🔴 ALARM since/ : /resolved after/);
  }
}, 60_000);

test('when time runs out for parent updates, the parents of alarms that are in ALARM now were updated first', async () => {
  // A virtual clock for the Slack client: pacing waits cost no real time, and the deadline leaves
  // room for exactly five chat.update calls (one per second, no burst). The stand-in's own limits
  // run on real time, so they are lifted here: a 429 would be retried at once on the virtual clock.
  await slack.stop();
  slack = await new SlackStandin({ channels: Object.values(CHANNELS), postPerSecond: 10_000, postBurst: 1000, updatePerMinute: 600_000, updateBurst: 1000 }).start();
  const table = await freshTable();
  let t = 0;
  const clock = { now: () => t, sleep: async (ms: number) => void (t += Math.max(0, ms)) };
  const web = new SlackWeb(slack.token, { slackApiUrl: slack.apiUrl, clock, postIntervalMs: 1, postBurst: 100, updateIntervalMs: 1000, updateBurst: 1 });
  const delivery = new AppDelivery(web, new DynamoThreadStore(dynamo.client(), table), { channels: CHANNELS, logger, claimWaitMs: 2000 });
  const run = (event: unknown, now: number) => processEvent(event, { ...deps(table, { now }), delivery });
  const names = Array.from({ length: 10 }, (_, i) => `prod-queue-${i}-age`);
  for (const [i, name] of names.entries()) expect((await run(batch({ name, state: 'ALARM', at: T0 + i }), T0 + i)).failedItemIds).toEqual([]);
  // Alarms 0–4 recover; alarms 5–9 recover and fire again. Listed recoveries first, to prove the order is chosen.
  const storm = names.flatMap((name, i) => (i < 5 ? [{ name, state: 'OK', at: T0 + minutes(10) + i }] : [{ name, state: 'OK', at: T0 + minutes(10) + i }, { name, state: 'ALARM', at: T0 + minutes(11) + i }]));
  web.deadline = t + 4500;
  const r = await run(batch(...storm), T0 + minutes(12));
  expect(r.failedItemIds).toEqual([]);
  const updated = slack.parents('C0CRIT').filter((m) => m.updates > 0).map((m) => names.find((n) => m.text.includes(n)));
  expect(updated.sort()).toEqual(names.slice(5));
});
