/**
 * Best-effort context for alarms, bounded in time (3 s by default for the whole batch):
 * - RDS alarms in ALARM: the instance's class and status (DescribeDBInstances) and the top
 *   Performance Insights wait events over the alarm window (GetResourceMetrics, `db.load.avg`
 *   grouped by `db.wait_event`), with a link to Performance Insights;
 * - OK transitions: when the alarm went into ALARM (this container's memory, else CloudWatch's
 *   alarm history), for "recovered after 14m".
 * Anything that fails or is late is left out; the message goes out without it.
 */
// The SDK clients are imported lazily (in the functions that use them): most batches hold no RDS
// alarm and no OK transition, and loading three more clients costs every cold start ~60 ms.
import { describeError } from './redact';
import type { AlarmTransition, Enrichment, Item } from './types';

/** Anything with the v3 client's `send`; the real clients, or aws-sdk-client-mock's. */
export interface SdkClient {
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>;
}

export interface EnrichClients {
  readonly rds?: SdkClient;
  readonly pi?: SdkClient;
  readonly cloudwatch?: SdkClient;
}

export interface EnrichOptions {
  /** Total time for the batch's enrichment. @default 3000 */
  readonly budgetMs?: number;
  /** Items enriched per batch, at most. @default 5 */
  readonly maxItems?: number;
  /** Wait events listed. @default 3 */
  readonly topWaits?: number;
  /** "Now", for alarms without a state-change time. @default () => new Date() */
  readonly now?: () => Date;
}

/** When each alarm (by ARN or name) last went into ALARM, as seen by this container. */
const alarmSinceMemo = new Map<string, Date>();
const memoKey = (a: AlarmTransition) => `${a.arn ?? ''}|${a.name}`;

/** Remembers ALARM transitions so a later OK in this container can say how long it lasted. */
export function rememberAlarmStarts(items: readonly Item[]): void {
  for (const it of items) {
    if (it.notification.kind !== 'alarm') continue;
    const a = it.notification.alarm;
    if (a.newState === 'ALARM' && a.changedAt) {
      const prev = alarmSinceMemo.get(memoKey(a));
      if (!prev || prev < a.changedAt) alarmSinceMemo.set(memoKey(a), a.changedAt);
    }
  }
  if (alarmSinceMemo.size > 1000) alarmSinceMemo.delete(alarmSinceMemo.keys().next().value as string);
}

/**
 * Fills "in ALARM since" for OK transitions from what this container has seen (this batch
 * included), with no AWS call: used for storm digests, which are not enriched otherwise.
 */
export function recallAlarmStarts(items: readonly Item[]): void {
  for (const it of items) {
    if (it.notification.kind !== 'alarm' || it.enrichment?.alarmSince) continue;
    const a = it.notification.alarm;
    if (a.newState !== 'OK') continue;
    const since = alarmSinceMemo.get(memoKey(a));
    if (since && (!a.changedAt || since < a.changedAt)) it.enrichment = { ...it.enrichment, alarmSince: since };
  }
}

/** For tests. */
export function forgetAlarmStarts(): void {
  alarmSinceMemo.clear();
}

export function rdsInstanceOf(a: AlarmTransition): string | undefined {
  for (const m of a.metrics) {
    if (m.namespace === 'AWS/RDS' && m.dimensions.DBInstanceIdentifier) return m.dimensions.DBInstanceIdentifier;
  }
  return undefined;
}

export function performanceInsightsUrl(region: string, resourceId: string, instance: string): string {
  return `https://${region}.console.aws.amazon.com/rds/home?region=${region}#performance-insights-v20206:/resourceId/${encodeURIComponent(resourceId)}/resourceName/${encodeURIComponent(instance)}`;
}

/** Shares of DB load by wait event from a GetResourceMetrics answer, largest first. */
export function waitEventShares(metricList: readonly any[] | undefined, top: number): { name: string; percent: number }[] {
  if (!metricList) return [];
  const sum = (points: any[] | undefined) => (points ?? []).reduce((s, p) => s + (typeof p?.Value === 'number' && Number.isFinite(p.Value) ? p.Value : 0), 0);
  let total = 0;
  const parts: { name: string; load: number }[] = [];
  for (const entry of metricList) {
    const dims = entry?.Key?.Dimensions as Record<string, string> | undefined;
    const load = sum(entry?.DataPoints);
    if (!dims || Object.keys(dims).length === 0) {
      total += load;
      continue;
    }
    const type = dims['db.wait_event.type'];
    const name = dims['db.wait_event.name'] ?? dims['db.wait_event'] ?? '?';
    parts.push({ name: type && type !== name ? `${type}:${name}` : name, load });
  }
  const denominator = total > 0 ? total : parts.reduce((s, p) => s + p.load, 0);
  if (denominator <= 0) return [];
  return parts
    .filter((p) => p.load > 0)
    .sort((a, b) => b.load - a.load)
    .slice(0, top)
    .map((p) => ({ name: p.name, percent: Math.min(100, (100 * p.load) / denominator) }));
}

