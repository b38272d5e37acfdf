/**
 * The db-health digest (lambda/db-health/digest.ts) arrives on the info topic with ready Slack
 * blocks: the notifier posts them as they are, on their own, without a mention, and falls back to
 * the generic text rendering of the digest's `text` when the blocks are not what it expects.
 *
 * The fixture test/fixtures/events/db-health-digest.json is the builder's output for DATA below,
 * wrapped in the SNS envelope the info topic delivers; after a change to the builder, regenerate
 * it with `UPDATE_FIXTURES=1 npx jest test/lambda/notifier/digest-passthrough`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DIGEST_KIND } from '../../../lambda/db-health/contract';
import { formatDigest, type DigestData, type DigestMessage } from '../../../lambda/db-health/digest';
import { classify } from '../../../lambda/notifier/classify';
import { runCli } from '../../../lambda/notifier/cli';
import { processEvent, type NotifierConfig } from '../../../lambda/notifier/notify';
import { parseEvent } from '../../../lambda/notifier/parse';
import { LIMITS, selfRenderedBlocks } from '../../../lambda/notifier/slack';
import type { Post } from '../../../lambda/notifier/types';
import { FIXTURES, fixture } from './support';
import { sampleDigestData } from '../../fixtures/db-health-digest-data';

const NOW = new Date('2026-11-24T00:00:00Z');
const INFO_TOPIC = 'arn:aws:sns:ap-northeast-2:123456789012:prod-Alerting-AlertTopicsInfo3F9A2C1B';
const FIXTURE = 'db-health-digest.json';

/** Digest data with text Slack must not interpret: `<`, `>`, `&` and a would-be mention. */
const DATA: DigestData = sampleDigestData({
  statements: {
    available: true,
    since: '2026-11-20T09:30:00.000Z',
    top: [
      { queryId: '1', calls: 120000, totalMs: 4_500_000, meanMs: 37.5, rows: 120000, query: "SELECT * FROM gt_jobs WHERE status <> $1 AND progress < $2 AND note = '<!channel> & co'" },
      { queryId: '2', calls: 50, totalMs: 900, meanMs: 18, rows: 50, query: 'UPDATE ag_events SET payload = $1 WHERE id = $2' },
    ],
  },
  unprefixedTables: [{ schema: 'public', table: 'legacy<things>', totalBytes: 8192, owner: 'platform_admin' }],
});

const digest = (): DigestMessage => formatDigest(DATA, 'prod', NOW);

/** What the info topic delivers to an email/HTTP subscriber or the CLI: the SNS envelope. */
function snsEnvelope(message: unknown, subject = digest().title.slice(0, 100)) {
  return {
    Type: 'Notification',
    MessageId: '0d1e2f30-4152-6374-8596-a7b8c9d0e1f2',
    TopicArn: INFO_TOPIC,
    Subject: subject,
    Message: JSON.stringify(message),
    Timestamp: '2026-11-24T00:00:01.204Z',
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
    SigningCertURL: 'https://sns.ap-northeast-2.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
    UnsubscribeURL: `https://sns.ap-northeast-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${INFO_TOPIC}:5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d`,
    MessageAttributes: { kind: { Type: 'String', Value: DIGEST_KIND } },
  };
}

/** The posts the notifier plans for `events`, as the Lambda would (dry run: nothing is sent). */
async function plan(events: unknown[], config: NotifierConfig = {}): Promise<Post[]> {
  const posts: Post[] = [];
  await processEvent(events, {
    config: { environment: 'prod', ...config },
    webhook: async () => 'https://example.invalid',
    poster: { post: async () => ({ ok: true, attempts: 1, status: 200, degraded: false }) },
    now: () => NOW,
    dryRun: (p) => posts.push(p),
  });
  return posts;
}

