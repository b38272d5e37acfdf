/**
 * Posts to Slack incoming webhooks within their rate limit (about one message a second per
 * channel, with short bursts): a token bucket per webhook paces posts; a 429 honours Retry-After
 * (and holds back the posts behind it); a 5xx or network error retries with exponential backoff;
 * other 4xx are permanent. A 400 about the blocks is retried once as plain text, so a formatter
 * bug never loses an alert. Time is injected so tests do not sleep.
 */
import { describeError, redact } from './redact';
import type { SlackMessage } from './types';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

export interface PosterOptions {
  /** @default realClock */
  readonly clock?: Clock;
  /** Sustained rate: one post per this many ms per webhook. @default 1000 */
  readonly intervalMs?: number;
  /** Posts that may go out back to back before pacing starts. @default 2 */
  readonly burst?: number;
  /** Attempts per post, the first included. @default 5 */
  readonly maxAttempts?: number;
  /** First backoff after a 5xx or network error; doubles each time. @default 500 */
  readonly backoffBaseMs?: number;
  /** @default 8000 */
  readonly backoffMaxMs?: number;
  /** A longer Retry-After is capped to this (and the post gives up if past the deadline). @default 30000 */
  readonly maxRetryAfterMs?: number;
  /** Per-request timeout. @default 5000 */
  readonly requestTimeoutMs?: number;
  /** Absolute time (clock ms) after which nothing more is attempted, e.g. Lambda's timeout less a margin. */
  readonly deadline?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Jitter source in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Where retries are reported; messages are already redacted. */
  readonly onRetry?: (info: { attempt: number; status?: number; waitMs: number; reason: string }) => void;
}

export type PostOutcome =
  | { readonly ok: true; readonly attempts: number; readonly status: number; readonly degraded: boolean }
  | { readonly ok: false; readonly attempts: number; readonly status?: number; readonly permanent: boolean; readonly error: string };

interface Bucket {
  tokens: number;
  last: number;
  blockedUntil: number;
}

