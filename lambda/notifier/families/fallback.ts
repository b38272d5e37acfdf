/**
 * The last families in the registry: any other EventBridge event, and anything that is not JSON
 * or that no family recognised, shown as text. Never dropped: an unknown event still posts what
 * it is, where it came from and its resources.
 */
import { context, esc, escFit, fields, link, section, truncate } from '../slack';
import type { Block, Envelope, EventBridgeEvent, Item, Notification, Rendered } from '../types';
import { BACKUP_BAD } from './backup';
import { defineFamily } from './family';
import { asEventBridge, COLOURS, envOf, message, type RenderContext } from './kit';

type EventBridgeNotification = Extract<Notification, { kind: 'eventbridge' }>;
type TextNotification = Extract<Notification, { kind: 'text' }>;

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

function codeBlock(v: unknown, max: number): string {
  let json: string;
  try {
    json = JSON.stringify(v, null, 2) ?? '';
  } catch {
    json = String(v);
  }
  // Three backticks inside would close the block early.
  return '```' + escFit(json.replace(/```/g, 'ʼʼʼ'), max) + '```';
}

function renderEventBridge(item: Item, ev: EventBridgeEvent, ctx: RenderContext): Rendered {
  const d = ev.detail;
  const region = ev.region ?? ctx.defaultRegion;
  const env = envOf(ctx, undefined);
  let emoji = '📣';
  let title = `${ev.detailType}`;
  let summary: string;
  let bad = false;
  const extra: [string, string | undefined][] = [];
  let url: string | undefined;
  if (ev.detailType === 'EC2 Instance State-change Notification') {
    const id = str(d['instance-id']) ?? '?';
    const state = str(d.state) ?? '?';
    bad = /stopping|stopped|shutting-down|terminated/.test(state);
    emoji = bad ? '🔴' : state === 'running' ? '🟢' : '🖥️';
    title = `${emoji} EC2 ${id} is ${state}`;
    summary = `Instance \`${esc(id)}\` is now *${esc(state)}*.`;
    url = region ? `https://${region}.console.aws.amazon.com/ec2/home?region=${region}#InstanceDetails:instanceId=${encodeURIComponent(id)}` : undefined;
  } else if (ev.detailType === 'EBS Snapshot Notification' || ev.detailType === 'EBS Multi-Volume Snapshots Completion Status') {
    const result = str(d.result) ?? '?';
    bad = result !== 'succeeded';
    emoji = bad ? '🔴' : '📸';
    const snap = str(d.snapshot_id)?.split('/').pop() ?? str(d.snapshot_id);
    const source = str(d.source)?.split('/').pop() ?? str(d.source);
    title = `${emoji} EBS ${str(d.event) ?? 'snapshot'} ${result}${source ? `: ${source}` : ''}`;
    summary = `${esc(str(d.event) ?? 'Snapshot')} *${esc(result)}*${source ? ` for \`${esc(source)}\`` : ''}${snap ? ` → \`${esc(snap)}\`` : ''}.${d.cause ? `\n*Cause* ${escFit(str(d.cause) ?? '', 1500)}` : ''}`;
    extra.push(['Started', str(d.startTime) && esc(str(d.startTime)!)], ['Ended', str(d.endTime) && esc(str(d.endTime)!)]);
    url = region ? `https://${region}.console.aws.amazon.com/ec2/home?region=${region}#Snapshots:` : undefined;
  } else if (ev.detailType === 'Backup Job State Change' || ev.detailType === 'Copy Job State Change' || ev.detailType === 'Restore Job State Change') {
    const state = str(d.state) ?? str(d.status) ?? '?';
    bad = BACKUP_BAD.test(state);
    emoji = bad ? '🔴' : state === 'COMPLETED' ? '💾' : '⏳';
    const resource = str(d.resourceArn);
    title = `${emoji} ${ev.detailType.replace(' State Change', '')} ${state}${str(d.resourceType) ? `: ${str(d.resourceType)}` : ''}`;
    summary = `AWS Backup ${esc(ev.detailType.replace(' State Change', '').toLowerCase())} *${esc(state)}*${resource ? ` for \`${escFit(resource, 300)}\`` : ''}.${str(d.statusMessage) ? `\n${escFit(str(d.statusMessage)!, 1500)}` : ''}`;
    extra.push(['Vault', str(d.backupVaultName) && esc(str(d.backupVaultName)!)], ['Job', (str(d.backupJobId) ?? str(d.copyJobId) ?? str(d.restoreJobId)) && `\`${esc((str(d.backupJobId) ?? str(d.copyJobId) ?? str(d.restoreJobId))!)}\``]);
    url = region ? `https://${region}.console.aws.amazon.com/backup/home?region=${region}#/jobs` : undefined;
  } else {
    bad = /fail|error|unhealthy|impaired/i.test(`${ev.detailType} ${JSON.stringify(d).slice(0, 2000)}`);
    emoji = bad ? '🟠' : '📣';
    title = `${emoji} ${ev.detailType}`;
    summary = `*${escFit(ev.detailType, 200)}* from \`${esc(ev.source)}\`\n${codeBlock(d, 2400)}`;
  }
  const blocks: (Block | undefined)[] = [
    section(summary),
    fields([
      ['Environment', env ? esc(env) : undefined],
      ['Source', `\`${esc(ev.source)}\``],
      ['Resources', ev.resources.length ? ev.resources.slice(0, 5).map((r) => `\`${escFit(r, 200)}\``).join('\n') : undefined],
      ['Time', ev.time ? esc(ev.time) : undefined],
      ...extra,
    ]),
    context(url ? link(url, 'Open in the console') : undefined, [ev.account, region].filter(Boolean).map((s) => esc(s!)).join(' / ') || undefined),
  ];
  const text = `${title}`;
  const line = `${emoji} *${escFit(ev.detailType, 80)}* — ${escFit(title.replace(/^\S+\s/, ''), 160)}`;
  return { item, message: message(title, bad ? COLOURS.alarm : COLOURS.info, blocks, esc(text)), line, bad, at: ev.time ? Date.parse(ev.time) || 0 : 0 };
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
