/**
 * The notifier's vocabulary: what comes in (an envelope around one notification), what it is
 * once classified, and what goes out (a Slack message, planned into posts).
 */

/** Alert severity; one SNS topic, SQS queue and Slack webhook each. */
export type Severity = 'critical' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

export function isSeverity(value: unknown): value is Severity {
  return value === 'critical' || value === 'warning' || value === 'info';
}

/** One notification as it arrived, with the wrapping (SQS record, SNS envelope) peeled off. */
export interface Envelope {
  /** SQS message ID when it came through a queue: the unit of partial batch failure. */
  readonly itemId?: string;
  /** Queue ARN (SQS) or topic ARN (SNS) it came through, for severity routing. */
  readonly sourceArns: readonly string[];
  /** SNS subject, when there was one. */
  readonly subject?: string;
  /** SNS message attributes, flattened to strings (AWS Backup puts the job state here). */
  readonly attributes: Readonly<Record<string, string>>;
  /** When SNS/SQS received it. */
  readonly receivedAt?: Date;
  /** The message: parsed JSON when it was JSON, else the raw text. */
  readonly body: unknown;
  /** The raw text of the message, for the plain-text fallback. */
  readonly raw: string;
}

export type AlarmKind = 'metric' | 'math' | 'anomaly' | 'composite';

export interface AlarmMetric {
  readonly id?: string;
  readonly label?: string;
  readonly expression?: string;
  readonly namespace?: string;
  readonly metricName?: string;
  readonly stat?: string;
  readonly unit?: string;
  readonly period?: number;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly returnData?: boolean;
}

export interface AlarmChild {
  readonly name: string;
  readonly arn?: string;
  readonly state?: string;
  readonly at?: Date;
}

/** A CloudWatch alarm state change, from the SNS alarm action or the EventBridge event. */
export interface AlarmTransition {
  readonly name: string;
  readonly arn?: string;
  readonly description?: string;
  readonly accountId?: string;
  /** Region code, e.g. `ap-northeast-2`. */
  readonly region?: string;
  readonly newState: string;
  readonly oldState?: string;
  readonly reason: string;
  readonly changedAt?: Date;
  /** When the previous state began (EventBridge carries it; SNS does not). */
  readonly previousChangedAt?: Date;
  readonly kind: AlarmKind;
  /** The metric(s) the alarm watches; for math, every query. */
  readonly metrics: readonly AlarmMetric[];
  readonly threshold?: number;
  readonly comparison?: string;
  readonly evaluationPeriods?: number;
  readonly datapointsToAlarm?: number;
  /** Seconds per datapoint. */
  readonly period?: number;
  readonly thresholdMetricId?: string;
  readonly alarmRule?: string;
  readonly children: readonly AlarmChild[];
  /** The datapoints that crossed (parsed from the reason), newest first as CloudWatch lists them. */
  readonly observed: readonly number[];
  /** Why the alarm's actions were suppressed (`WaitPeriod`, `ExtensionPeriod`, `Alarm`), EventBridge only. */
  readonly suppressedBy?: string;
  /** The suppressor alarm of a composite alarm. */
  readonly suppressor?: string;
  /** Anomaly band edges when the reason names them. */
  readonly band?: { readonly lower?: number; readonly upper?: number };
}

/** An RDS event, from an RDS event subscription (SNS) or EventBridge (`RDS DB Instance Event`, …). */
export interface RdsEvent {
  /** Which path it came by; rendering shows it, severity ignores it. */
  readonly via: 'sns' | 'eventbridge';
  /** The resource's name (`prod-db`). */
  readonly sourceId?: string;
  /** In the SNS vocabulary: `db-instance`, `db-cluster`, `db-snapshot`, `db-parameter-group`, … */
  readonly sourceType?: string;
  readonly sourceArn?: string;
  /** `RDS-EVENT-0049`. */
  readonly eventId?: string;
  readonly message: string;
  readonly time?: string;
  /** The console link the SNS message carries. */
  readonly link?: string;
  /** EventBridge's `EventCategories`. */
  readonly categories?: readonly string[];
  /** EventBridge's `detail-type`. */
  readonly detailType?: string;
  readonly region?: string;
  readonly account?: string;
}

/** An AWS Backup job, from a vault notification (SNS) or EventBridge (`Backup Job State Change`, …). */
export interface BackupJob {
  readonly via: 'sns' | 'eventbridge';
  /** `backup`, `copy`, `restore` (from `BACKUP_JOB`, `Copy Job State Change`, …). */
  readonly job: string;
  /** `COMPLETED`, `FAILED`, `ABORTED`, `EXPIRED`, `RUNNING`, … */
  readonly state?: string;
  /** The notification's text, or EventBridge's `statusMessage`. */
  readonly message?: string;
  readonly resourceArn?: string;
  readonly resourceType?: string;
  readonly jobId?: string;
  readonly recoveryPointArn?: string;
  readonly vault?: string;
  readonly region?: string;
  readonly account?: string;
  readonly time?: string;
}

