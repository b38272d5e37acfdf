/**
 * EBS snapshot results and Data Lifecycle Manager policy errors, from EventBridge:
 * `EBS Snapshot Notification` (createSnapshot, copySnapshot, shareSnapshot),
 * `EBS Multi-Volume Snapshots Completion Status` (createSnapshots — a failed multi-volume
 * snapshot arrives only as this) and `DLM Policy State Change` (a policy in ERROR takes no more
 * snapshots). The workers' SQLite write-ahead log lives on these volumes (seed 002), so a
 * snapshot that failed, or a policy that stopped, is a backup that will not be there.
 *
 * Formats: https://docs.aws.amazon.com/ebs/latest/userguide/ebs-cloud-watch-events.html and
 * https://docs.aws.amazon.com/ebs/latest/userguide/monitor-cloudwatch-events.html (DLM).
 */
import { esc, escFit } from '../slack';
import type { Envelope, EventBridgeEvent, EventNotification, Severity } from '../types';
import { defineFamily } from './family';
import { asEventBridge, code, consoleUrl, isObject, regionFor, renderEvent, severityEmoji, shortId, str, timeOf } from './kit';

type EbsNotification = EventNotification<'ebs'> | EventNotification<'dlm'>;

const EBS_TYPES = new Set(['EBS Snapshot Notification', 'EBS Multi-Volume Snapshots Completion Status']);

function recognize(env: Envelope): EbsNotification | undefined {
  const e = asEventBridge(env.body);
  if (!e) return undefined;
  if (e.source === 'aws.ec2' && EBS_TYPES.has(e.detailType)) return { kind: 'ebs', event: e };
  if (e.source === 'aws.dlm' && e.detailType === 'DLM Policy State Change') return { kind: 'dlm', event: e };
  return undefined;
}

/** A snapshot the schedule wanted and did not get is critical; a failed copy or share, a warning. */
export function ebsSeverity(n: EbsNotification): Severity {
  const d = n.event.detail;
  if (n.kind === 'dlm') return str(d.state) === 'ERROR' ? 'critical' : 'info';
  if (str(d.result) === 'succeeded') return 'info';
  return /^createSnapshots?$/.test(str(d.event) ?? '') ? 'critical' : 'warning';
}

/** The multi-volume event's per-snapshot list: `vol-1 → snap-1 (error)`. */
function snapshotLines(d: EventBridgeEvent['detail']): string[] {
  const list = Array.isArray(d.snapshots) ? d.snapshots.filter(isObject) : [];
  return list.slice(0, 20).map((s) => `• ${code(shortId(str(s.source)) ?? '?', 80)} → ${code(shortId(str(s.snapshot_id)) ?? '?', 80)}${str(s.status) ? ` (${esc(str(s.status)!)})` : ''}`);
}

export const ebsDlm = defineFamily<EbsNotification>({
  name: 'ebs-dlm',
  kinds: ['ebs', 'dlm'],
  recognize,
  severity: ebsSeverity,
  render: (item, ctx) => {
    const n = item.notification;
    const e = n.event;
    const d = e.detail;
    const region = regionFor(item, ctx, e.region);
    const bad = ebsSeverity(n) !== 'info';
    if (n.kind === 'dlm') {
      const policy = shortId(str(d.policy_id) ?? e.resources[0]);
      const state = str(d.state) ?? 'UNKNOWN';
      const emoji = bad ? severityEmoji(item.severity) : '🗓️';
      return renderEvent(item, ctx, {
        title: `${emoji} Snapshot lifecycle policy ${state}${policy ? `: ${policy}` : ''}`,
        summary: `Data Lifecycle Manager policy ${code(policy ?? '?', 100)} is *${esc(state)}*${bad ? ': it takes no snapshots until this is fixed' : ''}.${str(d.cause) ? `\n*Cause* ${escFit(str(d.cause)!, 1500)}` : ''}`,
        fields: [['Policy', code(str(d.policy_id), 300)], ['Account / region', [e.account, region].filter(Boolean).map((s) => esc(s!)).join(' / ') || undefined]],
        link: { url: consoleUrl(region, `ec2/home?region={region}#Lifecycle:`), label: 'Open lifecycle policies' },
        text: `${emoji} DLM policy ${esc(policy ?? '')} ${esc(state)}${str(d.cause) ? `: ${escFit(str(d.cause)!, 200)}` : ''}`,
        line: `${emoji} *DLM* \`${escFit(policy ?? '?', 60)}\` *${esc(state)}*${str(d.cause) ? ` — ${escFit(str(d.cause)!, 120)}` : ''}`,
        bad,
        at: timeOf(e.time, item.envelope.receivedAt),
      });
    }
    const action = str(d.event) ?? 'snapshot';
    const result = str(d.result) ?? 'unknown';
    const multi = e.detailType === 'EBS Multi-Volume Snapshots Completion Status';
    const volume = shortId(str(d.source));
    const snapshot = shortId(str(d.snapshot_id));
    const lines = multi ? snapshotLines(d) : [];
    const emoji = bad ? severityEmoji(item.severity) : '📸';
    const subject = multi ? `${lines.length || e.resources.length} volume${(lines.length || e.resources.length) === 1 ? '' : 's'}` : volume ?? snapshot;
    return renderEvent(item, ctx, {
      title: `${emoji} EBS ${action} ${result}${subject ? `: ${subject}` : ''}`,
      summary: `EBS \`${esc(action)}\` *${esc(result)}*${volume ? ` for ${code(volume, 100)}` : ''}${snapshot ? ` → ${code(snapshot, 100)}` : ''}.${str(d.cause) ? `\n*Cause* ${escFit(str(d.cause)!, 1500)}` : ''}`,
      fields: [
        ['Started', str(d.startTime) ? esc(str(d.startTime)!) : undefined],
        ['Ended', str(d.endTime) ? esc(str(d.endTime)!) : undefined],
        ['Request', code(str(d['request-id']), 100)],
        ['Account / region', [e.account, region].filter(Boolean).map((s) => esc(s!)).join(' / ') || undefined],
      ],
      sections: [lines.length ? `*Snapshots*\n${lines.join('\n')}` : undefined],
      link: { url: consoleUrl(region, `ec2/home?region={region}#Snapshots:`), label: 'Open EBS snapshots' },
      notes: [`via EventBridge (${esc(e.detailType)})`],
      text: `${emoji} EBS ${esc(action)} ${esc(result)}${volume ? ` for ${esc(volume)}` : ''}${str(d.cause) ? `: ${escFit(str(d.cause)!, 200)}` : ''}`,
      line: `${emoji} *EBS* ${esc(action)} *${esc(result)}*${subject ? ` \`${escFit(subject, 60)}\`` : ''}${str(d.cause) ? ` — ${escFit(str(d.cause)!, 120)}` : ''}`,
      bad,
      good: !bad,
      at: timeOf(str(d.endTime), e.time, item.envelope.receivedAt),
    });
  },
});
