import { classify } from '../../../lambda/notifier/classify';
import { forgetAlarmStarts } from '../../../lambda/notifier/enrich';
import { processEvent } from '../../../lambda/notifier/notify';
import { render } from '../../../lambda/notifier/format';
import { parseEvent } from '../../../lambda/notifier/parse';
import { mentionToken, planPosts } from '../../../lambda/notifier/plan';
import { LIMITS, countBlocks } from '../../../lambda/notifier/slack';
import type { Item, Severity } from '../../../lambda/notifier/types';
import { fixture } from './support';

const NOW = new Date('2026-11-23T02:00:00Z');
const base = JSON.parse((fixture('cloudwatch-alarm-metric-math.sns-envelope.json') as any).Message);

/** A storm: `n` transitions of distinct alarms, every third one an OK. */
function storm(n: number, severity: Severity = 'critical') {
  return Array.from({ length: n }, (_, i) => {
    const state = i % 3 === 2 ? 'OK' : 'ALARM';
    const name = `prod-svc-${String(i).padStart(3, '0')}-latency`;
    const [envelope] = parseEvent({ ...base, AlarmName: name, AlarmArn: `arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:${name}`, NewStateValue: state, OldStateValue: state === 'OK' ? 'ALARM' : 'OK', StateChangeTime: new Date(NOW.getTime() - (n - i) * 1000).toISOString() });
    const item: Item = { envelope: { ...envelope, itemId: `msg-${i}` }, severity, notification: classify(envelope) };
    return render(item, { environment: 'prod', now: NOW });
  });
}

describe('planPosts', () => {
  test('a quiet batch: one post per notification, critical problems mention, recoveries do not', () => {
    const rendered = storm(3);
    const posts = planPosts(rendered, { criticalMention: 'here' });
    expect(posts).toHaveLength(3);
    expect(posts.map((p) => p.itemIds)).toEqual([['msg-0'], ['msg-1'], ['msg-2']]);
    expect(posts.map((p) => p.message.text.startsWith('<!here> '))).toEqual([true, true, false]);
  });

  test('a 100-transition storm becomes 3 digest posts that name every alarm once, mention once, and fit Slack', () => {
    const rendered = storm(100);
    const posts = planPosts(rendered, { criticalMention: 'S0123ABCD', environment: 'prod' });
    expect(posts).toHaveLength(3);
    expect(posts.every((p) => p.digest)).toBe(true);
    const all = posts.map((p) => JSON.stringify(p.message)).join('\n');
    for (let i = 0; i < 100; i++) expect(all).toContain(`prod-svc-${String(i).padStart(3, '0')}-latency`);
    expect(posts.flatMap((p) => p.itemIds).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `msg-${i}`).sort());
    expect(posts.map((p) => (JSON.stringify(p.message).match(/<!subteam\^S0123ABCD>/g) ?? []).length)).toEqual([2, 0, 0]); // text + section of the first post
    expect(posts[0].message.text).toContain('100 notifications in prod: 67 problems, 33 other (part 1/3)');
    for (const p of posts) {
      expect(countBlocks(p.message)).toBeLessThanOrEqual(LIMITS.blocks);
      for (const b of p.message.attachments![0].blocks) if (b.type === 'section') expect(b.text!.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
    }
    // Problems first.
    expect(JSON.stringify(posts[0].message)).not.toContain('*OK*');
  });

  test('severities are planned separately and critical goes first', () => {
    const posts = planPosts([...storm(2, 'info'), ...storm(2, 'critical')]);
    expect(posts.map((p) => p.severity)).toEqual(['critical', 'critical', 'info', 'info']);
  });

  test.each([
    ['none', undefined],
    ['here', '<!here>'],
    ['channel', '<!channel>'],
    ['S0123ABCD', '<!subteam^S0123ABCD>'],
    ['<!subteam^S0123ABCD|oncall>', '<!subteam^S0123ABCD>'],
    ['everyone', undefined],
    ['<@U123>', undefined],
  ])('mention %s → %s', (config, token) => {
    expect(mentionToken(config)).toBe(token);
  });
});

describe('storm digests through processEvent', () => {
  test('an ALARM and its OK in the same storm: the OK line says how long it lasted', async () => {
    forgetAlarmStarts();
    const alarm = (name: string, state: string, at: string) => ({ ...base, AlarmName: name, AlarmArn: `arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:${name}`, NewStateValue: state, StateChangeTime: at });
    const events = [
      ...Array.from({ length: 6 }, (_, i) => alarm(`noise-${i}`, 'ALARM', '2026-11-23T01:00:00.000Z')),
      alarm('prod-db-connections', 'ALARM', '2026-11-23T01:00:00.000Z'),
      alarm('prod-db-connections', 'OK', '2026-11-23T01:07:30.000Z'),
    ];
    const posts: string[] = [];
    const result = await processEvent(events, { config: {}, webhook: async () => 'https://example.invalid', poster: { post: async () => ({ ok: true, attempts: 1, status: 200, degraded: false }) }, dryRun: (p) => posts.push(JSON.stringify(p.message)) });
    expect(result.posts).toHaveLength(1);
    expect(posts[0]).toContain('recovered after 7m 30s');
  });
});
