/**
 * GuardDuty findings (`GuardDuty Finding`) and Malware Protection for S3 scan results
 * (`GuardDuty Malware Protection Object Scan Result`). Severity follows GuardDuty's own levels —
 * https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html: Low 1.0–3.9,
 * Medium 4.0–6.9, High 7.0–8.9, Critical 9.0–10.0 — as info, warning, critical, critical; and a
 * malware scan that found threats (`…/MaliciousFile…` findings, `THREATS_FOUND` results) is
 * critical whatever its number. Access key IDs in a finding are never shown.
 * Format: https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html
 */
import { esc, escFit } from '../slack';
import type { Envelope, EventNotification, Severity } from '../types';
import { defineFamily } from './family';
import { asEventBridge, code, consoleUrl, isObject, num, regionFor, renderEvent, severityEmoji, str, timeOf, type Json } from './kit';

type GuardDutyNotification = EventNotification<'guardduty'>;

const SCAN_RESULT = 'GuardDuty Malware Protection Object Scan Result';

/** The finding's field in either spelling: EventBridge's camelCase or the API's PascalCase. */
function get(o: unknown, key: string): unknown {
  if (!isObject(o)) return undefined;
  return key in o ? o[key] : o[key.charAt(0).toUpperCase() + key.slice(1)];
}
const obj = (v: unknown): Json => (isObject(v) ? v : {});

export function guardDutyLevel(severity: number | undefined): 'Critical' | 'High' | 'Medium' | 'Low' | undefined {
  if (severity === undefined) return undefined;
  return severity >= 9 ? 'Critical' : severity >= 7 ? 'High' : severity >= 4 ? 'Medium' : 'Low';
}

function threatsFound(d: Json): boolean {
  return str(get(get(d, 'scanResultDetails'), 'scanResultStatus')) === 'THREATS_FOUND';
}

export function guardDutySeverity(n: GuardDutyNotification): Severity {
  const d = n.event.detail;
  if (n.event.detailType === SCAN_RESULT) return threatsFound(d) ? 'critical' : /FAILED|ACCESS_DENIED/.test(str(get(get(d, 'scanResultDetails'), 'scanResultStatus')) ?? str(d.scanStatus) ?? '') ? 'warning' : 'info';
  if (/MaliciousFile|Malware/i.test(str(get(d, 'type')) ?? '')) return 'critical';
  const level = guardDutyLevel(num(get(d, 'severity')));
  return level === 'Critical' || level === 'High' ? 'critical' : level === 'Medium' ? 'warning' : 'info';
}

/** `Instance i-…`, `AccessKey user alice` (never the key ID), `S3Bucket my-bucket`, … */
function resourceOf(d: Json): string | undefined {
  const r = obj(get(d, 'resource'));
  const type = str(get(r, 'resourceType'));
  const instance = str(get(get(r, 'instanceDetails'), 'instanceId'));
  const user = str(get(get(r, 'accessKeyDetails'), 'userName'));
  const buckets = get(r, 's3BucketDetails');
  const bucket = Array.isArray(buckets) ? str(get(buckets[0], 'name')) : undefined;
  const cluster = str(get(get(r, 'eksClusterDetails'), 'name')) ?? str(get(get(r, 'ecsClusterDetails'), 'name'));
  const db = str(get(get(r, 'rdsDbInstanceDetails'), 'dbInstanceIdentifier'));
  const name = instance ?? (user ? `user ${user}` : undefined) ?? bucket ?? cluster ?? db;
  return [type, name].filter(Boolean).join(' ') || undefined;
}

