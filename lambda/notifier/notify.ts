/**
 * The one code path the Lambda and the CLI share: parse → classify (families/) → route to a severity →
 * enrich (best effort, bounded) → render → plan posts (digests in a storm) → deliver, paced.
 * Returns which queue items could not be delivered so that SQS retries them.
 */
import { classify, contentSeverity } from './classify';
import type { PostOutcome } from './deliver';
import { enrichItems, recallAlarmStarts, rememberAlarmStarts, type EnrichClients, type EnrichOptions } from './enrich';
import { render } from './format';
import { checkWebhook, heartbeatNotification, heartbeatOf, type CheckOutcome } from './heartbeat';
import { ALERTING_METRIC, type AlertingMetric } from './heartbeat-contract';
import { parseEvent } from './parse';
import { planPosts, type PlanOptions } from './plan';
import { describeError } from './redact';
import type { Envelope, Item, Notification, Post, Rendered, Severity, SlackMessage } from './types';
import { isSeverity } from './types';
import type { WebhookResolver } from './webhooks';

export interface LoggerLike {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

const silent: LoggerLike = { debug() {}, info() {}, warn() {}, error() {} };

export interface NotifierConfig {
  /** Environment name shown on messages. */
  readonly environment?: string;
  /** Who critical problems @-mention: `none`, `here`, `channel`, or a user-group ID. */
  readonly criticalMention?: string;
  /** Every notification gets this severity (the CLI's --severity). */
  readonly forcedSeverity?: Severity;
  /** Queue or topic ARN → severity. */
  readonly severityBySource?: Readonly<Record<string, Severity>>;
  /** Severity when the source says nothing. @default 'warning' */
  readonly defaultSeverity?: Severity;
  /** More than this many notifications per severity in one batch become digests. @default 5 */
  readonly stormThreshold?: number;
  /** Lines per digest post. @default 40 */
  readonly linesPerPost?: number;
  /** Region for console links when a message does not name one. */
  readonly defaultRegion?: string;
}

export interface Poster {
  post(url: string, message: SlackMessage): Promise<PostOutcome>;
}

export interface NotifierDeps {
  readonly config: NotifierConfig;
  readonly webhook: WebhookResolver;
  readonly poster: Poster;
  /** AWS clients for enrichment, or a factory that creates them on first need; omitted = no enrichment. */
  readonly enrich?: EnrichClients | (() => Promise<EnrichClients>);
  readonly enrichOptions?: EnrichOptions;
  readonly logger?: LoggerLike;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** When set, posts are handed here instead of being delivered (the CLI's --dry-run). */
  readonly dryRun?: (post: Post) => void;
  /** Slack app mode (app/deliver-app.ts): delivers instead of the webhooks, threading alarms. */
  readonly delivery?: { deliver(rendered: readonly Rendered[], posts: readonly Post[], plan: PlanOptions): Promise<PostResult[]> };
  /**
   * Checks a severity's Slack destination without posting (heartbeat.ts), for `check` heartbeats.
   * @default - webhook mode: read the webhook and send it a message without text
   */
  readonly check?: (severity: Severity) => Promise<CheckOutcome>;
  /** Where the alert path's own metrics go (heartbeat-contract.ts): the Lambda writes EMF. @default - not recorded */
  readonly metric?: (name: AlertingMetric, severity: Severity, value: number) => void;
  /** For the default webhook check. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export interface PostResult {
  readonly post: Post;
  readonly outcome: PostOutcome;
}

export interface BatchResult {
  readonly items: number;
  readonly posts: readonly PostResult[];
  /** SQS message IDs whose notification was not delivered. */
  readonly failedItemIds: readonly string[];
  /** Undelivered notifications that have no SQS ID (direct SNS or CLI input). */
  readonly undeliveredWithoutId: number;
}

/**
 * Routes a notification to a severity (and so a webhook): the CLI's forced severity first, then
 * what the content itself implies (an RDS event's ID, a backup job's state — the same whichever
 * path it came by), then the configured source ARNs, then the ARN's name, then the default.
 * Alarms imply nothing themselves: the topic they were sent to is their severity.
 */
export function severityOf(env: Envelope, config: NotifierConfig, notification?: Notification): Severity {
  if (config.forcedSeverity) return config.forcedSeverity;
  const fromContent = notification ? contentSeverity(notification) : undefined;
  if (fromContent) return fromContent;
  const map = config.severityBySource ?? {};
  for (const arn of env.sourceArns) {
    const s = map[arn];
    if (isSeverity(s)) return s;
  }
  for (const arn of [...env.sourceArns].reverse()) {
    const name = (arn.split(':').pop() ?? '').toLowerCase();
    for (const s of ['critical', 'warning', 'info'] as const) if (name.includes(s)) return s;
  }
  return config.defaultSeverity ?? 'warning';
}

export async function processEvent(event: unknown, deps: NotifierDeps): Promise<BatchResult> {
  const log = deps.logger ?? silent;
  const now = deps.now ?? (() => new Date());
  const cfg = deps.config;

  // Heartbeats: `check` ones are answered here and go no further; `post` ones are delivered like alerts.
  const checks = new Set<Severity>();
  let checkCount = 0;
  const items: Item[] = [];
  for (const envelope of parseEvent(event)) {
    const heartbeat = heartbeatOf(envelope);
    if (heartbeat?.mode === 'check') {
      checks.add(severityOf(envelope, cfg));
      checkCount++;
      continue;
    }
    if (heartbeat) {
      items.push({ envelope, severity: severityOf(envelope, cfg), notification: heartbeatNotification(heartbeat, cfg.environment, now()) });
      continue;
    }
    const notification = classify(envelope);
    items.push({ envelope, severity: severityOf(envelope, cfg, notification), notification });
  }
  if (deps.dryRun) {
    if (checks.size) log.info('heartbeat checks skipped (dry run)', { severities: [...checks] });
  } else {
    await runChecks(checks, deps, log);
  }
  if (items.length === 0) return { items: checkCount, posts: [], failedItemIds: [], undeliveredWithoutId: 0 };
  rememberAlarmStarts(items);

  // Enrich only where a post of its own will carry it: in a storm the digest lines are short.
  const stormThreshold = cfg.stormThreshold ?? 5;
  const perSeverity = countBy(items.map((i) => i.severity));
  const quiet = items.filter((i) => perSeverity[i.severity] <= stormThreshold);
  if (deps.enrich && quiet.length > 0) {
    const notes = await enrichItems(quiet, deps.enrich, { now, ...deps.enrichOptions });
    if (notes.length) log.warn('enrichment incomplete', { notes });
  }

  // Whatever enrichment did not cover (storms, no clients): recoveries of alarms seen earlier.
  recallAlarmStarts(items);

  const ctx = { environment: cfg.environment, now: now(), defaultRegion: cfg.defaultRegion };
  const rendered = items.map((i) => render(i, ctx));
  const planOptions: PlanOptions = { stormThreshold, linesPerPost: cfg.linesPerPost, criticalMention: cfg.criticalMention, environment: cfg.environment };
  const posts = planPosts(rendered, planOptions);
  log.info('batch planned', { items: items.length, posts: posts.length, digests: posts.filter((p) => p.digest).length, kinds: countBy(items.map((i) => i.notification.kind)) });

  if (deps.dryRun) {
    for (const p of posts) deps.dryRun(p);
    return { items: items.length, posts: posts.map((post) => ({ post, outcome: { ok: true, attempts: 0, status: 0, degraded: false } })), failedItemIds: [], undeliveredWithoutId: 0 };
  }

  if (deps.delivery) return recordDelivered(batchResult(items.length + checkCount, await deps.delivery.deliver(rendered, posts, planOptions), log), deps);

  // Resolve each severity's webhook once; a severity whose secret cannot be read fails its posts.
  const urls = new Map<Severity, { url?: string; error?: string }>();
  for (const s of new Set(posts.map((p) => p.severity))) {
    try {
      urls.set(s, { url: await deps.webhook(s) });
    } catch (err) {
      const error = describeError(err);
      urls.set(s, { error });
      log.error('webhook unavailable', { severity: s, error });
    }
  }

  // One queue per webhook URL (paced by the poster); different webhooks go in parallel.
  const byUrl = new Map<string, Post[]>();
  const results: PostResult[] = [];
  for (const p of posts) {
    const u = urls.get(p.severity)!;
    if (!u.url) {
      results.push({ post: p, outcome: { ok: false, attempts: 0, permanent: false, error: u.error ?? 'no webhook' } });
      continue;
    }
    byUrl.set(u.url, [...(byUrl.get(u.url) ?? []), p]);
  }
  await Promise.all(
    [...byUrl.entries()].map(async ([url, queue]) => {
      for (const p of queue) {
        const outcome = await deps.poster.post(url, p.message);
        results.push({ post: p, outcome });
        if (outcome.ok) {
          log.debug('posted', { severity: p.severity, count: p.count, digest: p.digest, attempts: outcome.attempts, degraded: outcome.degraded });
        } else {
          log.error('post failed', { severity: p.severity, count: p.count, items: p.itemIds, status: outcome.status, permanent: outcome.permanent, error: outcome.error });
        }
      }
    }),
  );

  return recordDelivered(batchResult(items.length + checkCount, results, log), deps);
}

/**
 * Answers the batch's `check` heartbeats, once per severity: a metric either way, never a retry
 * (the next heartbeat is minutes away, and a dead-lettered heartbeat would only add noise).
 */
async function runChecks(severities: ReadonlySet<Severity>, deps: NotifierDeps, log: LoggerLike): Promise<void> {
  for (const severity of severities) {
    let outcome: CheckOutcome;
    try {
      outcome = await (deps.check ?? webhookCheck(deps))(severity);
    } catch (err) {
      outcome = { ok: false, error: describeError(err) };
    }
    if (outcome.ok) {
      log.info('heartbeat check passed', { severity, detail: outcome.detail });
      deps.metric?.(ALERTING_METRIC.checkSucceeded, severity, 1);
    } else {
      log.error('heartbeat check failed', { severity, error: outcome.error });
      deps.metric?.(ALERTING_METRIC.checkFailed, severity, 1);
    }
  }
}

/** Webhook mode's check: the secret must be readable, and the webhook live (heartbeat.ts). */
function webhookCheck(deps: NotifierDeps): (severity: Severity) => Promise<CheckOutcome> {
  return async (severity) => {
    let url: string;
    try {
      url = await deps.webhook(severity);
    } catch (err) {
      return { ok: false, error: describeError(err) };
    }
    const outcome = await checkWebhook(url, { fetch: deps.fetch });
    // A URL Slack refuses may have been replaced in the secret since this container read it.
    if (!outcome.ok) deps.webhook.forget?.(severity);
    return outcome;
  };
}

/** Records every notification Slack accepted, per severity (the daily heartbeat among them). */
function recordDelivered(result: BatchResult, deps: NotifierDeps): BatchResult {
  if (!deps.metric) return result;
  const delivered = new Map<Severity, number>();
  for (const r of result.posts) if (r.outcome.ok) delivered.set(r.post.severity, (delivered.get(r.post.severity) ?? 0) + r.post.count);
  for (const [severity, n] of delivered) deps.metric(ALERTING_METRIC.delivered, severity, n);
  return result;
}

/** Which items failed (for SQS to retry), from the outcome of every post. */
function batchResult(items: number, results: readonly PostResult[], log: LoggerLike): BatchResult {
  const failed = results.filter((r) => !r.outcome.ok);
  const failedItemIds = [...new Set(failed.flatMap((r) => r.post.itemIds))];
  const undeliveredWithoutId = failed.reduce((n, r) => n + (r.post.count - r.post.itemIds.length), 0);
  log.info('batch done', { items, posts: results.length, failedPosts: failed.length, failedItems: failedItemIds.length });
  return { items, posts: results, failedItemIds, undeliveredWithoutId };
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
