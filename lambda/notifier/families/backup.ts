/**
 * AWS Backup jobs, by either path: the vault's SNS notification (text, with the job's type and
 * state in message attributes) and the EventBridge `Backup Job State Change`, `Copy Job State
 * Change` and `Restore Job State Change` events. Both are read into one `BackupJob`, and the
 * severity comes from the job's kind and state, the same by either path.
 *
 * Formats: https://docs.aws.amazon.com/aws-backup/latest/devguide/backup-notifications.html (SNS)
 * and https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html (EventBridge). The
 * vault events BACKUP_JOB_FAILED/EXPIRED and RESTORE_JOB_FAILED are deprecated and send nothing
 * (PutBackupVaultNotifications); failures arrive as `…_COMPLETED` notifications with a state, or
 * as EventBridge events.
 */
import { esc, escFit } from '../slack';
import type { BackupJob, Envelope, Notification, Severity } from '../types';
import { defineFamily } from './family';
import { asEventBridge, code, consoleUrl, isObject, regionFor, regionOfArn, renderEvent, severityEmoji, shortId, str, timeOf } from './kit';

type BackupNotification = Extract<Notification, { kind: 'backup' }>;

const JOB_OF_DETAIL_TYPE: Record<string, string> = {
  'Backup Job State Change': 'backup',
  'Copy Job State Change': 'copy',
  'Restore Job State Change': 'restore',
};

/** The SNS notification: "An AWS Backup job failed. Resource ARN : arn:…. BackupJob ID : …". */
function fromSns(text: string, attrs: Record<string, string>, env: Envelope): BackupJob {
  const grab = (re: RegExp) => re.exec(text)?.[1]?.replace(/[.,]$/, '');
  const eventType = attrs.EventType ?? attrs.eventType;
  const job = eventType ? eventType.replace(/_JOB.*$/, '').toLowerCase() : /restore/i.test(text) ? 'restore' : /copy/i.test(text) ? 'copy' : 'backup';
  const resourceArn = grab(/Resource ARN\s*:\s*(\S+)/i);
  return {
    via: 'sns',
    job,
    state: (attrs.State ?? grab(/\bstate\s*:?\s*([A-Z_]{4,})/))?.toUpperCase(),
    message: text,
    resourceArn,
    jobId: attrs.Id ?? attrs.backupJobId ?? grab(/(?:Backup|Copy|Restore)\s?Job I[Dd]\s*:\s*(\S+)/i),
    recoveryPointArn: grab(/Recovery point ARN\s*:\s*(\S+)/i),
    region: regionOfArn(resourceArn) ?? env.sourceArns.map(regionOfArn).find(Boolean),
    account: attrs.AccountId,
    time: attrs.StartTime,
  };
}

function fromEventBridge(b: unknown): BackupJob | undefined {
  const e = asEventBridge(b);
  if (!e || e.source !== 'aws.backup' || !JOB_OF_DETAIL_TYPE[e.detailType]) return undefined;
  const d = e.detail;
  const message = str(d.statusMessage)?.replace(/^"(.*)"$/s, '$1');
  return {
    via: 'eventbridge',
    job: JOB_OF_DETAIL_TYPE[e.detailType],
    // "Some events report status: COMPLETED whereas other events report state: COMPLETED."
    state: (str(d.state) ?? str(d.status))?.toUpperCase(),
    message,
    resourceArn: str(d.resourceArn) ?? str(d.sourceResourceArn),
    resourceType: str(d.resourceType),
    jobId: str(d.backupJobId) ?? str(d.copyJobId) ?? str(d.restoreJobId),
    recoveryPointArn: str(d.recoveryPointArn) ?? str(d.destinationRecoveryPointArn) ?? e.resources.find((r) => r.includes(':recovery-point:')),
    vault: str(d.backupVaultName) ?? shortId(str(d.destinationBackupVaultArn) ?? str(d.backupVaultArn)),
    region: e.region,
    account: e.account,
    time: e.time,
  };
}