/** Parses Retry-After: delta-seconds or an HTTP date. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const BLOCK_ERRORS = /invalid_blocks|invalid_blocks_format|invalid_attachments|invalid_payload|too_many_attachments|no_text/;

export class SlackPoster {
  private readonly clock: Clock;
  private readonly buckets = new Map<string, Bucket>();
  private readonly o: Required<Omit<PosterOptions, 'deadline' | 'onRetry'>> & Pick<PosterOptions, 'onRetry'>;
  /** Absolute time (clock ms) after which nothing more is attempted; set per Lambda invocation. */
  public deadline: number | undefined;
  /** Posts actually sent (HTTP requests), for metrics and the benchmark. */
  public requests = 0;

  constructor(options: PosterOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.o = {
      clock: this.clock,
      intervalMs: options.intervalMs ?? 1000,
      burst: Math.max(1, options.burst ?? 2),
      maxAttempts: Math.max(1, options.maxAttempts ?? 5),
      backoffBaseMs: options.backoffBaseMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 8000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 5000,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      random: options.random ?? Math.random,
      onRetry: options.onRetry,
    };
    this.deadline = options.deadline;
  }

  private bucket(url: string): Bucket {
    let b = this.buckets.get(url);
    if (!b) {
      b = { tokens: this.o.burst, last: this.clock.now(), blockedUntil: 0 };
      this.buckets.set(url, b);
    }
    return b;
  }

  /** How long to wait before the next post to `url` may go out (0 = now); takes the token if 0. */
  private take(url: string): number {
    const b = this.bucket(url);
    const now = this.clock.now();
    if (now < b.blockedUntil) return b.blockedUntil - now;
    b.tokens = Math.min(this.o.burst, b.tokens + Math.max(0, now - b.last) / this.o.intervalMs);
    b.last = Math.max(now, b.last);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) * this.o.intervalMs);
  }

  private pastDeadline(waitMs: number): boolean {
    return this.deadline !== undefined && this.clock.now() + waitMs > this.deadline;
  }

  /** Waits for a token, unless that would pass the deadline. */
  private async pace(url: string): Promise<boolean> {
    for (;;) {
      const wait = this.take(url);
      if (wait === 0) return true;
      if (this.pastDeadline(wait)) return false;
      await this.clock.sleep(wait);
    }
  }

  private async send(url: string, body: string): Promise<{ status: number; text: string; retryAfter: string | null }> {
    this.requests++;
    const res = await this.o.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body,
      signal: AbortSignal.timeout(this.o.requestTimeoutMs),
    });
    const text = await res.text().catch(() => '');
    return { status: res.status, text: text.slice(0, 200), retryAfter: res.headers.get('retry-after') };
  }

  /** Posts one message, retrying as the response asks. Never throws; errors are redacted. */
  async post(url: string, message: SlackMessage): Promise<PostOutcome> {
    let payload: SlackMessage = message;
    let degraded = false;
    let lastStatus: number | undefined;
    let lastError = 'not attempted';
    let backoffStep = 0;
    for (let attempt = 1; attempt <= this.o.maxAttempts; attempt++) {
      if (!(await this.pace(url))) {
        return { ok: false, attempts: attempt - 1, status: lastStatus, permanent: false, error: `out of time before attempt ${attempt}; last: ${lastError}` };
      }
      let waitMs: number;
      let reason: string;
      // A 429 blocks the webhook's bucket; `pace` then does the waiting for this and later posts.
      let waitInPace = false;
      try {
        const res = await this.send(url, JSON.stringify(payload));
        lastStatus = res.status;
        if (res.status >= 200 && res.status < 300) return { ok: true, attempts: attempt, status: res.status, degraded };
        const detail = redact(res.text.replace(/\s+/g, ' ').trim());
        lastError = `HTTP ${res.status}${detail ? ` ${detail}` : ''}`;
        if (res.status === 429) {
          const after = retryAfterMs(res.retryAfter, this.clock.now()) ?? this.o.intervalMs;
          waitMs = Math.min(after, this.o.maxRetryAfterMs);
          const b = this.bucket(url);
          b.blockedUntil = this.clock.now() + waitMs;
          // After the block: this retry may go at once, the posts behind it at the sustained rate.
          b.tokens = 1;
          b.last = b.blockedUntil;
          waitInPace = true;
          reason = `rate limited (Retry-After ${res.retryAfter ?? 'absent'})`;
        } else if (res.status >= 500) {
          waitMs = this.backoff(backoffStep++);
          reason = `server error ${res.status}`;
        } else if (res.status === 400 && !degraded && BLOCK_ERRORS.test(res.text) && (payload.blocks || payload.attachments)) {
          // Slack rejected the layout: the alert still matters more than the layout.
          payload = { text: message.text };
          degraded = true;
          waitMs = 0;
          reason = `layout rejected (${detail}); retrying as plain text`;
        } else {
          return { ok: false, attempts: attempt, status: res.status, permanent: true, error: lastError };
        }
      } catch (err) {
        lastStatus = undefined;
        lastError = describeError(err);
        waitMs = this.backoff(backoffStep++);
        reason = `request failed: ${lastError}`;
      }
      if (attempt === this.o.maxAttempts) break;
      if (this.pastDeadline(waitMs)) {
        return { ok: false, attempts: attempt, status: lastStatus, permanent: false, error: `out of time (would wait ${waitMs} ms); last: ${lastError}` };
      }
      this.o.onRetry?.({ attempt, status: lastStatus, waitMs, reason });
      if (waitMs > 0 && !waitInPace) await this.clock.sleep(waitMs);
    }
    return { ok: false, attempts: this.o.maxAttempts, status: lastStatus, permanent: false, error: `gave up after ${this.o.maxAttempts} attempts; last: ${lastError}` };
  }

  private backoff(step: number): number {
    const cap = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** step);
    return Math.round(cap / 2 + (this.o.random() * cap) / 2);
  }
}
