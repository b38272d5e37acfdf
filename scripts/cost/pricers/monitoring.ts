/**
 * CloudWatch: alarms (per metric, high-resolution and composite rates), dashboards, log groups
 * (ingestion at a stated volume, steady-state storage over the retention) and VPC flow logs
 * (vended-log ingestion).
 */
import { line, num, refsIn, type LineDraft } from '../line';
import type { Pricer } from '../types';

export const priceAlarm: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  const metrics = Array.isArray(p.Metrics) ? (p.Metrics as Array<{ MetricStat?: { Period?: unknown } }>) : undefined;
  const count = metrics ? Math.max(1, metrics.filter((m) => m.MetricStat !== undefined).length) : 1;
  const period = num(p.Period) ?? num(metrics?.find((m) => m.MetricStat)?.MetricStat?.Period) ?? 60;
  const highRes = period < 60;
  const anomaly = p.ThresholdMetricId !== undefined;
  const billed = anomaly ? count * 3 : count;
  const what = `${highRes ? 'high-resolution' : 'standard'} alarm${count > 1 ? ` on ${count} metrics` : ''}${anomaly ? ' (anomaly detection bills 3 metrics each)' : ''}`;
  return { lines: [line(ctx.prices, highRes ? 'cloudwatch.alarm.highResolution' : 'cloudwatch.alarm.standard', what, billed)] };
};

export const priceCompositeAlarm: Pricer = (_ref, ctx) => ({ lines: [line(ctx.prices, 'cloudwatch.alarm.composite', 'composite alarm', 1)] });

export const priceDashboard: Pricer = (_ref, ctx) => ({ lines: [line(ctx.prices, 'cloudwatch.dashboard', 'dashboard', 1)] });

/** Months of data a log group holds in steady state: its retention, or 12 if it never expires. */
function retentionMonths(days: number | undefined): number {
  return days === undefined ? 12 : Math.min(days, 3653) / 30;
}

export const priceLogGroup: Pricer = (ref, ctx) => {
  const a = ctx.assumptions;
  const days = num(ref.resource.Properties?.RetentionInDays);
  const flowLog = ctx.resources.some((r) => r.resource.Type === 'AWS::EC2::FlowLog' && refsIn(r.resource.Properties?.LogGroupName).has(ref.logicalId) && r.stack === ref.stack);
  const gib = flowLog ? a.flowLogGiB : a.logGroupGiB;
  const field = flowLog ? 'flowLogGiB' : 'logGroupGiB';
  const lines: LineDraft[] = [];
  // A flow log's ingestion is billed on the flow log (vended-log rate); the group holds the records.
  if (!flowLog) lines.push(line(ctx.prices, 'cloudwatch.logs.ingest', 'log ingestion', gib, `${gib} GiB a month (cost.assumptions.${field})`));
  const months = retentionMonths(days);
  lines.push(
    line(ctx.prices, 'cloudwatch.logs.storage', `log storage, ${days === undefined ? 'never expires (12 months counted)' : `${days}-day retention`}`, gib * months, `${gib} GiB a month kept ${months.toFixed(1)} months, uncompressed (an upper bound) (cost.assumptions.${field})`),
  );
  return { lines };
};

export const priceFlowLog: Pricer = (ref, ctx) => {
  const dest = ref.resource.Properties?.LogDestinationType ?? 'cloud-watch-logs';
  if (dest !== 'cloud-watch-logs') return { notPriced: [`flow logs to ${String(dest)} are not priced`] };
  const gib = ctx.assumptions.flowLogGiB;
  return { lines: [line(ctx.prices, 'cloudwatch.logs.vendedIngest', 'flow-log delivery to CloudWatch Logs', gib, `${gib} GiB of records a month (cost.assumptions.flowLogGiB)`)] };
};

/** Custom metrics are not resources; they are priced once per environment (see estimate.ts). */
export function customMetricsLine(ctx: Parameters<Pricer>[1]) {
  const n = ctx.assumptions.customMetrics;
  return line(ctx.prices, 'cloudwatch.metric', 'custom metrics (db-health EMF, CloudWatch agent)', n, `${n} metrics (cost.assumptions.customMetrics)`);
}
