/**
 * Tells what a message is (CloudWatch alarm, RDS event, ElastiCache, AWS Backup, EventBridge,
 * or text) and normalises it. Tolerant by design: missing fields stay undefined, and anything
 * unrecognised becomes a text notification. Never throws.
 */
// contract.ts is dependency-free: importing the marker adds a few bytes to the bundle, not `pg`.
import { DIGEST_KIND } from '../db-health/contract';
import { hasNotifyingToken, LIMITS, selfRenderedBlocks } from './slack';
import type { AlarmChild, AlarmKind, AlarmMetric, AlarmTransition, Envelope, EventBridgeEvent, Notification } from './types';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

function date(v: unknown): Date | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  // CloudWatch writes `2026-11-23T01:15:42.123+0000`; Date parses `+0000` in V8, but be explicit.
  const text = typeof v === 'string' ? v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2') : v;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** `arn:aws:cloudwatch:ap-northeast-2:123:alarm:x` → `ap-northeast-2`. */
export function regionOfArn(arn: string | undefined): string | undefined {
  const parts = arn?.split(':');
  return parts && parts.length > 4 && /^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(parts[3]) ? parts[3] : undefined;
}

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
    comparison: undefined,
    period: metrics.find((x) => x.period)?.period,
    alarmRule: str(config.alarmRule),
    children: [],
    observed: recent.length > 0 ? recent : observedFromReason(reason),
    band: bandFromReason(reason),
  };
}

function asEventBridge(b: Json): EventBridgeEvent | undefined {
  if (typeof b['detail-type'] !== 'string' || typeof b.source !== 'string') return undefined;
  return {
    detailType: b['detail-type'] as string,
    source: b.source,
    account: str(b.account),
    region: str(b.region),
    time: str(b.time),
    resources: Array.isArray(b.resources) ? b.resources.filter((r): r is string => typeof r === 'string') : [],
    detail: isObject(b.detail) ? b.detail : {},
  };
}

/** `http://docs…/USER_Events.html#RDS-EVENT-0006` → `RDS-EVENT-0006`. */
function rdsEventId(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const m = /(RDS-EVENT-\d+)/.exec(v);
  return m ? m[1] : v;
}

function backupFromText(text: string, attrs: Record<string, string>): Notification {
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

/**
 * A message that brings its own Slack rendering (`kind: 'db-health-digest'`, from
 * lambda/db-health/digest.ts): its `text` and `blocks` are posted as they are when they pass
 * `selfRenderedBlocks` and the text is a non-empty string within Slack's limit without a mention.
 * Otherwise it falls back to the generic text rendering of its `text` field (escaped there), or of
 * the raw message when it has no text, with the reason.
 */
function selfRendered(o: Json, env: Envelope): Notification {
  const title = str(o.title);
  const subject = env.subject ?? title;
  const text = str(o.text);
  if (text === undefined || text.trim() === '') return { kind: 'text', subject, text: env.raw, fallbackReason: `${DIGEST_KIND} without text` };
  const checked = text.length > LIMITS.text
    ? { ok: false as const, reason: `text is ${text.length} characters (limit ${LIMITS.text})` }
    : hasNotifyingToken(text)
      ? { ok: false as const, reason: 'text contains a mention' }
      : selfRenderedBlocks(o.blocks);
  if (!checked.ok) return { kind: 'text', subject, text, fallbackReason: `${DIGEST_KIND} blocks not posted: ${checked.reason}` };
  return { kind: 'self-rendered', source: DIGEST_KIND, title, text, blocks: checked.blocks, at: date(o.generatedAt) };
}

/** Classifies one envelope. */
export function classify(env: Envelope): Notification {
  try {
    const b = env.body;
    const subject = env.subject ?? '';
    if (typeof b === 'string' || b === null || b === undefined || typeof b !== 'object') {
      const text = typeof b === 'string' ? b : env.raw;
      if (/AWS Backup/i.test(subject) || env.attributes.EventType || /An AWS Backup job/i.test(text)) return backupFromText(text, env.attributes);
      if (/^RDS Notification/i.test(subject)) return { kind: 'rds-event', event: { message: text } };
      return { kind: 'text', subject: env.subject, text };
    }
    if (Array.isArray(b)) return { kind: 'text', subject: env.subject, text: env.raw };
    const o = b as Json;
    if (o.kind === DIGEST_KIND) return selfRendered(o, env);
    if (typeof o.AlarmName === 'string' && ('NewStateValue' in o || 'Trigger' in o || 'AlarmRule' in o)) {
      return { kind: 'alarm', alarm: fromSnsAlarm(o, env) };
    }
    const eb = asEventBridge(o);
    if (eb) {
      if (eb.detailType === 'CloudWatch Alarm State Change') return { kind: 'alarm', alarm: fromEventBridgeAlarm(eb) };
      return { kind: 'eventbridge', event: eb };
    }
    if ('Event Message' in o || 'Source ID' in o || 'Event ID' in o) {
      return {
        kind: 'rds-event',
        event: {
          sourceId: str(o['Source ID']),
          sourceType: str(o['Event Source']),
          sourceArn: str(o['Source ARN']),
          eventId: rdsEventId(str(o['Event ID'])),
          message: str(o['Event Message']) ?? '',
          time: str(o['Event Time']),
          link: str(o['Identifier Link']),
        },
      };
    }
    const cacheKeys = Object.keys(o).filter((k) => k.startsWith('ElastiCache:'));
    if (cacheKeys.length > 0) {
      return { kind: 'elasticache', events: cacheKeys.map((k) => ({ name: k.slice('ElastiCache:'.length), value: typeof o[k] === 'string' ? (o[k] as string) : JSON.stringify(o[k]) })) };
    }
    return { kind: 'text', subject: env.subject, text: env.raw };
  } catch {
    return { kind: 'text', subject: env.subject, text: env.raw };
  }
}
