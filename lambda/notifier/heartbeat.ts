/**
 * The alert path's dead man's switch, notifier side (the schedule and the alarms are
 * lib/constructs/alert-heartbeat.ts). A heartbeat travels the whole path: schedule → severity
 * topic → queue → this function → Slack.
 *
 * - `check` heartbeats (every few minutes, each severity) prove the severity's Slack destination
 *   would take a post, without posting: the webhook secret is read and the webhook is sent a message
 *   without text, which a live incoming webhook refuses with HTTP 400 `no_text` (a deleted or revoked
 *   one answers 403/404/410: https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks);
 *   in app mode the bot token is checked with `auth.test` (https://docs.slack.dev/reference/methods/auth.test).
 *   A check is never retried or dead-lettered: the next one comes minutes later.
 * - `post` heartbeats (once a day, info only) are a real, quiet message delivered like any alert.
 *   Only Slack's 200 on a real post proves delivery; a failed one is retried and dead-lettered like an alert.
 *
 * Either way the outcome is a metric (heartbeat-contract.ts); the alarms on those metrics go to the
 * independent `<env>-alerting-health` topic.
 */
import { context, esc } from './slack';
import { HEARTBEAT_KIND, type HeartbeatMode } from './heartbeat-contract';
import { date, isObject, str } from './families/kit';
import { describeError, redact } from './redact';
import type { Envelope, Notification, SlackMessage } from './types';

export interface HeartbeatRequest {
  readonly mode: HeartbeatMode;
  readonly environment?: string;
  readonly at?: Date;
}

/** The heartbeat an envelope carries, or undefined. A `kind` marker with an unknown mode is not one (it is shown as text). */
export function heartbeatOf(env: Envelope): HeartbeatRequest | undefined {
  const o = env.body;
  if (!isObject(o) || o.kind !== HEARTBEAT_KIND) return undefined;
  if (o.mode !== 'check' && o.mode !== 'post') return undefined;
  return { mode: o.mode, environment: str(o.environment), at: date(o.time) };
}

/** The outcome of a check: `ok`, or why not (redacted; never a URL or token). */
export type CheckOutcome = { readonly ok: true; readonly detail: string } | { readonly ok: false; readonly error: string };

/**
 * What a webhook's answer to a message without text means. A live webhook has parsed the payload
 * before refusing it (400 and a payload error); 429 also comes from a webhook Slack knows (it is
 * only busy). Anything else (403 `invalid_token`/`action_prohibited`, 404 `no_service`/
 * `channel_not_found`, 410 `channel_is_archived`, 5xx, or an HTML page from something that is not
 * Slack) fails the check.
 */
export function webhookCheckVerdict(status: number, body: string): CheckOutcome {
  const code = body.trim().slice(0, 80);
  if (status === 400 && /^(no_text|missing_text_or_fallback_or_attachments|invalid_payload)$/.test(code)) return { ok: true, detail: `HTTP 400 ${code}: the webhook is live` };
  if (status === 429) return { ok: true, detail: 'HTTP 429: the webhook is live and busy' };
  return { ok: false, error: `the webhook answered HTTP ${status}${code ? ` ${redact(code)}` : ''}` };
}

export interface WebhookCheckOptions {
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default 5000 */
  readonly timeoutMs?: number;
}

/** Sends `{}` (no text: nothing is posted) to the webhook and reads the answer. Never throws. */
export async function checkWebhook(url: string, options: WebhookCheckOptions = {}): Promise<CheckOutcome> {
  const f = options.fetch ?? globalThis.fetch.bind(globalThis);
  try {
    const res = await f(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{}',
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
    const text = await res.text().catch(() => '');
    return webhookCheckVerdict(res.status, text);
  } catch (err) {
    return { ok: false, error: `the webhook could not be reached: ${describeError(err)}` };
  }
}

/** The daily message: one quiet line, never a mention. */
export function heartbeatPostMessage(environment: string | undefined, at: Date): SlackMessage {
  const env = environment ? `${esc(environment)} ` : '';
  const text = `💚 ${env}alerting heartbeat: schedule → topic → queue → notifier → Slack works. No action needed.`;
  return { text, blocks: [context(`${text} <!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} {time}|${at.toISOString()}>`)!] };
}

/** The daily heartbeat as a notification that renders itself (a post of its own, never merged or mentioned). */
export function heartbeatNotification(req: HeartbeatRequest, environment: string | undefined, now: Date): Notification {
  const at = req.at ?? now;
  const message = heartbeatPostMessage(environment, at);
  return { kind: 'self-rendered', source: HEARTBEAT_KIND, title: `${environment ?? ''} alerting heartbeat`.trim(), text: message.text, blocks: message.blocks ?? [], at };
}
