/**
 * AWS Backup vault notifications (SNS, text with message attributes) and the EventBridge job
 * state changes. https://docs.aws.amazon.com/aws-backup/latest/devguide/backup-notifications.html
 */
import { esc, escFit, fields, section } from '../slack';
import type { Block, Envelope, Item, Notification, Rendered } from '../types';
import { defineFamily } from './family';
import { COLOURS, envOf, message, type RenderContext } from './kit';

type BackupNotification = Extract<Notification, { kind: 'backup' }>;

function backupFromText(text: string, attrs: Record<string, string>): BackupNotification {
  const grab = (re: RegExp) => {
    const m = re.exec(text);
    return m ? m[1].replace(/[.,]$/, '') : undefined;
  };
  return {
    kind: 'backup',
    state: attrs.State ?? grab(/\bstate\s*:?\s*([A-Z_]+)/i),
    eventType: attrs.EventType,
    message: text,
    resourceArn: grab(/Resource ARN\s*:\s*(\S+)/i),
    recoveryPointArn: grab(/Recovery point ARN\s*:\s*(\S+)/i),
    jobId: attrs.Id ?? grab(/(?:Backup|Copy|Restore)Job ID\s*:\s*(\S+)/i),
  };
}

function recognize(env: Envelope): BackupNotification | undefined {
  const b = env.body;
  if (typeof b === 'object' && b !== null) return undefined;
  const text = typeof b === 'string' ? b : env.raw;
  if (/AWS Backup/i.test(env.subject ?? '') || env.attributes.EventType || /An AWS Backup job/i.test(text)) return backupFromText(text, env.attributes);
  return undefined;
}

export const BACKUP_BAD = /FAILED|ABORTED|EXPIRED|PARTIAL/i;

function renderBackup(item: Item, n: Extract<Notification, { kind: 'backup' }>, ctx: RenderContext): Rendered {
  const state = n.state ?? 'UNKNOWN';
  const bad = BACKUP_BAD.test(state);
  const emoji = bad ? (item.severity === 'critical' ? '🚨' : '🔴') : /COMPLETED|SUCCESS/i.test(state) ? '💾' : '⏳';
  const kind = (n.eventType ?? 'BACKUP_JOB').replace(/_/g, ' ').toLowerCase();
  const title = `${emoji} AWS Backup ${kind} ${state}`;
  const env = envOf(ctx, undefined);
  const blocks: (Block | undefined)[] = [
    section(escFit(n.message || '(no message)', 2000)),
    fields([
      ['Environment', env ? esc(env) : undefined],
      ['State', esc(state)],
      ['Resource', n.resourceArn ? `\`${escFit(n.resourceArn, 300)}\`` : undefined],
      ['Job', n.jobId ? `\`${escFit(n.jobId, 100)}\`` : undefined],
      ['Recovery point', n.recoveryPointArn ? `\`${escFit(n.recoveryPointArn, 300)}\`` : undefined],
    ]),
  ];
  const text = `${emoji} AWS Backup ${esc(kind)} ${esc(state)}${n.resourceArn ? ` for ${esc(n.resourceArn)}` : ''}`;
  const line = `${emoji} *Backup* ${esc(kind)} *${esc(state)}*${n.resourceArn ? ` \`${escFit(n.resourceArn.split(':').pop() ?? n.resourceArn, 80)}\`` : ''}`;
  return { item, message: message(title, bad ? COLOURS.alarm : COLOURS.ok, blocks, text), line, bad, at: item.envelope.receivedAt?.getTime() ?? 0 };
}

export const backup = defineFamily<BackupNotification>({
  name: 'backup',
  kinds: ['backup'],
  recognize,
  severity: () => undefined,
  render: (item, ctx) => renderBackup(item, item.notification, ctx),
});
