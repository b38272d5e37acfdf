import { classify } from '../../../lambda/notifier/classify';
import { alarmValueLine, formatValue, render, runbookUrl } from '../../../lambda/notifier/format';
import { parseEvent } from '../../../lambda/notifier/parse';
import { planPosts } from '../../../lambda/notifier/plan';
import { LIMITS, countBlocks, enforceLimits, esc } from '../../../lambda/notifier/slack';
import type { Item, Rendered, SlackMessage } from '../../../lambda/notifier/types';
import { fixture } from './support';

const NOW = new Date('2026-11-23T01:20:00Z');

function renderFixture(name: string, env = 'prod'): Rendered {
  const [envelope] = parseEvent(fixture(name));
  const item: Item = { envelope, severity: /critical/i.test(envelope.sourceArns.join()) ? 'critical' : 'warning', notification: classify(envelope) };
  return render(item, { environment: env, now: NOW });
}

/** Every piece of text a message shows, for `toContain` checks. */
function allText(m: SlackMessage): string {
  return JSON.stringify(m);
}

function expectWithinLimits(m: SlackMessage) {
  expect(m.text.length).toBeGreaterThan(0);
  expect(countBlocks(m)).toBeLessThanOrEqual(LIMITS.blocks);
  const blocks = [...(m.blocks ?? []), ...(m.attachments ?? []).flatMap((a) => a.blocks)];
  for (const b of blocks) {
    if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.header);
    if (b.type === 'section') {
      if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(LIMITS.field);
      expect((b.fields ?? []).length).toBeLessThanOrEqual(LIMITS.fields);
    }
  }
}

