/**
 * The cache-health digest reaches Slack the way the db-health one does: published on the info
 * topic, the notifier recognises its `kind` and posts its own blocks and text as they are.
 */
import { DIGEST_KIND } from '../../../lambda/cache-health/contract';
import { formatDigest, type DigestData } from '../../../lambda/cache-health/digest';
import { processEvent } from '../../../lambda/notifier/notify';
import type { Post } from '../../../lambda/notifier/types';

const NOW = new Date('2026-12-07T00:05:00Z');
const DATA: DigestData = {
  metrics: {
    memory_used_bytes: 50 * 2 ** 20, maxmemory_bytes: 400 * 2 ** 20, memory_used_ratio: 0.125, fragmentation_ratio: 1.1, hit_rate: 0.97,
    evicted_keys_per_minute: 0, expired_keys_per_minute: 12, rate_window_seconds: 300, connected_clients: 14, blocked_clients: 0,
    keys_total: 120_000, keys_sampled: 10_000, keys_without_ttl: 24, keys_unregistered: 12, biggest_key_bytes: 90_000,
  },
  patterns: [
    { pattern: 'progress:*', keys: 80_000, withoutTtl: 24, sampled: 6_667, mustExpire: true },
    { pattern: 'sc:*', keys: 39_988, withoutTtl: 39_988, sampled: 3_332, mustExpire: false },
  ],
  unregistered: { keys: 12, sampled: 1, examples: ['<!channel> hi'] },
  missingTtl: { keys: 24, sampled: 2, examples: ['progress:42'] },
  biggest: [{ key: 'sc:blob', ttl: -1, bytes: 90_000 }],
  sample: { budget: { maxKeys: 10_000, scanCount: 1_000 }, scanCalls: 10, keysSampled: 10_000, complete: false, scale: 12, commands: 20_012 },
};

test('one post on the info channel with the digest\'s own blocks and text, no mention', async () => {
  const d = formatDigest(DATA, 'prod', NOW);
  const envelope = {
    Type: 'Notification',
    MessageId: 'c0ffee00-0000-4000-8000-000000000001',
    TopicArn: 'arn:aws:sns:ap-northeast-2:123456789012:prod-alerts-info',
    Subject: d.title,
    Message: JSON.stringify(d),
    Timestamp: NOW.toISOString(),
    MessageAttributes: { kind: { Type: 'String', Value: DIGEST_KIND } },
  };
  const posts: Post[] = [];
  await processEvent([envelope], {
    config: { environment: 'prod' },
    webhook: async () => 'https://example.invalid',
    poster: { post: async () => ({ ok: true, attempts: 1, status: 200, degraded: false }) },
    now: () => NOW,
    dryRun: (p) => posts.push(p),
  });
  expect(posts).toHaveLength(1);
  expect(posts[0]).toMatchObject({ severity: 'info', digest: false, count: 1 });
  expect(posts[0].message.text).toBe(d.text);
  expect(posts[0].message.blocks).toEqual(d.blocks);
  expect(d.text).toContain('~80,000 keys · ~24 without TTL · must expire');
  expect(JSON.stringify(posts[0].message)).not.toContain('<!channel>');
});