function recognize(env: Envelope): BackupNotification | undefined {
  const b = env.body;
  if (isObject(b)) {
    const job = fromEventBridge(b);
    return job ? { kind: 'backup', job } : undefined;
  }
  const text = typeof b === 'string' ? b : env.raw;
  const attrs = env.attributes;
  if (/AWS Backup/i.test(env.subject ?? '') || /_JOB$|^BACKUP_|^RESTORE_|^COPY_/.test(attrs.EventType ?? '') || /An AWS Backup job/i.test(text)) return { kind: 'backup', job: fromSns(text, attrs, env) };
  return undefined;
}

/**
 * A backup that did not happen is critical (seed 004: daily, weekly and monthly backups kept 30
 * days); an aborted or partial one, a failed copy or restore, or a job that completed with a
 * status message (the console's "Completed with issues") is a warning; the rest is information.
 */
export function backupSeverity(j: BackupJob): Severity {
  const s = j.state ?? '';
  if (j.job === 'backup' && /^(FAILED|EXPIRED)$/.test(s)) return 'critical';
  if (/^(FAILED|EXPIRED|ABORTED|PARTIAL)$/.test(s)) return 'warning';
  if (s === 'COMPLETED' && j.via === 'eventbridge' && j.message) return 'warning';
  if (!s && /fail/i.test(j.message ?? '')) return j.job === 'backup' ? 'critical' : 'warning';
  return 'info';
}

export const backup = defineFamily<BackupNotification>({
  name: 'backup',
  kinds: ['backup'],
  recognize,
  severity: (n) => backupSeverity(n.job),
  render: (item, ctx) => {
    const j = item.notification.job;
    const state = j.state ?? 'UNKNOWN';
    const bad = backupSeverity(j) !== 'info';
    const good = !bad && state === 'COMPLETED';
    const emoji = bad ? severityEmoji(item.severity) : good ? '💾' : '⏳';
    const region = regionFor(item, ctx, j.region);
    const what = `${j.job} job`;
    const resource = shortId(j.resourceArn);
    const resourceLabel = [j.resourceType && j.resourceType !== 'type' ? j.resourceType : undefined, resource].filter(Boolean).join(' ');
    const title = `${emoji} AWS Backup ${what} ${state}${resourceLabel ? `: ${resourceLabel}` : ''}`;
    const jobsTab = j.job === 'restore' ? 'restorejobs' : j.job === 'copy' ? 'copyjobs' : 'backupjobs';
    return renderEvent(item, ctx, {
      title,
      summary: `AWS Backup ${esc(what)} *${esc(state)}*${j.resourceArn ? ` for ${code(j.resourceArn, 300)}` : ''}.${j.message && j.via === 'eventbridge' ? `\n${escFit(j.message, 1500)}` : ''}`,
      fields: [
        ['Job', code(j.jobId, 100)],
        ['Vault', j.vault ? esc(j.vault) : undefined],
        ['Recovery point', code(j.recoveryPointArn, 300)],
        ['Time', j.time ? esc(j.time) : undefined],
        ['Account / region', [j.account, region].filter(Boolean).map((s) => esc(s!)).join(' / ') || undefined],
      ],
      sections: [j.via === 'sns' && j.message ? escFit(j.message, 1500) : undefined],
      link: { url: consoleUrl(region, `backup/home?region={region}#/jobs/${jobsTab}`), label: 'Open AWS Backup jobs' },
      notes: [`via ${j.via === 'sns' ? 'backup vault notification (SNS)' : 'EventBridge'}`],
      text: `${emoji} AWS Backup ${esc(what)} ${esc(state)}${j.resourceArn ? ` for ${esc(j.resourceArn)}` : ''}`,
      line: `${emoji} *Backup* ${esc(what)} *${esc(state)}*${resource ? ` \`${escFit(resource, 80)}\`` : ''}${j.message && bad ? ` — ${escFit(j.message, 120)}` : ''}`,
      bad,
      good,
      at: timeOf(j.time, item.envelope.receivedAt),
    });
  },
});