/** A CloudWatch alarm on the info topic (SNS alarm action), by name and state. */
function infoAlarm(name: string, state: 'ALARM' | 'OK', i: number) {
  return {
    Type: 'Notification',
    TopicArn: INFO_TOPIC,
    Subject: `${state}: "${name}"`,
    Message: JSON.stringify({
      AlarmName: name,
      AlarmArn: `arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:${name}`,
      NewStateValue: state,
      OldStateValue: state === 'OK' ? 'ALARM' : 'OK',
      NewStateReason: 'Threshold Crossed: 1 datapoint [91.0 (24/11/26 00:00:00)] was greater than the threshold (80.0).',
      StateChangeTime: new Date(NOW.getTime() - 60_000 + i * 1000).toISOString(),
      Trigger: { MetricName: 'CPUUtilization', Namespace: 'AWS/RDS', Statistic: 'AVERAGE', Period: 300, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold', Threshold: 80, Dimensions: [{ name: 'DBInstanceIdentifier', value: 'prod-db' }] },
    }),
    Timestamp: new Date(NOW.getTime() - 60_000 + i * 1000).toISOString(),
  };
}

describe('the db-health digest fixture', () => {
  test('is the real builder output for DATA, in the info topic envelope', () => {
    const file = path.join(FIXTURES, FIXTURE);
    const expected = snsEnvelope(digest());
    if (process.env.UPDATE_FIXTURES === '1') fs.writeFileSync(file, JSON.stringify(expected, null, 2) + '\n');
    const stored = fixture(FIXTURE) as ReturnType<typeof snsEnvelope>;
    expect(stored).toEqual(expected);
    expect(JSON.parse(stored.Message).kind).toBe(DIGEST_KIND);
  });
});

describe('a db-health digest is posted with its own blocks and text', () => {
  test('one post on the info webhook: the builder blocks and text exactly, no attachment, no colour bar', async () => {
    const d = digest();
    const posts = await plan([fixture(FIXTURE)]);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ severity: 'info', digest: false, count: 1 });
    expect(posts[0].message.text).toBe(d.text);
    expect(posts[0].message.blocks).toEqual(d.blocks);
    expect(posts[0].message.attachments).toBeUndefined();
  });

  test('escaped once: the builder escaped text stays escaped, nothing is escaped twice, nothing pings', async () => {
    const [post] = await plan([fixture(FIXTURE)]);
    const payload = JSON.stringify(post.message);
    expect(payload).toContain('&lt;!channel&gt; &amp; co');
    expect(payload).toContain('legacy&lt;things&gt;');
    expect(payload).not.toMatch(/&amp;(lt|gt|amp);/);
    expect(payload).not.toMatch(/<[!@]/);
  });

  test('it never mentions, even with a critical mention configured and critical severity forced', async () => {
    const posts = await plan([fixture(FIXTURE)], { criticalMention: 'here', forcedSeverity: 'critical' });
    expect(posts).toHaveLength(1);
    expect(posts[0].severity).toBe('critical');
    expect(JSON.stringify(posts[0].message)).not.toContain('<!here>');
    expect(posts[0].message.blocks).toEqual(digest().blocks);
  });

  test('in an info storm it stays a post of its own, outside the storm digest, and does not count towards it', async () => {
    const d = digest();
    const alarms = Array.from({ length: 8 }, (_, i) => infoAlarm(`prod-info-${i}`, i % 2 ? 'OK' : 'ALARM', i));
    const posts = await plan([...alarms.slice(0, 4), fixture(FIXTURE), ...alarms.slice(4)], { criticalMention: 'here' });
    const storm = posts.filter((p) => p.digest);
    const own = posts.filter((p) => !p.digest);
    expect(storm).toHaveLength(1);
    expect(storm[0].count).toBe(8);
    expect(JSON.stringify(storm[0].message)).not.toContain('DB health digest');
    expect(own).toHaveLength(1);
    expect(own[0].message.blocks).toEqual(d.blocks);

    // Five alarms and the digest: five is within the storm threshold, so six posts, no storm digest.
    const quiet = await plan([...alarms.slice(0, 5), fixture(FIXTURE)]);
    expect(quiet.filter((p) => p.digest)).toHaveLength(0);
    expect(quiet).toHaveLength(6);
    expect(quiet.filter((p) => JSON.stringify(p.message.blocks) === JSON.stringify(d.blocks))).toHaveLength(1);
  });

  test('a critical storm still mentions once; the digest beside it (same batch, critical) does not', async () => {
    const alarms = Array.from({ length: 7 }, (_, i) => infoAlarm(`prod-crit-${i}`, 'ALARM', i));
    const posts = await plan([...alarms, fixture(FIXTURE)], { criticalMention: 'here', forcedSeverity: 'critical' });
    const storm = posts.filter((p) => p.digest);
    const own = posts.filter((p) => !p.digest);
    expect(storm).toHaveLength(1);
    expect(storm[0].message.text.startsWith('<!here>')).toBe(true);
    expect(own).toHaveLength(1);
    expect(own[0].message.blocks).toEqual(digest().blocks);
    expect(JSON.stringify(own[0].message)).not.toContain('<!here>');
  });

  test('a bare digest (SNS-to-Lambda record, no envelope) is recognised too', async () => {
    const d = digest();
    const posts = await plan([{ Records: [{ EventSource: 'aws:sns', Sns: { TopicArn: INFO_TOPIC, Subject: d.title, Message: JSON.stringify(d), Timestamp: NOW.toISOString() } }] }]);
    expect(posts).toHaveLength(1);
    expect(posts[0].message.blocks).toEqual(d.blocks);
  });

  test('a digest at the builder limits (many long rows) still passes the notifier checks', () => {
    const long = (i: number) => `x${i}_${'y'.repeat(200)}<&>`;
    const big = formatDigest(
      {
        ...DATA,
        statements: { available: true, since: null, top: Array.from({ length: 50 }, (_, i) => ({ queryId: String(i), calls: i, totalMs: i, meanMs: 1, rows: i, query: `SELECT ${long(i)}` })) },
        unusedIndexes: Array.from({ length: 60 }, (_, i) => ({ schema: 'public', table: long(i), index: long(i), sizeBytes: 2 ** 30 })),
        largestTables: Array.from({ length: 60 }, (_, i) => ({ schema: 'public', table: long(i), totalBytes: 2 ** 31 })),
        unprefixedTables: Array.from({ length: 60 }, (_, i) => ({ schema: 'public', table: long(i), totalBytes: 8192, owner: long(i) })),
        database: 'd'.repeat(200),
      },
      'prod',
      NOW,
    );
    expect(big.blocks.some((b) => b.type === 'section' && (b.text as { text: string }).text.length > 2900)).toBe(true);
    expect(selfRenderedBlocks(big.blocks)).toEqual({ ok: true, blocks: big.blocks });
    const n = classify(parseEvent(snsEnvelope(big))[0]);
    expect(n.kind).toBe('self-rendered');
  });
});

