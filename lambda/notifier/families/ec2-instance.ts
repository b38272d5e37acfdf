/**
 * EC2 instance state changes (`EC2 Instance State-change Notification`): a worker that stops or
 * terminates takes its local write-ahead log with it until it is back (seed 002).
 * Format: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html
 * (The instance status checks are CloudWatch alarms: see the alarms family.)
 */
import { esc } from '../slack';
import type { Envelope, EventNotification, Severity } from '../types';
import { defineFamily } from './family';
import { asEventBridge, code, consoleUrl, regionFor, renderEvent, severityEmoji, str, timeOf } from './kit';

type Ec2Notification = EventNotification<'ec2-instance'>;

const DOWN = /^(stopping|stopped|shutting-down|terminated)$/;

export function ec2Severity(n: Ec2Notification): Severity {
  return DOWN.test(str(n.event.detail.state) ?? '') ? 'warning' : 'info';
}

export const ec2Instance = defineFamily<Ec2Notification>({
  name: 'ec2-instance',
  kinds: ['ec2-instance'],
  recognize: (env: Envelope) => {
    const e = asEventBridge(env.body);
    return e && e.source === 'aws.ec2' && e.detailType === 'EC2 Instance State-change Notification' ? { kind: 'ec2-instance', event: e } : undefined;
  },
  severity: ec2Severity,
  render: (item, ctx) => {
    const e = item.notification.event;
    const id = str(e.detail['instance-id']) ?? e.resources[0]?.split('/').pop() ?? '?';
    const state = str(e.detail.state) ?? 'unknown';
    const bad = ec2Severity(item.notification) !== 'info';
    const emoji = bad ? severityEmoji(item.severity) : state === 'running' ? '🟢' : '🖥️';
    const region = regionFor(item, ctx, e.region);
    return renderEvent(item, ctx, {
      title: `${emoji} EC2 ${id} is ${state}`,
      summary: `Instance ${code(id, 100)} is now *${esc(state)}*.`,
      fields: [['Time', e.time ? esc(e.time) : undefined], ['Account / region', [e.account, region].filter(Boolean).map((s) => esc(s!)).join(' / ') || undefined]],
      link: { url: consoleUrl(region, `ec2/home?region={region}#InstanceDetails:instanceId=${encodeURIComponent(id)}`), label: 'Open the instance' },
      text: `${emoji} EC2 ${esc(id)} is ${esc(state)}`,
      line: `${emoji} *EC2* \`${esc(id)}\` is *${esc(state)}*`,
      bad,
      good: state === 'running',
      at: timeOf(e.time, item.envelope.receivedAt),
    });
  },
});
