/**
 * ElastiCache's own SNS notifications (the cluster's NotificationTopicArn, delivered straight to
 * the topic): `{"ElastiCache:FailoverComplete": "prod-cache-0001-002"}`.
 * Events: https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ElastiCacheSNS.html
 */
import { context, esc, escFit, fields, link, section, truncate } from '../slack';
import type { Block, Envelope, Item, Notification, Rendered } from '../types';
import { defineFamily } from './family';
import { COLOURS, envOf, isObject, message, regionFor, type RenderContext } from './kit';

type CacheNotification = Extract<Notification, { kind: 'elasticache' }>;

function recognize(env: Envelope): CacheNotification | undefined {
  const o = env.body;
  if (!isObject(o)) return undefined;
  const cacheKeys = Object.keys(o).filter((k) => k.startsWith('ElastiCache:'));
  if (cacheKeys.length === 0) return undefined;
  return { kind: 'elasticache', events: cacheKeys.map((k) => ({ name: k.slice('ElastiCache:'.length), value: typeof o[k] === 'string' ? (o[k] as string) : JSON.stringify(o[k]) })) };
}

const CACHE_BAD = /Failover|Failed|Error|Reboot|Replac|Unavailable|OutOfMemory|Shut/i;

function renderCache(item: Item, events: readonly { name: string; value: string }[], ctx: RenderContext): Rendered {
  const bad = events.some((e) => CACHE_BAD.test(e.name));
  const emoji = bad ? (item.severity === 'critical' ? '🚨' : '🟠') : '🧠';
  const first = events[0];
  const region = regionFor(item, ctx);
  const cluster = first?.value.replace(/-\d{4}(-\d{3})?$/, '');
  const url = region && cluster ? `https://${region}.console.aws.amazon.com/elasticache/home?region=${region}#/redis/${encodeURIComponent(cluster)}` : undefined;
  const env = envOf(ctx, first?.value);
  const title = `${emoji} ElastiCache ${first?.name ?? 'notification'}${first ? `: ${first.value}` : ''}`;
  const blocks: (Block | undefined)[] = [
    section(events.map((e) => `*${escFit(e.name, 100)}* \`${escFit(e.value, 300)}\``).join('\n')),
    fields([['Environment', env ? esc(env) : undefined], ['Severity', item.severity]]),
    context(url ? link(url, 'Open in the ElastiCache console') : undefined),
  ];
  const text = `${emoji} ElastiCache ${events.map((e) => `${esc(e.name)}: ${esc(e.value)}`).join('; ')}`;
  const line = `${emoji} *ElastiCache* ${events.map((e) => `${esc(e.name)} \`${escFit(e.value, 80)}\``).join(', ')}`;
  return { item, message: message(title, bad ? COLOURS.alarm : COLOURS.info, blocks, truncate(text, 1000)), line, bad, at: item.envelope.receivedAt?.getTime() ?? 0 };
}

export const elasticache = defineFamily<CacheNotification>({
  name: 'elasticache',
  kinds: ['elasticache'],
  recognize,
  severity: () => undefined,
  render: (item, ctx) => renderCache(item, item.notification.events, ctx),
});