describe('a malformed digest falls back to the generic text rendering of its text', () => {
  const d = digest();
  const withBlocks = (blocks: unknown[]) => ({ ...d, blocks });
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

  test.each<[string, unknown, RegExp]>([
    ['51 blocks', withBlocks([...d.blocks, ...Array.from({ length: LIMITS.blocks + 1 - d.blocks.length }, () => ({ type: 'divider' }))]), /51 blocks \(limit 50\)/],
    [
      'an actions block with a URL button',
      withBlocks([...d.blocks, { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open' }, url: 'https://evil.example/login' }] }]),
      /type "actions"/,
    ],
    ['a 4000-character section', withBlocks([...d.blocks.slice(0, 2), section('a'.repeat(4000))]), /4000 characters \(limit 3000\)/],
    [
      'a section with a button accessory',
      withBlocks([{ ...section('fine'), accessory: { type: 'button', text: { type: 'plain_text', text: 'Go' }, url: 'https://evil.example/login' } }]),
      /unexpected field "accessory"/,
    ],
    ['a 151-character header', withBlocks([{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }]), /151 characters \(limit 150\)/],
    ['a mrkdwn header', withBlocks([{ type: 'header', text: { type: 'mrkdwn', text: 'x' } }]), /type "mrkdwn"/],
    ['a mention in a section', withBlocks([section('hey <!channel> look')]), /contains a mention/],
    ['a user mention in a context', withBlocks([{ type: 'context', elements: [{ type: 'mrkdwn', text: 'ping <@U012AB3CD>' }] }]), /contains a mention/],
    ['an image in a context', withBlocks([{ type: 'context', elements: [{ type: 'image', image_url: 'https://evil.example/p.png', alt_text: 'x' }] }]), /\(context\) element 0 has an unexpected field "image_url"/],
    ['an empty section', withBlocks([section('')]), /has no text/],
    ['blocks that are not an array', { ...d, blocks: { type: 'divider' } }, /not an array/],
    ['no blocks', withBlocks([]), /no blocks/],
    ['a block that is not an object', withBlocks(['divider']), /not an object/],
  ])('%s', async (_name, message, reason) => {
    const env = parseEvent(snsEnvelope(message))[0];
    const n = classify(env);
    expect(n.kind).toBe('text');
    if (n.kind !== 'text') return;
    expect(n.text).toBe(d.text);
    expect(n.fallbackReason).toMatch(reason);

    const [post] = await plan([snsEnvelope(message)], { criticalMention: 'here' });
    const payload = JSON.stringify(post.message);
    // The generic rendering: the digest's text (escaped again, in a code block), not the raw JSON.
    expect(payload).not.toContain('"kind\\":');
    expect(payload).toContain('&amp;lt;!channel&amp;gt;');
    expect(payload).toContain('Shown as text');
    // Nothing of the offending blocks goes out: no button URL, no image, no mention.
    expect(payload).not.toContain('evil.example');
    expect(payload).not.toMatch(/<[!@]/);
    expect(post.message.blocks).not.toEqual(d.blocks);
  });

  test('a text with a mention or over 3000 characters is not posted as mrkdwn', async () => {
    for (const [text, reason] of [
      ['<!here> DB health digest', /text contains a mention/],
      ['t'.repeat(3001), /3001 characters/],
    ] as const) {
      const n = classify(parseEvent(snsEnvelope({ ...d, text }))[0]);
      expect(n).toMatchObject({ kind: 'text', fallbackReason: expect.stringMatching(reason) });
      const [post] = await plan([snsEnvelope({ ...d, text })]);
      expect(JSON.stringify(post.message)).not.toContain('<!here>');
    }
  });

  test('without a text field, the raw message is rendered as text', () => {
    const { text: _omit, ...rest } = d;
    const n = classify(parseEvent(snsEnvelope(rest))[0]);
    expect(n).toMatchObject({ kind: 'text', fallbackReason: `${DIGEST_KIND} without text` });
    if (n.kind === 'text') expect(JSON.parse(n.text).kind).toBe(DIGEST_KIND);
  });

  test('only the exact kind is trusted: a look-alike is generic text (the raw JSON)', () => {
    for (const kind of ['db-health-digest-v2', 'DB-HEALTH-DIGEST', undefined]) {
      const n = classify(parseEvent(snsEnvelope({ ...d, kind }))[0]);
      expect(n.kind).toBe('text');
      if (n.kind === 'text') expect(n.fallbackReason).toBeUndefined();
    }
  });
});

describe('npm run notify -- db-health-digest.json --dry-run', () => {
  test('prints one info post whose payload is the digest text and blocks', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli([path.join(FIXTURES, FIXTURE), '--dry-run'], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    const printed = JSON.parse(out[0]);
    expect(printed).toMatchObject({ severity: 'info', digest: false, notifications: 1 });
    expect(printed.payload).toEqual({ text: digest().text, blocks: digest().blocks });
    expect(err.join('\n')).toContain('1 notification(s) → 1 post(s) (dry run, nothing sent)');
  });
});