export const guardduty = defineFamily<GuardDutyNotification>({
  name: 'guardduty',
  kinds: ['guardduty'],
  recognize: (env: Envelope) => {
    const e = asEventBridge(env.body);
    return e && e.source === 'aws.guardduty' && (e.detailType === 'GuardDuty Finding' || e.detailType === SCAN_RESULT) ? { kind: 'guardduty', event: e } : undefined;
  },
  severity: guardDutySeverity,
  render: (item, ctx) => {
    const e = item.notification.event;
    const d = e.detail;
    const region = regionFor(item, ctx, str(get(d, 'region')) ?? e.region);
    const bad = guardDutySeverity(item.notification) !== 'info';
    const emoji = bad ? severityEmoji(item.severity) : '🛡️';
    if (e.detailType === SCAN_RESULT) {
      const s3 = obj(get(d, 's3ObjectDetails'));
      const result = obj(get(d, 'scanResultDetails'));
      const status = str(get(result, 'scanResultStatus')) ?? str(get(d, 'scanStatus')) ?? 'UNKNOWN';
      const threats = (Array.isArray(get(result, 'threats')) ? (get(result, 'threats') as unknown[]) : []).map((t) => str(get(t, 'name'))).filter((t): t is string => !!t);
      const object = [str(get(s3, 'bucketName')), str(get(s3, 'objectKey'))].filter(Boolean).join('/');
      return renderEvent(item, ctx, {
        title: `${emoji} GuardDuty malware scan ${status}${object ? `: ${object}` : ''}`,
        summary: `Malware Protection scanned ${code(object || '?', 300)}: *${esc(status)}*.${threats.length ? `\n*Threats* ${threats.slice(0, 10).map((t) => code(t, 100)).join(', ')}` : ''}`,
        fields: [['Scan', str(get(d, 'scanStatus')) ? esc(str(get(d, 'scanStatus'))!) : undefined], ['Account / region', [e.account, region].filter(Boolean).map((s) => esc(s!)).join(' / ') || undefined]],
        link: { url: consoleUrl(region, `guardduty/home?region={region}#/malware-protection`), label: 'Open GuardDuty Malware Protection' },
        text: `${emoji} GuardDuty malware scan ${esc(status)} ${esc(object)}`,
        line: `${emoji} *GuardDuty* malware scan *${esc(status)}* \`${escFit(object || '?', 80)}\``,
        bad,
        at: timeOf(e.time, item.envelope.receivedAt),
      });
    }
    const type = str(get(d, 'type')) ?? 'finding';
    const sev = num(get(d, 'severity'));
    const level = guardDutyLevel(sev);
    const service = obj(get(d, 'service'));
    const sample = get(get(service, 'additionalInfo'), 'sample') === true;
    const count = num(get(service, 'count'));
    const id = str(get(d, 'id'));
    const resource = resourceOf(d);
    const title = str(get(d, 'title'))?.trim();
    return renderEvent(item, ctx, {
      title: `${emoji} GuardDuty ${level ?? ''} ${type}${sample ? ' (sample)' : ''}`.replace(/\s+/g, ' '),
      summary: `*${escFit(title ?? type, 500)}*${str(get(d, 'description')) && str(get(d, 'description'))!.trim() !== title ? `\n${escFit(str(get(d, 'description'))!, 1500)}` : ''}`,
      fields: [
        ['Finding type', code(type, 150)],
        ['GuardDuty severity', sev !== undefined ? `${esc(String(sev))} (${level})` : undefined],
        ['Resource', resource ? code(resource, 200) : undefined],
        ['Count', count !== undefined ? esc(String(count)) : undefined],
        ['First / last seen', [str(get(service, 'eventFirstSeen')), str(get(service, 'eventLastSeen'))].filter(Boolean).map((s) => esc(s!)).join(' → ') || undefined],
        ['Account / region', [str(get(d, 'accountId')) ?? e.account, region].filter(Boolean).map((s) => esc(s!)).join(' / ') || undefined],
      ],
      link: { url: consoleUrl(region, `guardduty/home?region={region}#/findings?macros=current&fId=${encodeURIComponent(id ?? '')}`), label: 'Open the finding in GuardDuty' },
      notes: [sample ? 'A sample finding (GuardDuty generated it; nothing happened)' : undefined],
      text: `${emoji} GuardDuty ${esc(level ?? '')} ${esc(type)}${resource ? ` on ${esc(resource)}` : ''}`,
      line: `${emoji} *GuardDuty* ${esc(level ?? '')} \`${escFit(type, 80)}\`${resource ? ` ${code(resource, 60)}` : ''}${count && count > 1 ? ` ×${count}` : ''}`,
      bad,
      at: timeOf(str(get(d, 'updatedAt')), e.time, item.envelope.receivedAt),
    });
  },
});