export interface EventBridgeEvent {
  readonly detailType: string;
  readonly source: string;
  readonly account?: string;
  readonly region?: string;
  readonly time?: string;
  readonly resources: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
}

/** Notification kinds whose family reads the EventBridge event's `detail` when rendering. */
export type EventKind = 'ebs' | 'dlm' | 'ec2-instance' | 'health' | 'guardduty' | 'secrets-manager';
export interface EventNotification<K extends EventKind> {
  readonly kind: K;
  readonly event: EventBridgeEvent;
}

export type Notification =
  | { readonly kind: 'alarm'; readonly alarm: AlarmTransition }
  | { readonly kind: 'rds-event'; readonly event: RdsEvent }
  | { readonly kind: 'elasticache'; readonly events: readonly { readonly name: string; readonly value: string }[] }
  | { readonly kind: 'backup'; readonly job: BackupJob }
  /** EventBridge events that a family reads straight from `detail` when rendering. */
  | EventNotification<EventKind>
  | { readonly kind: 'eventbridge'; readonly event: EventBridgeEvent }
  | {
      /**
       * A message that brings its own Slack rendering (the db-health digest), already escaped
       * and checked against Block Kit's limits by `selfRenderedBlocks`: posted as it is, on its
       * own, never with a mention.
       */
      readonly kind: 'self-rendered';
      /** The message's `kind` marker, e.g. `db-health-digest`. */
      readonly source: string;
      /** Human title (not escaped), for logs and the one-line form. */
      readonly title?: string;
      /** Ready mrkdwn fallback text. */
      readonly text: string;
      readonly blocks: readonly Block[];
      readonly at?: Date;
    }
  | {
      readonly kind: 'text';
      readonly subject?: string;
      readonly text: string;
      /** Why a message that looked like something else is shown as text (shown in a context line). */
      readonly fallbackReason?: string;
    };

/** What the enrichment step learnt; every field optional because it is best effort. */
export interface Enrichment {
  readonly instanceClass?: string;
  readonly instanceStatus?: string;
  readonly engineVersion?: string;
  /** Top wait events over the alarm window, e.g. `{ name: 'LWLock:WALWrite', percent: 41 }`. */
  readonly waitEvents?: readonly { readonly name: string; readonly percent: number }[];
  readonly performanceInsightsUrl?: string;
  /** When the alarm entered ALARM, for an OK transition ("recovered after …"). */
  readonly alarmSince?: Date;
  /** Why parts are missing (timeouts, access denied), for the log; never shown in Slack. */
  readonly notes?: readonly string[];
}

/** One notification ready to render. */
export interface Item {
  readonly envelope: Envelope;
  readonly severity: Severity;
  readonly notification: Notification;
  enrichment?: Enrichment;
}

// ---- Slack ---------------------------------------------------------------------------------

export interface TextObject {
  readonly type: 'plain_text' | 'mrkdwn';
  readonly text: string;
  readonly emoji?: boolean;
}

export type Block =
  | { readonly type: 'header'; readonly text: TextObject }
  | { readonly type: 'section'; readonly text?: TextObject; readonly fields?: readonly TextObject[] }
  | { readonly type: 'context'; readonly elements: readonly TextObject[] }
  | { readonly type: 'divider' };

export interface SlackMessage {
  /** Notification and accessibility fallback; also what clients without Block Kit show. */
  readonly text: string;
  readonly blocks?: readonly Block[];
  readonly attachments?: readonly { readonly color: string; readonly blocks: readonly Block[]; readonly fallback?: string }[];
}

/** One rendered notification: the full message and the one-line form used in storm digests. */
export interface Rendered {
  readonly item: Item;
  readonly message: SlackMessage;
  /** One mrkdwn line (already escaped) naming what happened, for digests. */
  readonly line: string;
  /** Something is wrong (ALARM, failure), as opposed to a recovery or information. */
  readonly bad: boolean;
  /** Sort key: when it happened (ms since epoch), or 0. */
  readonly at: number;
  /** Always a post of its own: never merged into a storm digest, never @-mentions. */
  readonly standalone?: boolean;
}

/** One Slack post, and the queue items it carries (failed together if it cannot be delivered). */
export interface Post {
  readonly severity: Severity;
  readonly message: SlackMessage;
  readonly itemIds: readonly string[];
  /** How many notifications it carries (items without an ID included). */
  readonly count: number;
  readonly digest: boolean;
}
