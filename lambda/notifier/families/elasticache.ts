/**
 * ElastiCache's own SNS notifications (the cluster's NotificationTopicArn, delivered straight to
 * the topic and on to the function): the message is a JSON object keyed by the event name,
 * `{"ElastiCache:FailoverComplete": "prod-cache-0001-002"}`, which email subscribers see as
 * `ElastiCache:FailoverComplete : prod-cache-0001-002`; both forms are read.
 * Events: https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ElastiCacheSNS.html
 */
import { esc, escFit } from '../slack';
import type { Envelope, Notification, Severity } from '../types';
import { defineFamily } from './family';
import { consoleUrl, isObject, regionFor, renderEvent, severityEmoji, timeOf } from './kit';

type CacheNotification = Extract<Notification, { kind: 'elasticache' }>;

/**
 * The documented events that want someone: the primary moved or a node was replaced or rebooted
 * (the cache lost what that node held, and clients may hold stale endpoints), and anything that
 * failed. Cache data is rebuilt from the database, so none of them is critical on its own.
 */
const WARNING_EVENTS = new Set([
  'FailoverComplete',
  'CacheNodeReplaceStarted',
  'CacheNodeReplaceComplete',
  'CacheNodesRebooted',
  'AddCacheNodeFailed',
  'CacheClusterProvisioningFailed',
  'CacheClusterScalingFailed',
  'ReplicationGroupScalingFailed',
  'SnapshotFailed',
]);

export function cacheEventSeverity(name: string): Severity {
  return WARNING_EVENTS.has(name) || /Failed$/.test(name) ? 'warning' : 'info';
}

function recognize(env: Envelope): CacheNotification | undefined {
  const o = env.body;
  if (isObject(o)) {
    const keys = Object.keys(o).filter((k) => k.startsWith('ElastiCache:'));
    if (keys.length === 0) return undefined;
    return { kind: 'elasticache', events: keys.map((k) => ({ name: k.slice('ElastiCache:'.length), value: typeof o[k] === 'string' ? (o[k] as string) : String(o[k]) })) };
  }
  if (typeof o !== 'string') return undefined;
  const lines = o.split(/\r?\n/).map((l) => /^\s*ElastiCache:(\w+)(?:\s+due to [^:]*)?\s*:?\s*(.*?)\s*$/.exec(l)).filter((m): m is RegExpExecArray => !!m);
  return lines.length ? { kind: 'elasticache', events: lines.map((m) => ({ name: m[1], value: m[2] })) } : undefined;
}

export const elasticache = defineFamily<CacheNotification>({
  name: 'elasticache',
  kinds: ['elasticache'],
  recognize,
  severity: (n) => (n.events.some((e) => cacheEventSeverity(e.name) === 'warning') ? 'warning' : 'info'),
  render: (item, ctx) => {
    const events = item.notification.events;
    const bad = events.some((e) => cacheEventSeverity(e.name) !== 'info');
    const emoji = bad ? severityEmoji(item.severity) : '🧠';
    const first = events[0];
    const region = regionFor(item, ctx);
    // `prod-cache-0001-002` is node 002 of shard 0001 of replication group `prod-cache`.
    const group = first?.value.replace(/-\d{4}(-\d{3})?$/, '');
    return renderEvent(item, ctx, {
      title: `${emoji} ElastiCache ${first?.name ?? 'notification'}${first?.value ? `: ${first.value}` : ''}`,
      summary: events.map((e) => `*${escFit(e.name, 100)}*${e.value ? ` \`${escFit(e.value, 300)}\`` : ''}`).join('\n'),
      fields: [['Replication group', group ? `\`${escFit(group, 200)}\`` : undefined]],
      link: { url: group ? consoleUrl(region, `elasticache/home?region={region}#/redis/${encodeURIComponent(group)}`) : consoleUrl(region, 'elasticache/home?region={region}#/events'), label: 'Open in the ElastiCache console' },
      notes: ['via the cluster\'s SNS notification topic'],
      text: `${emoji} ElastiCache ${events.map((e) => `${esc(e.name)}${e.value ? `: ${escFit(e.value, 200)}` : ''}`).join('; ')}`,
      line: `${emoji} *ElastiCache* ${events.map((e) => `${esc(e.name)}${e.value ? ` \`${escFit(e.value, 80)}\`` : ''}`).join(', ')}`,
      bad,
      at: timeOf(item.envelope.receivedAt),
    });
  },
});