describe('formatters on the sample events', () => {
  test.each([
    // fixture, kind, what the message must say
    ['cloudwatch-alarm-rds-cpu.sns-lambda.json', 'alarm', ['ALARM: prod-db-cpu', 'CPUUtilization (Average, 1m) 92.4%, 88.5%, 85% ≥ 80%', '`DBInstanceIdentifier=prod-db`', 'Environment*\\nprod', '#E01E5A', '📖 Runbook', 'alarmsV2:alarm/prod-db-cpu', '동시 작업(영상 인코딩 + AI 워커)을 확인하세요']],
    ['cloudwatch-alarm-rds-cpu-ok.sqs.json', 'alarm', ['Recovered: prod-db-cpu', '#2EB67D', 'Recovered from ALARM']],
    ['cloudwatch-alarm-metric-math.sns-envelope.json', 'alarm', ['metric-math alarm', 'Connections (% of max_connections) 87.46, 83.12 &gt; 80', '`e1` Connections (% of max_connections): 100 * m1 / 853', 'DatabaseConnections (Maximum, 1m)', '`DBInstanceIdentifier=prod-db`']],
    ['cloudwatch-alarm-anomaly-band.sns-envelope.json', 'alarm', ['anomaly-detection alarm', 'ReadIOPS (Average, 5m) 4,211 outside the band [812.3 – 2,651]']],
    ['cloudwatch-alarm-composite.sqs.json', 'alarm', ['composite alarm', 'ALARM(\\"prod-db-cpu\\") AND ALARM(\\"prod-db-load\\")', 'Triggered by', 'prod-db-load (ALARM)', 'db-overload.md|📖 Runbook']],
    ['cloudwatch-alarm-state-change.eventbridge.json', 'alarm', ['Recovered: prod-cache-memory', 'Recovered after *24m 8s*', '`ReplicationGroupId=prod-cache`']],
    ['rds-event-failover.sns-envelope.json', 'rds-event', ['RDS-EVENT-0049', 'Multi-AZ instance failover completed.', '`prod-db`', 'dbinstance:id=prod-db|Open in the RDS console', '#E01E5A']],
    ['rds-event-low-storage.sqs.json', 'rds-event', ['RDS-EVENT-0089', 'is low at 9%', '#E01E5A']],
    ['rds-subscription-created.sns-envelope.json', 'rds-event', ['RDS event subscription', 'RDS will attempt to send you event notifications']],
    ['elasticache-failover.sns-envelope.json', 'elasticache', ['ElastiCache FailoverComplete: prod-cache-0001-002', '#/redis/prod-cache|Open in the ElastiCache console']],
    ['backup-job-failed.sns-lambda.json', 'backup', ['AWS Backup backup job FAILED', 'vol-0a1b2c3d4e5f60718', '4f6a8e2c-91b7-4d3e-a5c1-7b2e9f0d3c64', '#E01E5A']],
    ['backup-job-completed.sns-envelope.json', 'backup', ['backup job COMPLETED', 'snap-0f1e2d3c4b5a69788', '#2EB67D']],
    ['eventbridge-ec2-state-change.json', 'ec2-instance', ['EC2 i-0abcd1234ef567890 is stopped', 'InstanceDetails:instanceId=i-0abcd1234ef567890']],
    ['eventbridge-ebs-snapshot-failed.sqs.json', 'ebs', ['EBS createSnapshot failed: vol-0a1b2c3d4e5f60718', 'Source volume vol-0a1b2c3d4e5f60718 is in an error state', 'snap-01234567890abcdef']],
    ['eventbridge-backup-job-failed.json', 'backup', ['backup job FAILED: EBS vol-0a1b2c3d4e5f60718', 'Insufficient privileges to perform this action.', 'prod-platform-vault']],
    ['eventbridge-health-generic.json', 'health', ['AWS Health RDS: AWS_RDS_MAINTENANCE_SCHEDULED', '점검 창 안에서 재시작이 필요합니다 &amp; &lt;!here&gt; should not ping']],
    ['plain-text.txt', 'text', ['수동 테스트 메시지', '&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;']],
    ['malformed.json', 'text', ['{\\"AlarmName\\": \\"prod-db-cpu\\", \\"NewStateValue\\": \\"ALARM\\", \\"Trigger\\": {']],
  ] as const)('%s', (name, kind, expected) => {
    const r = renderFixture(name);
    expect(r.item.notification.kind).toBe(kind);
    const text = allText(r.message);
    for (const e of expected) expect(text).toContain(e);
    expectWithinLimits(r.message);
    expect(r.line.length).toBeGreaterThan(0);
    // Nothing from outside can ping: the only `<!` tokens are Slack dates we made ourselves.
    expect(text.replace(/<!date\^\d+\^[^|]*\|[^>]*>/g, '')).not.toMatch(/<!(channel|here|everyone|subteam)/);
    expect(text).not.toContain('undefined');
    expect(text).not.toContain('NaN');
  });

  test('alarm descriptions cannot ping or disguise links', () => {
    const r = renderFixture('cloudwatch-alarm-rds-cpu.sns-lambda.json');
    const text = allText(r.message);
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).not.toContain('<!channel>');
  });

  test('the problem/recovery flag follows the state', () => {
    expect(renderFixture('cloudwatch-alarm-rds-cpu.sns-lambda.json').bad).toBe(true);
    expect(renderFixture('cloudwatch-alarm-rds-cpu-ok.sqs.json').bad).toBe(false);
    expect(renderFixture('backup-job-completed.sns-envelope.json').bad).toBe(false);
    expect(renderFixture('eventbridge-ebs-snapshot-failed.sqs.json').bad).toBe(true);
  });

  test('an OK transition says how long the alarm lasted when enrichment found its start', () => {
    const [envelope] = parseEvent(fixture('cloudwatch-alarm-rds-cpu-ok.sqs.json'));
    const item: Item = { envelope, severity: 'critical', notification: classify(envelope), enrichment: { alarmSince: new Date('2026-11-23T01:15:42.761Z') } };
    const r = render(item, { environment: 'prod', now: NOW });
    expect(r.message.text).toBe('✅ Recovered: prod-db-cpu (prod) after 13m 59s');
    expect(r.line).toContain('recovered after 13m 59s');
  });

  test('RDS enrichment shows the class, status, wait events and a Performance Insights link', () => {
    const [envelope] = parseEvent(fixture('cloudwatch-alarm-rds-cpu.sns-lambda.json'));
    const item: Item = {
      envelope,
      severity: 'critical',
      notification: classify(envelope),
      enrichment: { instanceClass: 'db.m7g.large', instanceStatus: 'available', waitEvents: [{ name: 'LWLock:WALWrite', percent: 41.2 }, { name: 'IO:WALSync', percent: 22 }], performanceInsightsUrl: 'https://ap-northeast-2.console.aws.amazon.com/rds/home?region=ap-northeast-2#performance-insights-v20206:/resourceId/db-ABC/resourceName/prod-db' },
    };
    const text = allText(render(item, { environment: 'prod', now: NOW }).message);
    expect(text).toContain('*Database* db.m7g.large · available');
    expect(text).toContain('`LWLock:WALWrite` 41% · `IO:WALSync` 22%');
    expect(text).toContain('|Open Performance Insights>');
  });

  test('a formatter bug falls back to the raw text instead of throwing', () => {
    const [envelope] = parseEvent(fixture('cloudwatch-alarm-rds-cpu.sns-lambda.json'));
    const broken = { kind: 'alarm', alarm: { name: 'x', metrics: null } } as unknown as Item['notification'];
    const r = render({ envelope, severity: 'warning', notification: broken }, { now: NOW });
    expect(r.item.notification).toBe(broken);
    expect(allText(r.message)).toContain('formatter error');
  });

  test('unit formatting', () => {
    expect(formatValue(92.41311, 'Percent')).toBe('92.4%');
    expect(formatValue(0.0123, 'Seconds')).toBe('12.3 ms');
    expect(formatValue(6.5, 'Seconds')).toBe('6.5 s');
    expect(formatValue(9.31 * 1024 ** 3, 'Bytes')).toBe('9.3 GiB');
    expect(formatValue(1234.5, 'Count')).toBe('1,235');
  });

  test('runbook links: the labelled one wins, trailing punctuation is dropped, none is fine', () => {
    expect(runbookUrl('See https://a.example/x. Runbook: https://wiki.example/rb/db-cpu).')).toBe('https://wiki.example/rb/db-cpu');
    expect(runbookUrl('docs at https://a.example/x.')).toBe('https://a.example/x');
    expect(runbookUrl('no link here')).toBeUndefined();
    expect(runbookUrl(undefined)).toBeUndefined();
  });

  test('an alarm with no threshold or datapoints still reads sensibly', () => {
    const [envelope] = parseEvent({ AlarmName: 'bare', NewStateValue: 'INSUFFICIENT_DATA', NewStateReason: 'Insufficient Data: 1 datapoint was unknown.' });
    const n = classify(envelope);
    expect(n.kind).toBe('alarm');
    if (n.kind === 'alarm') expect(alarmValueLine(n.alarm)).toBe('bare');
    const r = render({ envelope, severity: 'info', notification: n }, { now: NOW });
    expect(r.message.text).toContain('INSUFFICIENT_DATA: bare');
    expect(allText(r.message)).not.toContain('undefined');
  });
});

