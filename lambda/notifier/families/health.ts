/**
 * AWS Health events (`AWS Health Event`): the service, the event code, what is affected, when it
 * starts and ends, and a link to the event in the Health dashboard.
 * Format: https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html
 */
import { esc, escFit, slackDate } from '../slack';
import type { Envelope, EventNotification, Severity } from '../types';
import { defineFamily } from './family';
import { asEventBridge, code, date, isObject, renderEvent, severityEmoji, str, timeOf } from './kit';

type HealthNotification = EventNotification<'health'>;

/** `eventDescription` is a list of `{language, latestDescription}` (the schema page shows an object too). */
function description(d: Record<string, unknown>): string | undefined {
  const v = d.eventDescription;
  const list = Array.isArray(v) ? v.filter(isObject) : isObject(v) ? [v] : [];
  const en = list.find((x) => /^en/i.test(str(x.language) ?? '')) ?? list[0];
  return en ? str(en.latestDescription) : undefined;
}

function entities(d: Record<string, unknown>, resources: readonly string[]): string[] {
  const list = Array.isArray(d.affectedEntities) ? d.affectedEntities.filter(isObject) : [];
  const values = list.map((x) => `${str(x.entityValue) ?? '?'}${str(x.status) ?? str(x.statusCode) ? ` (${str(x.status) ?? str(x.statusCode)})` : ''}`);
  return values.length ? values : [...resources];
}

/**
 * Closed events are information; security risks (`AWS_RISK_…`, exposed credentials) critical;
 * open issues, and scheduled changes that need action or name our resources, a warning.
 */
export function healthSeverity(n: HealthNotification): Severity {
  const d = n.event.detail;
  const code = str(d.eventTypeCode) ?? '';
  if (str(d.statusCode) === 'closed') return 'info';
  if (/RISK|CREDENTIALS_EXPOSED|SECURITY_NOTIFICATION/.test(code) || n.event.detailType === 'AWS Health Abuse Event') return 'critical';
  const category = str(d.eventTypeCategory);
  if (category === 'issue') return 'warning';
  if (category === 'scheduledChange' && (/ACTION_REQUIRED|ACTION_MAY_BE_REQUIRED/.test(str(d.actionability) ?? 'ACTION_REQUIRED') || entities(d, n.event.resources).length > 0)) return 'warning';
  return 'info';
}

function when(v: unknown): string | undefined {
  const d = date(v);
  return d ? slackDate(d) : str(v) ? esc(str(v)!) : undefined;
}

export const health = defineFamily<HealthNotification>({
  name: 'health',
  kinds: ['health'],
  recognize: (env: Envelope) => {
    const e = asEventBridge(env.body);
    return e && e.source === 'aws.health' ? { kind: 'health', event: e } : undefined;
  },
  severity: healthSeverity,
  render: (item, ctx) => {
    const e = item.notification.event;
    const d = e.detail;
    const service = str(d.service) ?? 'AWS';
    const eventCode = str(d.eventTypeCode) ?? e.detailType;
    const bad = healthSeverity(item.notification) !== 'info';
    const emoji = bad ? severityEmoji(item.severity) : '🩺';
    const affected = entities(d, e.resources);
    const text = description(d);
    const arn = str(d.eventArn);
    const scope = str(d.eventScopeCode) === 'PUBLIC' ? 'public' : 'your account';
    const url = arn ? `https://health.aws.amazon.com/health/home#/account/event-log?eventID=${encodeURIComponent(arn)}&eventTab=details` : 'https://health.aws.amazon.com/health/home#/account/dashboard/open-issues';
    return renderEvent(item, ctx, {
      title: `${emoji} AWS Health ${service}: ${eventCode}`,
      summary: `*${esc(service)}* ${code(eventCode, 150)} · ${esc(str(d.eventTypeCategory) ?? 'event')} · *${esc(str(d.statusCode) ?? 'open')}* (${scope})`,
      fields: [
        ['Affected', affected.length ? `${affected.slice(0, 8).map((a) => code(a, 150)).join('\n')}${affected.length > 8 ? `\n…and ${affected.length - 8} more` : ''}` : undefined],
        ['Region', esc(str(d.eventRegion) ?? e.region ?? '') || undefined],
        ['Start', when(d.startTime)],
        ['End', when(d.endTime)],
        ['Action', str(d.actionability) ? esc(str(d.actionability)!) : undefined],
        ['Account', str(d.affectedAccount) ? esc(str(d.affectedAccount)!) : e.account ? esc(e.account) : undefined],
      ],
      sections: [text ? escFit(text, 2500) : undefined],
      link: { url, label: 'Open in the AWS Health dashboard' },
      notes: [str(d.backupEvent) === 'true' ? 'Backup copy of the event, sent from the partition\'s backup Region' : undefined],
      text: `${emoji} AWS Health ${esc(service)} ${esc(eventCode)} (${esc(str(d.statusCode) ?? 'open')})`,
      line: `${emoji} *Health* ${esc(service)} \`${escFit(eventCode, 80)}\`${affected[0] ? ` ${code(affected[0], 60)}` : ''}`,
      bad,
      good: str(d.statusCode) === 'closed',
      at: timeOf(str(d.lastUpdatedTime), e.time, item.envelope.receivedAt),
    });
  },
});
