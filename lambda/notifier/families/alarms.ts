/**
 * CloudWatch alarm state changes: the SNS message an alarm action publishes and the EventBridge
 * `CloudWatch Alarm State Change` event, read into one `AlarmTransition` and rendered with the
 * value against its threshold, the resource, how long, the runbook and a console link.
 *
 * Severity: the topic or queue the alarm was sent to (the construct gives each alarm its level),
 * so `severity()` says nothing.
 *
 * Formats: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html
 * (EventBridge samples) and aws/aws-lambda-go's SNS alarm payloads (see the fixtures' README).
 */
import { context, esc, escFit, fields, fit, formatDuration, link, section, slackDate, truncate } from '../slack';
import type { AlarmChild, AlarmKind, AlarmMetric, AlarmTransition, Block, Envelope, EventBridgeEvent, Item, Rendered } from '../types';
import { defineFamily } from './family';
import { asEventBridge, COLOURS, date, envOf, isObject, message, num, regionOfArn, str, type Json, type RenderContext } from './kit';

function dimensions(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v)) {
    for (const d of v) {
      if (!isObject(d)) continue;
      const name = str(d.name) ?? str(d.Name);
      const value = str(d.value) ?? str(d.Value);
      if (name && value !== undefined) out[name] = value;
    }
  } else if (isObject(v)) {
    for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  }
  return out;
}

/** `[92.5 (23/11/26 10:15:00), 91.0 (…)]` in a NewStateReason → [92.5, 91]. */
export function observedFromReason(reason: string): number[] {
  const m = /datapoints?\s*\[([^\]]*)\]/i.exec(reason);
  if (!m) return [];
  return m[1]
    .split(/\),\s*/)
    .map((part) => Number(part.trim().split(/\s+/)[0]))
    .filter((n) => Number.isFinite(n));
}