describe('Slack limits and escaping', () => {
  test('esc escapes exactly &, < and >', () => {
    expect(esc('a & b <!here> <https://x|y> 한국어')).toBe('a &amp; b &lt;!here&gt; &lt;https://x|y&gt; 한국어');
  });

  test('huge external text is cut to the limits without half an entity, and Korean survives', () => {
    const description = ('장애 <!channel> & 복구 '.repeat(800));
    const [envelope] = parseEvent({ AlarmName: 'x'.repeat(400), AlarmDescription: description, NewStateValue: 'ALARM', NewStateReason: 'r'.repeat(9000), Trigger: { MetricName: 'm', Namespace: 'n', Dimensions: Array.from({ length: 40 }, (_, i) => ({ name: `d${i}`, value: 'v'.repeat(100) })), Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' } });
    const r = render({ envelope, severity: 'warning', notification: classify(envelope) }, { now: NOW });
    expectWithinLimits(r.message);
    const text = allText(r.message);
    expect(text).toContain('장애 &lt;!channel&gt; &amp; 복구');
    expect(text).not.toMatch(/&(a|am|l|g|lt|gt|amp)?…/);
  });

  test('enforceLimits caps the blocks at 50 and says how many were left out', () => {
    const many = Array.from({ length: 80 }, (_, i) => ({ type: 'section' as const, text: { type: 'mrkdwn' as const, text: `b${i}` } }));
    const m = enforceLimits({ text: 't', blocks: many });
    expect(m.blocks).toHaveLength(50);
    expect(JSON.stringify(m.blocks![49])).toContain('31 more block(s) omitted');
  });

  test('a message with an empty text still has a fallback', () => {
    expect(enforceLimits({ text: '' }).text).toBe('AWS notification');
  });

  test('planned posts of every fixture stay within the limits', () => {
    const names = ['cloudwatch-alarm-rds-cpu.sns-lambda.json', 'rds-event-failover.sns-envelope.json', 'plain-text.txt'];
    const rendered = names.map((n) => renderFixture(n));
    for (const p of planPosts(rendered, { criticalMention: 'S0123ABCD' })) expectWithinLimits(p.message);
  });
});
