/**
 * The alarm's graph for its Slack thread: a CloudWatch metric widget built from the alarm itself
 * (its metric, or every query of a metric-math alarm, with only the returned series visible), the
 * threshold as a horizontal annotation, the transition as a vertical one, the last 3 hours, rendered
 * by `GetMetricWidgetImage`. The widget JSON follows
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Metric-Widget-Structure.html
 *
 * The time budget is tight: when the image is not back within `budgetMs`, the caller gets
 * undefined and the message goes out without it.
 */
import { GetMetricWidgetImageCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { AlarmTransition } from '../types';

/** Statistic names as the SNS alarm message spells them (`AVERAGE`) → as a widget wants them (`Average`). */
const STATS: Readonly<Record<string, string>> = { AVERAGE: 'Average', SUM: 'Sum', MINIMUM: 'Minimum', MAXIMUM: 'Maximum', SAMPLE_COUNT: 'SampleCount', SAMPLECOUNT: 'SampleCount' };
export const widgetStat = (s: string | undefined): string | undefined => (s ? STATS[s.toUpperCase()] ?? s : undefined);

export interface WidgetOptions {
  /** Hours of history. @default 3 */
  readonly hours?: number;
  /** Pixels. @default 800 × 400 */
  readonly width?: number;
  readonly height?: number;
}

/** The widget for a metric or metric-math alarm; undefined for kinds it cannot draw (composite, anomaly). */
export function alarmWidget(a: AlarmTransition, o: WidgetOptions = {}): Record<string, unknown> | undefined {
  if (a.kind !== 'metric' && a.kind !== 'math') return undefined;
  const metrics: unknown[] = [];
  for (const m of a.metrics) {
    const returned = a.kind === 'metric' || m.returnData !== false;
    const props: Record<string, unknown> = {};
    if (m.id && a.kind === 'math') props.id = m.id;
    if (m.label) props.label = m.label;
    if (!returned) props.visible = false;
    if (m.expression) {
      metrics.push([{ expression: m.expression, ...props }]);
      continue;
    }
    if (!m.namespace || !m.metricName) continue;
    const stat = widgetStat(m.stat);
    if (stat) props.stat = stat;
    if (m.period ?? a.period) props.period = m.period ?? a.period;
    metrics.push([m.namespace, m.metricName, ...Object.entries(m.dimensions).flat(), props]);
  }
  if (!metrics.length) return undefined;
  const horizontal = a.threshold !== undefined ? [{ label: `threshold ${a.threshold}`, value: a.threshold, color: '#d62728' }] : [];
  const vertical = a.changedAt ? [{ label: `${a.newState} ${a.changedAt.toISOString().slice(11, 16)} UTC`, value: a.changedAt.toISOString(), color: a.newState === 'OK' ? '#2ca02c' : '#d62728' }] : [];
  return {
    title: a.name,
    view: 'timeSeries',
    stacked: false,
    metrics,
    start: `-PT${o.hours ?? 3}H`,
    end: 'P0D',
    width: o.width ?? 800,
    height: o.height ?? 400,
    ...(a.region ? { region: a.region } : {}),
    annotations: { horizontal, vertical },
    legend: { position: 'bottom' },
  };
}

export interface GraphOptions extends WidgetOptions {
  /** Milliseconds the image may take. @default 2500 */
  readonly budgetMs?: number;
  /** Told why no image was made (never a secret). */
  readonly onSkip?: (reason: string) => void;
}

/** Renders the alarm's graph as PNG, or undefined when the alarm has none or it is not ready in time. */
export async function renderAlarmGraph(client: Pick<CloudWatchClient, 'send'>, a: AlarmTransition, o: GraphOptions = {}): Promise<Uint8Array | undefined> {
  const widget = alarmWidget(a, o);
  if (!widget) return undefined;
  const budget = o.budgetMs ?? 2500;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      o.onSkip?.(`no image within ${budget} ms`);
      resolve(undefined);
    }, budget);
  });
  const call = client
    .send(new GetMetricWidgetImageCommand({ MetricWidget: JSON.stringify(widget), OutputFormat: 'png' }), { abortSignal: abort.signal })
    .then((r) => r.MetricWidgetImage)
    .catch((err: Error) => {
      if (!abort.signal.aborted) o.onSkip?.(`GetMetricWidgetImage failed: ${err.name}`);
      return undefined;
    });
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
