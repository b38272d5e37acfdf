/**
 * Secrets Manager rotation results, which arrive as `AWS Service Event via CloudTrail` events
 * (source `aws.secretsmanager`) carrying the CloudTrail record: RotationFailed (critical: the
 * master secret or a role-schema secret is not rotating), TestRotationFailed and
 * RotationAbandoned (warning), the rest information. Only the secret's ARN is shown, never a value.
 * Events: https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieve-ct-entries.html
 * Envelope: https://docs.aws.amazon.com/eventbridge/latest/ref/events-structure.html and
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
 */
import { esc, escFit } from '../slack';
import type { Envelope, EventNotification, Severity } from '../types';
import { defineFamily } from './family';
import { asEventBridge, code, consoleUrl, isObject, regionFor, regionOfArn, renderEvent, severityEmoji, str, timeOf } from './kit';

type SecretsNotification = EventNotification<'secrets-manager'>;

export function secretsSeverity(n: SecretsNotification): Severity {
  const name = str(n.event.detail.eventName) ?? '';
  if (name === 'RotationFailed') return 'critical';
  if (/Failed|Abandoned/.test(name) || str(n.event.detail.errorMessage) || str(n.event.detail.errorCode)) return 'warning';
  return 'info';
}

function secretIdOf(d: Record<string, unknown>): string | undefined {
  const extra = isObject(d.additionalEventData) ? d.additionalEventData : {};
  const svc = isObject(d.serviceEventDetails) ? d.serviceEventDetails : {};
  const req = isObject(d.requestParameters) ? d.requestParameters : {};
  return str(extra.SecretId) ?? str(svc.secretId) ?? str(req.secretId);
}

/** `arn:…:secret:prod/db/master-a1b2c3` → `prod/db/master` (Secrets Manager adds six characters). */
export function secretName(id: string | undefined): string | undefined {
  if (!id) return undefined;
  const m = /:secret:(.+)-[A-Za-z0-9]{6}$/.exec(id);
  return m ? m[1] : id.split(':secret:').pop();
}

export const secretsManager = defineFamily<SecretsNotification>({
  name: 'secrets-manager',
  kinds: ['secrets-manager'],
  recognize: (env: Envelope) => {
    const e = asEventBridge(env.body);
    return e && e.source === 'aws.secretsmanager' && /via CloudTrail$/.test(e.detailType) ? { kind: 'secrets-manager', event: e } : undefined;
  },
  severity: secretsSeverity,
  render: (item, ctx) => {
    const e = item.notification.event;
    const d = e.detail;
    const event = str(d.eventName) ?? e.detailType;
    const secretArn = secretIdOf(d);
    const name = secretName(secretArn);
    const region = regionFor(item, ctx, regionOfArn(secretArn) ?? str(d.awsRegion) ?? e.region);
    const bad = secretsSeverity(item.notification) !== 'info';
    const emoji = bad ? severityEmoji(item.severity) : event === 'RotationSucceeded' ? '🔑' : 'ℹ️';
    const error = str(d.errorMessage);
    return renderEvent(item, ctx, {
      title: `${emoji} Secrets Manager ${event}${name ? `: ${name}` : ''}`,
      summary: `Secret ${code(name ?? '?', 200)}: *${esc(event)}*.${error ? `\n*Error* ${escFit(error, 1500)}` : ''}`,
      fields: [
        ['Secret', code(secretArn, 300)],
        ['Time', str(d.eventTime) ? esc(str(d.eventTime)!) : e.time ? esc(e.time) : undefined],
        ['Account / region', [str(d.recipientAccountId) ?? e.account, region].filter(Boolean).map((s) => esc(s!)).join(' / ') || undefined],
      ],
      link: { url: name ? consoleUrl(region, `secretsmanager/secret?name=${encodeURIComponent(name)}&region={region}`) : consoleUrl(region, 'secretsmanager/listsecrets?region={region}'), label: 'Open the secret' },
      notes: [event === 'RotationFailed' ? 'The rotation function logs the step that failed (createSecret, setSecret, testSecret, finishSecret) in its CloudWatch log group' : undefined],
      text: `${emoji} Secrets Manager ${esc(event)}${name ? ` for ${esc(name)}` : ''}${error ? `: ${escFit(error, 200)}` : ''}`,
      line: `${emoji} *Secrets Manager* ${esc(event)}${name ? ` \`${escFit(name, 80)}\`` : ''}`,
      bad,
      good: event === 'RotationSucceeded',
      at: timeOf(str(d.eventTime), e.time, item.envelope.receivedAt),
    });
  },
});
