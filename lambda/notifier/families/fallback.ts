/**
 * The last families in the registry: any other EventBridge event, and anything that is not JSON
 * or that no family recognised, shown as text. Never dropped: an unknown EventBridge event still
 * posts what it is, where it came from, its resources and its top-level details (as fields, not
 * as a JSON dump).
 */
import { context, esc, escFit, section, truncate } from '../slack';
import type { Block, Envelope, EventBridgeEvent, Item, Notification, Rendered } from '../types';
import { defineFamily } from './family';
import { asEventBridge, code, COLOURS, envOf, isObject, message, regionFor, renderEvent, scalar, timeOf, type RenderContext } from './kit';

type EventBridgeNotification = Extract<Notification, { kind: 'eventbridge' }>;
type TextNotification = Extract<Notification, { kind: 'text' }>;

/** `instance-id` / `backupVaultName` → `Instance id` / `Backup vault name`. */
function label(key: string): string {
  const words = key.replace(/[-_]+/g, ' ').replace(/([a-z0-9])([A-Z])/g, '$1 $2').trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Up to `max` top-level details: scalars as they are, lists and objects as a count. */
export function detailFields(detail: Readonly<Record<string, unknown>>, max = 8): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(detail)) {
    if (out.length >= max) break;
    const s = scalar(v);
    if (s !== undefined) out.push([escFit(label(k), 60), escFit(s, 300)]);
    else if (Array.isArray(v) && v.length > 0) out.push([escFit(label(k), 60), `${v.length} item${v.length === 1 ? '' : 's'}`]);
    else if (isObject(v) && Object.keys(v).length > 0) out.push([escFit(label(k), 60), `${Object.keys(v).length} field${Object.keys(v).length === 1 ? '' : 's'}`]);
  }
  return out;
}

const BAD_WORDS = /\b(fail(ed|ure)?|error|unhealthy|impaired|critical|denied|aborted|expired)\b/i;

function renderEventBridge(item: Item, ev: EventBridgeEvent, ctx: RenderContext): Rendered {
  const region = regionFor(item, ctx, ev.region);
  const details = detailFields(ev.detail);
  const bad = BAD_WORDS.test(`${ev.detailType} ${details.map(([, v]) => v).join(' ')}`);
  const emoji = bad ? '🟠' : '📣';
  const service = ev.source.replace(/^aws\./, '');
  return renderEvent(item, ctx, {
    title: `${emoji} ${ev.detailType}`,
    summary: `*${escFit(ev.detailType, 200)}* from \`${escFit(ev.source, 100)}\`${ev.resources.length ? ` on ${ev.resources.slice(0, 3).map((r) => code(r, 200)).join(', ')}${ev.resources.length > 3 ? ` and ${ev.resources.length - 3} more` : ''}` : ''}.`,
    fields: [...details, ['Time', ev.time ? esc(ev.time) : undefined]],
    link: region && /^[a-z0-9-]+$/.test(service) ? { url: `https://${region}.console.aws.amazon.com/${service}/home?region=${region}`, label: `Open ${service} in the console` } : undefined,
    notes: [[ev.account, region].filter(Boolean).map((s) => esc(s!)).join(' / ') || undefined, 'No formatter knows this event yet; these are its top-level details.'],
    text: `${emoji} ${esc(ev.detailType)} from ${esc(ev.source)}`,
    line: `${emoji} *${escFit(ev.detailType, 80)}* from \`${escFit(ev.source, 60)}\`${ev.resources[0] ? ` ${code(ev.resources[0], 80)}` : ''}`,
    bad,
    at: timeOf(ev.time, item.envelope.receivedAt),
  });
}

function renderText(item: Item, subject: string | undefined, text: string, ctx: RenderContext, fallbackReason?: string): Rendered {
  const env = envOf(ctx, undefined);
  const title = `📨 ${subject ? subject : 'Notification'}`;
  const body = text.trim() === '' ? '(empty message)' : text;
  const blocks: (Block | undefined)[] = [
    section('```' + escFit(body.replace(/```/g, 'ʼʼʼ'), 2800) + '```'),
    context(env ? `Environment ${esc(env)}` : undefined, item.envelope.sourceArns.length ? `via ${escFit(item.envelope.sourceArns[item.envelope.sourceArns.length - 1], 200)}` : undefined),
    context(fallbackReason ? `Shown as text: ${escFit(fallbackReason, 300)}` : undefined),
  ];
  const line = `📨 ${subject ? `*${escFit(subject, 80)}* ` : ''}${escFit(body.replace(/\s+/g, ' '), 160)}`;
  return { item, message: message(title, COLOURS.neutral, blocks, `${esc(truncate(title, 100))}: ${escFit(body, 300)}`), line, bad: false, at: item.envelope.receivedAt?.getTime() ?? 0 };
}

export const eventbridgeFallback = defineFamily<EventBridgeNotification>({
  name: 'fallback',
  kinds: ['eventbridge'],
  recognize: (env) => {
    const eb = asEventBridge(env.body);
    return eb ? { kind: 'eventbridge', event: eb } : undefined;
  },
  severity: () => undefined,
  render: (item, ctx) => renderEventBridge(item, item.notification.event, ctx),
});

export const textFallback = defineFamily<TextNotification>({
  name: 'text',
  kinds: ['text'],
  recognize: (env: Envelope) => ({ kind: 'text', subject: env.subject, text: typeof env.body === 'string' ? env.body : env.raw }),
  severity: () => undefined,
  render: (item, ctx) => renderText(item, item.notification.subject, item.notification.text, ctx, item.notification.fallbackReason),
});

export { renderText };