function bandFromReason(reason: string): { lower?: number; upper?: number } | undefined {
  const upper = /upper thresholds?\s*\[([-\d.eE+]+)/i.exec(reason);
  const lower = /lower thresholds?\s*\[([-\d.eE+]+)/i.exec(reason);
  if (!upper && !lower) return undefined;
  return { upper: upper ? Number(upper[1]) : undefined, lower: lower ? Number(lower[1]) : undefined };
}

function metricFromTrigger(t: Json): AlarmMetric {
  return {
    namespace: str(t.Namespace),
    metricName: str(t.MetricName),
    stat: str(t.ExtendedStatistic) ?? str(t.Statistic),
    unit: str(t.Unit),
    period: num(t.Period),
    dimensions: dimensions(t.Dimensions),
  };
}

function metricFromQuery(q: Json): AlarmMetric {
  const stat = isObject(q.MetricStat) ? q.MetricStat : isObject(q.metricStat) ? q.metricStat : undefined;
  const metric = stat && (isObject(stat.Metric) ? stat.Metric : isObject(stat.metric) ? stat.metric : undefined);
  return {
    id: str(q.Id) ?? str(q.id),
    label: str(q.Label) ?? str(q.label),
    expression: str(q.Expression) ?? str(q.expression),
    namespace: metric ? str(metric.Namespace) ?? str(metric.namespace) : undefined,
    metricName: metric ? str(metric.MetricName) ?? str(metric.name) : undefined,
    stat: stat ? str(stat.Stat) ?? str(stat.stat) : undefined,
    unit: stat ? str(stat.Unit) ?? str(stat.unit) : undefined,
    period: stat ? num(stat.Period) ?? num(stat.period) : undefined,
    dimensions: metric ? dimensions(metric.Dimensions ?? metric.dimensions) : {},
    returnData: typeof q.ReturnData === 'boolean' ? q.ReturnData : typeof q.returnData === 'boolean' ? q.returnData : undefined,
  };
}

function kindOf(metrics: AlarmMetric[], comparison: string | undefined, composite: boolean): AlarmKind {
  if (composite) return 'composite';
  if (metrics.some((m) => m.expression && /ANOMALY_DETECTION_BAND/i.test(m.expression)) || /LowerOrGreaterThanUpper|LessThanLower|GreaterThanUpper/.test(comparison ?? '')) return 'anomaly';
  if (metrics.length > 1 || metrics.some((m) => m.expression)) return 'math';
  return 'metric';
}

function alarmName(arn: string | undefined): string | undefined {
  const m = arn ? /:alarm:(.+)$/.exec(arn) : null;
  return m ? m[1] : undefined;
}

function children(v: unknown): AlarmChild[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isObject).map((c) => {
    const arn = str(c.Arn) ?? str(c.arn);
    const state = isObject(c.State) ? c.State : isObject(c.state) ? c.state : {};
    return { arn, name: alarmName(arn) ?? arn ?? '?', state: str(state.Value) ?? str(state.value), at: date(state.Timestamp ?? state.timestamp) };
  });
}

/** The SNS message a CloudWatch alarm action publishes. */
function fromSnsAlarm(m: Json, env: Envelope): AlarmTransition {
  const trigger = isObject(m.Trigger) ? m.Trigger : undefined;
  const queries = trigger && Array.isArray(trigger.Metrics) ? trigger.Metrics.filter(isObject).map(metricFromQuery) : [];
  const metrics = queries.length > 0 ? queries : trigger && (trigger.MetricName || trigger.Namespace) ? [metricFromTrigger(trigger)] : [];
  const comparison = trigger ? str(trigger.ComparisonOperator) : undefined;
  const composite = typeof m.AlarmRule === 'string' || (!trigger && Array.isArray(m.TriggeringChildren));
  const reason = str(m.NewStateReason) ?? '';
  const arn = str(m.AlarmArn);
  return {
    name: str(m.AlarmName) ?? alarmName(arn) ?? 'unnamed alarm',
    arn,
    description: str(m.AlarmDescription),
    accountId: str(m.AWSAccountId),
    region: regionOfArn(arn) ?? env.sourceArns.map(regionOfArn).find(Boolean),
    newState: str(m.NewStateValue) ?? 'UNKNOWN',
    oldState: str(m.OldStateValue),
    reason,
    changedAt: date(m.StateChangeTime),
    kind: kindOf(metrics, comparison, composite),
    metrics,
    threshold: trigger ? num(trigger.Threshold) : undefined,
    comparison,
    evaluationPeriods: trigger ? num(trigger.EvaluationPeriods) : undefined,
    datapointsToAlarm: trigger ? num(trigger.DatapointsToAlarm) : undefined,
    period: trigger ? num(trigger.Period) ?? metrics.find((x) => x.period)?.period : undefined,
    thresholdMetricId: trigger ? str(trigger.ThresholdMetricId) : undefined,
    alarmRule: str(m.AlarmRule),
    children: children(m.TriggeringChildren),
    observed: observedFromReason(reason),
    band: bandFromReason(reason),
  };
}

/** `… was greater than the threshold (50.0) …` → `GreaterThanThreshold` (also "was not greater than"). */
export function comparisonFromReason(reason: string): string | undefined {
  const m = /was (?:not )?(greater|less) than (or equal to )?the threshold/i.exec(reason);
  if (!m) return undefined;
  return `${m[1].toLowerCase() === 'greater' ? 'GreaterThan' : 'LessThan'}${m[2] ? 'OrEqualTo' : ''}Threshold`;
}

/** EventBridge `CloudWatch Alarm State Change`. */
function fromEventBridgeAlarm(e: EventBridgeEvent): AlarmTransition {
  const d = e.detail;
  const state = isObject(d.state) ? d.state : {};
  const prev = isObject(d.previousState) ? d.previousState : {};
  const config = isObject(d.configuration) ? d.configuration : {};
  const metrics = Array.isArray(config.metrics) ? config.metrics.filter(isObject).map(metricFromQuery) : [];
  const composite = typeof config.alarmRule === 'string';
  const reason = str(state.reason) ?? '';
  let reasonData: Json = {};
  try {
    const parsed = typeof state.reasonData === 'string' ? JSON.parse(state.reasonData) : state.reasonData;
    if (isObject(parsed)) reasonData = parsed;
  } catch {
    /* reasonData is optional */
  }
  const recent = Array.isArray(reasonData.recentDatapoints) ? reasonData.recentDatapoints.map(num).filter((n): n is number => n !== undefined) : [];
  const arn = e.resources.find((r) => r.includes(':alarm:'));
  return {
    name: str(d.alarmName) ?? alarmName(arn) ?? 'unnamed alarm',
    arn,
    description: str(config.description),
    accountId: e.account,
    region: e.region,
    newState: str(state.value) ?? 'UNKNOWN',
    oldState: str(prev.value),
    reason,
    changedAt: date(state.timestamp) ?? date(e.time),
    previousChangedAt: date(prev.timestamp),
    kind: kindOf(metrics, undefined, composite),
    metrics,
    threshold: num(reasonData.threshold),
    // The event's configuration has no ComparisonOperator; its reason says it in words.
    comparison: comparisonFromReason(reason),
    period: metrics.find((x) => x.period)?.period,
    alarmRule: str(config.alarmRule),
    // A composite alarm's reasonData names the children that triggered it.
    children: children(reasonData.triggeringAlarms),
    suppressedBy: str(state.actionsSuppressedBy),
    suppressor: str(config.actionsSuppressor),
    observed: recent.length > 0 ? recent : observedFromReason(reason),
    band: bandFromReason(reason),
  };
}

const COMPARISON: Record<string, string> = {
  GreaterThanOrEqualToThreshold: '≥',
  GreaterThanThreshold: '>',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '≤',
  LessThanLowerOrGreaterThanUpperThreshold: 'outside the band',
  LessThanLowerThreshold: 'below the band',
  GreaterThanUpperThreshold: 'above the band',
};

export function comparisonSymbol(op: string | undefined): string {
  return (op && COMPARISON[op]) ?? op ?? 'vs';
}

const trimNumber = (n: number, digits = 2) => {
  const fixed = Math.abs(n) >= 1000 ? n.toLocaleString('en-US', { maximumFractionDigits: 0 }) : Number(n.toFixed(digits)).toString();
  return fixed;
};

/** A value with its CloudWatch unit, readable: `92.5%`, `12.3 ms`, `4.2 GiB`, `1,234`. */
export function formatValue(value: number, unit?: string): string {
  switch (unit) {
    case 'Percent':
      return `${trimNumber(value, 1)}%`;
    case 'Seconds':
      return Math.abs(value) < 1 ? `${trimNumber(value * 1000, 1)} ms` : `${trimNumber(value, 2)} s`;
    case 'Milliseconds':
      return `${trimNumber(value, 1)} ms`;
    case 'Microseconds':
      return `${trimNumber(value / 1000, 2)} ms`;
    case 'Bytes':
    case 'Kilobytes':
    case 'Megabytes':
    case 'Gigabytes': {
      const factor = { Bytes: 1, Kilobytes: 1024, Megabytes: 1024 ** 2, Gigabytes: 1024 ** 3 }[unit];
      let v = value * factor;
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let i = 0;
      while (Math.abs(v) >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
      }
      return `${trimNumber(v, 1)} ${units[i]}`;
    }
    case 'Count/Second':
      return `${trimNumber(value, 1)}/s`;
    default:
      return trimNumber(value, 2);
  }
}

function regionOf(a: AlarmTransition, ctx: RenderContext): string | undefined {
  return a.region ?? ctx.defaultRegion;
}

export function alarmConsoleUrl(name: string, region: string | undefined): string | undefined {
  if (!region) return undefined;
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#alarmsV2:alarm/${encodeURIComponent(name)}`;
}

/** The runbook link in a description: the URL after "runbook", else the first URL. */
export function runbookUrl(description: string | undefined): string | undefined {
  if (!description) return undefined;
  const clean = (u: string) => u.replace(/[)\].,;:'"!?>]+$/, '');
  const labelled = /runbook\s*[:=\-–—]?\s*<?(https?:\/\/[^\s<>|"]+)/i.exec(description);
  if (labelled) return clean(labelled[1]);
  const any = /(https?:\/\/[^\s<>|"]+)/i.exec(description);
  return any ? clean(any[1]) : undefined;
}

/** The resource an alarm watches, as `Name=value` pairs from every metric's dimensions. */
export function alarmDimensions(a: AlarmTransition): [string, string][] {
  const seen = new Map<string, string>();
  for (const m of a.metrics) for (const [k, v] of Object.entries(m.dimensions)) if (!seen.has(k)) seen.set(k, v);
  return [...seen.entries()];
}

function metricTitle(m: AlarmMetric): string {
  if (m.expression) return m.label ?? m.expression;
  const name = m.metricName ?? m.label ?? m.id ?? 'metric';
  const stat = m.stat && /^[A-Z]+$/.test(m.stat) ? m.stat[0] + m.stat.slice(1).toLowerCase() : m.stat;
  const bits = [stat, m.period ? formatDuration(m.period * 1000) : undefined].filter(Boolean);
  return bits.length > 0 ? `${name} (${bits.join(', ')})` : name;
}

/** SNS alarm messages often say `"Unit": null`; these metrics' units are documented. */
const KNOWN_UNITS: Record<string, string> = {
  CPUUtilization: 'Percent',
  EngineCPUUtilization: 'Percent',
  DatabaseMemoryUsagePercentage: 'Percent',
  disk_used_percent: 'Percent',
  mem_used_percent: 'Percent',
  FreeStorageSpace: 'Bytes',
  FreeableMemory: 'Bytes',
  ReadLatency: 'Seconds',
  WriteLatency: 'Seconds',
  ReplicaLag: 'Seconds',
  ReplicationLag: 'Seconds',
  DatabaseConnections: 'Count',
  CurrConnections: 'Count',
  Evictions: 'Count',
};

export function unitOf(m: AlarmMetric | undefined): string | undefined {
  if (!m) return undefined;
  return m.unit ?? (m.metricName ? KNOWN_UNITS[m.metricName] : undefined);
}

/** The query whose value is compared (`ReturnData: true`, not the band), else the only metric. */
function primaryMetric(a: AlarmTransition): AlarmMetric | undefined {
  if (a.metrics.length === 1) return a.metrics[0];
  const returned = a.metrics.filter((m) => m.returnData !== false && m.id !== a.thresholdMetricId);
  return returned[0] ?? a.metrics[0];
}

/** `CPUUtilization (Average, 5m) 92.5% ≥ 80%`; band, composite and reason-only variants. */
export function alarmValueLine(a: AlarmTransition): string {
  const primary = primaryMetric(a);
  const unit = unitOf(primary);
  const values = a.observed.slice(0, 5).map((v) => formatValue(v, unit));
  const subject = primary ? metricTitle(primary) : a.name;
  if (a.kind === 'composite') {
    const rule = a.alarmRule ? `rule \`${escFit(a.alarmRule, 300)}\`` : 'composite alarm';
    return rule;
  }
  if (a.kind === 'anomaly') {
    const band = a.band ? `[${a.band.lower !== undefined ? formatValue(a.band.lower, unit) : '?'} – ${a.band.upper !== undefined ? formatValue(a.band.upper, unit) : '?'}]` : 'the expected band';
    const verb = a.newState === 'OK' ? 'within' : comparisonSymbol(a.comparison ?? 'LessThanLowerOrGreaterThanUpperThreshold');
    return `${esc(subject)} ${values.length ? values.join(', ') : 'value'} ${verb === 'within' ? 'within the band' : esc(verb)} ${band}`;
  }
  if (a.threshold === undefined) return esc(subject) + (values.length ? ` ${values.join(', ')}` : '');
  const op = comparisonSymbol(a.comparison);
  const shown = values.length ? values.join(', ') : 'value';
  return `${esc(subject)} ${shown} ${esc(a.newState === 'OK' ? `(threshold ${op} ${formatValue(a.threshold, unit)})` : `${op} ${formatValue(a.threshold, unit)}`)}`;
}

function stateEmoji(state: string, critical: boolean): string {
  if (state === 'ALARM') return critical ? '🚨' : '🔴';
  if (state === 'OK') return '✅';
  if (state === 'INSUFFICIENT_DATA') return '❔';
  return '🔔';
}

function stateColour(state: string): string {
  if (state === 'ALARM') return COLOURS.alarm;
  if (state === 'OK') return COLOURS.ok;
  if (state === 'INSUFFICIENT_DATA') return COLOURS.warning;
  return COLOURS.neutral;
}

function renderAlarm(item: Item, a: AlarmTransition, ctx: RenderContext): Rendered {
  const critical = item.severity === 'critical';
  const emoji = stateEmoji(a.newState, critical);
  const env = envOf(ctx, a.name);
  const region = regionOf(a, ctx);
  const consoleUrl = alarmConsoleUrl(a.name, region);
  const runbook = runbookUrl(a.description);
  const dims = alarmDimensions(a);
  const resource = dims.length ? dims.map(([k, v]) => `\`${escFit(`${k}=${v}`, 200)}\``).join(' ') : undefined;
  const value = alarmValueLine(a);
  const e = item.enrichment;

  let timing: string | undefined;
  let recoveredAfter: string | undefined;
  if (a.newState === 'OK') {
    const since = a.previousChangedAt && a.oldState === 'ALARM' ? a.previousChangedAt : e?.alarmSince;
    if (since && a.changedAt && a.changedAt.getTime() >= since.getTime()) recoveredAfter = formatDuration(a.changedAt.getTime() - since.getTime());
    timing = recoveredAfter
      ? `Recovered after *${recoveredAfter}* in ${esc(a.oldState ?? 'ALARM')} (since ${slackDate(since!)})`
      : `Recovered from ${esc(a.oldState ?? 'a previous state')}${a.changedAt ? ` at ${slackDate(a.changedAt)}` : ''}`;
  } else if (a.changedAt) {
    const forMs = ctx.now.getTime() - a.changedAt.getTime();
    timing = `Since ${slackDate(a.changedAt)}${forMs >= 60_000 ? ` (for ${formatDuration(forMs)})` : ''}${a.oldState ? ` · was ${esc(a.oldState)}` : ''}`;
  }

  const title = a.newState === 'OK' ? `${emoji} Recovered: ${a.name}` : `${emoji} ${a.newState}: ${a.name}`;
  const kindLabel = { metric: 'metric alarm', math: 'metric-math alarm', anomaly: 'anomaly-detection alarm', composite: 'composite alarm' }[a.kind];

  const blocks: (Block | undefined)[] = [
    section(`*${escFit(a.name, 300)}* · ${kindLabel}\n${value}`),
    fields([
      ['Environment', env ? esc(env) : undefined],
      ['Severity', item.severity],
      ['Resource', resource],
      [a.newState === 'OK' ? 'Recovered' : 'In state', timing],
      ['Account / region', [a.accountId, region].filter(Boolean).map((s) => esc(s!)).join(' / ') || undefined],
    ]),
  ];
  if (a.kind === 'math' && a.metrics.length > 1) {
    blocks.push(section(`*Queries*\n${a.metrics.map((m) => `• \`${escFit(m.id ?? '?', 40)}\` ${escFit(m.expression ? `${m.label ? `${m.label}: ` : ''}${m.expression}` : metricTitle(m), 200)}${Object.keys(m.dimensions).length ? ` — ${escFit(Object.entries(m.dimensions).map(([k, v]) => `${k}=${v}`).join(', '), 200)}` : ''}`).join('\n')}`));
  }
  if (a.kind === 'composite') {
    const kids = a.children.map((c) => `• ${stateEmoji(c.state ?? '', false)} ${escFit(c.name, 200)}${c.state ? ` (${esc(c.state)})` : ''}`);
    if (kids.length) blocks.push(section(`*Triggered by*\n${kids.join('\n')}`));
  }
  if (a.description) blocks.push(section(`*Description*\n${escFit(a.description, 1500)}`));
  if (e && a.newState !== 'OK') {
    const db = [e.instanceClass, e.instanceStatus, e.engineVersion && `PostgreSQL ${e.engineVersion}`].filter(Boolean).map((s) => esc(s!)).join(' · ');
    const waits = e.waitEvents?.length ? e.waitEvents.map((w) => `\`${esc(w.name)}\` ${Math.round(w.percent)}%`).join(' · ') : undefined;
    const lines = [db && `*Database* ${db}`, waits && `*Top wait events* ${waits}`, e.performanceInsightsUrl && link(e.performanceInsightsUrl, 'Open Performance Insights')].filter(Boolean);
    if (lines.length) blocks.push(section(lines.join('\n')));
  }
  if (a.suppressedBy) blocks.push(context(`🔕 Alarm actions suppressed (${esc(a.suppressedBy)})${a.suppressor ? ` by \`${escFit(a.suppressor, 200)}\`` : ''}`));
  if (a.reason) blocks.push(context(escFit(a.reason, 600)));
  blocks.push(context(consoleUrl ? link(consoleUrl, 'Open the alarm in CloudWatch') : undefined, runbook ? link(runbook, '📖 Runbook') : undefined));

  const plainValue = value.replace(/`/g, '');
  const text = a.newState === 'OK'
    ? `${emoji} Recovered: ${esc(a.name)}${env ? ` (${esc(env)})` : ''}${recoveredAfter ? ` after ${recoveredAfter}` : ''}`
    : `${emoji} ${esc(a.newState)}: ${esc(a.name)}${env ? ` (${esc(env)})` : ''} — ${plainValue}`;
  const line = `${emoji} *${esc(a.newState === 'OK' ? 'OK' : a.newState)}* ${link(consoleUrl, truncate(a.name, 120))} — ${a.newState === 'OK' ? (recoveredAfter ? `recovered after ${recoveredAfter}` : 'recovered') : fit(value, 160)}${resource ? ` · ${dims.map(([k, v]) => escFit(`${k}=${v}`, 80)).join(', ')}` : ''}`;
  return { item, message: message(title, stateColour(a.newState), blocks, text), line, bad: a.newState === 'ALARM', at: a.changedAt?.getTime() ?? 0 };
}

function recognize(env: Envelope): { kind: 'alarm'; alarm: AlarmTransition } | undefined {
  const b = env.body;
  if (!isObject(b)) return undefined;
  if (typeof b.AlarmName === 'string' && ('NewStateValue' in b || 'Trigger' in b || 'AlarmRule' in b)) return { kind: 'alarm', alarm: fromSnsAlarm(b, env) };
  const eb = asEventBridge(b);
  if (eb && eb.source === 'aws.cloudwatch' && eb.detailType === 'CloudWatch Alarm State Change') return { kind: 'alarm', alarm: fromEventBridgeAlarm(eb) };
  return undefined;
}

export const alarms = defineFamily<{ kind: 'alarm'; alarm: AlarmTransition }>({
  name: 'alarms',
  kinds: ['alarm'],
  recognize,
  severity: () => undefined,
  render: (item, ctx) => renderAlarm(item, item.notification.alarm, ctx),
});
