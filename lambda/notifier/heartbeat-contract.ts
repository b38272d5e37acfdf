/**
 * What the alert-path heartbeat (lib/constructs/alert-heartbeat.ts) and the notifier agree on: the
 * message the schedule publishes, and the metrics the notifier records. Dependency-free, so the
 * construct can import it without pulling the notifier into synth.
 */

/** The `kind` marker of a heartbeat message. */
export const HEARTBEAT_KIND = 'alerting-heartbeat';

/**
 * `check`: prove that this severity's Slack destination would take a post, without posting (every
 * few minutes, on every severity). `post`: a real, quiet message (once a day, info only).
 */
export type HeartbeatMode = 'check' | 'post';
export const HEARTBEAT_MODES: readonly HeartbeatMode[] = ['check', 'post'];

/** The heartbeat message, as the schedule's EventBridge target input renders it. */
export interface HeartbeatMessage {
  readonly kind: typeof HEARTBEAT_KIND;
  readonly mode: HeartbeatMode;
  /** Environment that sent it. */
  readonly environment: string;
  /** When the schedule fired (EventBridge `time`). */
  readonly time?: string;
}

/** CloudWatch namespace of the notifier's own metrics. */
export const ALERTING_METRICS_NAMESPACE = 'Platform/Alerting';

/** Metric names, each with the dimensions `Environment` and `Severity`. */
export const ALERTING_METRIC = {
  /** A heartbeat check found the severity's Slack destination ready to take a post. */
  checkSucceeded: 'SlackCheckSucceeded',
  /** A heartbeat check failed: the secret is missing or unreadable, or Slack refused the webhook/token. */
  checkFailed: 'SlackCheckFailed',
  /** Notifications Slack accepted (each post counts the notifications it carries; the daily heartbeat included). */
  delivered: 'Delivered',
} as const;
export type AlertingMetric = (typeof ALERTING_METRIC)[keyof typeof ALERTING_METRIC];

export const ALERTING_DIMENSIONS = { environment: 'Environment', severity: 'Severity' } as const;