async function enrichRds(a: AlarmTransition, instance: string, clients: EnrichClients, signal: AbortSignal, topWaits: number, now: Date): Promise<Enrichment> {
  const notes: string[] = [];
  let out: { -readonly [K in keyof Enrichment]: Enrichment[K] } = {};
  if (!clients.rds) return out;
  const { DescribeDBInstancesCommand } = await import('@aws-sdk/client-rds');
  const described = await clients.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instance }), { abortSignal: signal });
  const db = described?.DBInstances?.[0];
  if (!db) return { notes: [`no DB instance ${instance}`] };
  out = { instanceClass: db.DBInstanceClass, instanceStatus: db.DBInstanceStatus, engineVersion: db.EngineVersion };
  const region = a.region;
  if (db.DbiResourceId && region && db.PerformanceInsightsEnabled !== false) out.performanceInsightsUrl = performanceInsightsUrl(region, db.DbiResourceId, instance);
  if (clients.pi && db.DbiResourceId && db.PerformanceInsightsEnabled !== false) {
    const end = a.changedAt ?? now;
    const windowS = Math.max(300, (a.period ?? 60) * Math.max(a.evaluationPeriods ?? 1, 1));
    const start = new Date(end.getTime() - windowS * 1000);
    try {
      const { GetResourceMetricsCommand } = await import('@aws-sdk/client-pi');
      const res = await clients.pi.send(
        new GetResourceMetricsCommand({
          ServiceType: 'RDS',
          Identifier: db.DbiResourceId,
          StartTime: start,
          EndTime: end,
          PeriodInSeconds: 60,
          MetricQueries: [{ Metric: 'db.load.avg' }, { Metric: 'db.load.avg', GroupBy: { Group: 'db.wait_event', Limit: Math.max(topWaits, 5) } }],
        }),
        { abortSignal: signal },
      );
      out.waitEvents = waitEventShares(res?.MetricList, topWaits);
    } catch (err) {
      notes.push(`Performance Insights: ${describeError(err)}`);
    }
  }
  return { ...out, notes };
}

async function alarmStart(a: AlarmTransition, clients: EnrichClients, signal: AbortSignal): Promise<Date | undefined> {
  const memo = alarmSinceMemo.get(memoKey(a));
  if (memo && (!a.changedAt || memo < a.changedAt)) return memo;
  if (!clients.cloudwatch || !a.changedAt) return undefined;
  const { DescribeAlarmHistoryCommand } = await import('@aws-sdk/client-cloudwatch');
  const res = await clients.cloudwatch.send(
    new DescribeAlarmHistoryCommand({
      AlarmName: a.name,
      HistoryItemType: 'StateUpdate',
      StartDate: new Date(a.changedAt.getTime() - 14 * 86400_000),
      EndDate: new Date(a.changedAt.getTime() + 1000),
      ScanBy: 'TimestampDescending',
      MaxRecords: 20,
    }),
    { abortSignal: signal },
  );
  for (const h of res?.AlarmHistoryItems ?? []) {
    const at = h.Timestamp instanceof Date ? h.Timestamp : new Date(h.Timestamp);
    if (Number.isNaN(at.getTime()) || at.getTime() >= a.changedAt.getTime()) continue;
    let to: string | undefined;
    try {
      to = JSON.parse(h.HistoryData ?? '{}')?.newState?.stateValue;
    } catch {
      /* fall back to the summary */
    }
    to ??= /to (ALARM|OK|INSUFFICIENT_DATA)\s*$/.exec(h.HistorySummary ?? '')?.[1];
    if (to === 'ALARM') return at;
    if (to === 'OK') return undefined; // an OK before any ALARM: the history does not tell
  }
  return undefined;
}

/** Whether any item would be enriched (so that the clients need creating at all). */
export function needsEnrichment(items: readonly Item[]): boolean {
  return items.some((i) => plan(i) !== undefined);
}

/** Which items enrichment would touch, and how. */
function plan(item: Item): 'rds' | 'recovery' | undefined {
  if (item.notification.kind !== 'alarm') return undefined;
  const a = item.notification.alarm;
  if (a.newState === 'ALARM' && rdsInstanceOf(a)) return 'rds';
  if (a.newState === 'OK' && !(a.previousChangedAt && a.oldState === 'ALARM')) return 'recovery';
  return undefined;
}

/**
 * Enriches items in place within the budget. Returns notes on what was left out (redacted, for
 * the log). Never throws.
 */
export async function enrichItems(items: readonly Item[], clientsOrFactory: EnrichClients | (() => Promise<EnrichClients>), options: EnrichOptions = {}): Promise<string[]> {
  const budget = options.budgetMs ?? 3000;
  const topWaits = options.topWaits ?? 3;
  const now = (options.now ?? (() => new Date()))();
  const notes: string[] = [];
  const work = items.filter((i) => plan(i)).slice(0, options.maxItems ?? 5);
  if (work.length === 0) return notes;
  let clients: EnrichClients;
  try {
    clients = typeof clientsOrFactory === 'function' ? await clientsOrFactory() : clientsOrFactory;
  } catch (err) {
    return [`enrichment clients unavailable: ${describeError(err)}`];
  }
  const controller = new AbortController();
  const tasks = work.map(async (item) => {
    const a = (item.notification as Extract<Item['notification'], { kind: 'alarm' }>).alarm;
    try {
      if (plan(item) === 'rds') {
        const e = await enrichRds(a, rdsInstanceOf(a)!, clients, controller.signal, topWaits, now);
        if (!controller.signal.aborted) item.enrichment = { ...item.enrichment, ...e };
        if (e.notes?.length) notes.push(`${a.name}: ${e.notes.join('; ')}`);
      } else {
        const since = await alarmStart(a, clients, controller.signal);
        if (since && !controller.signal.aborted) item.enrichment = { ...item.enrichment, alarmSince: since };
      }
    } catch (err) {
      notes.push(`${a.name}: ${describeError(err)}`);
    }
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), budget);
    timer.unref?.();
  });
  const result = await Promise.race([Promise.all(tasks).then(() => 'done' as const), timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    controller.abort();
    notes.push(`enrichment stopped after ${budget} ms; posting without the rest`);
  }
  return notes;
}
