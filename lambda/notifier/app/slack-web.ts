/**
 * The Slack Web API calls app mode needs, through the official client (`@slack/web-api`):
 * `chat.postMessage`, `chat.update`, and the current upload flow (`files.getUploadURLExternal`, a POST
 * of the bytes to the returned URL, then `files.completeUploadExternal`; `files.upload` is retired).
 *
 * Pacing is ours, not the client's: a token bucket per channel for `chat.postMessage` (Slack allows
 * about one message per second per channel, with short bursts) and one for `chat.update` (Web API
 * Tier 3, about 50 a minute). A 429 blocks the bucket for Retry-After and the call is retried,
 * unless that would pass the invocation's deadline. The client's own retries are off, so a call never
 * waits longer than we decide.
 * https://docs.slack.dev/apis/web-api/rate-limits
 *
 * The bot token is registered with `redact` and never appears in a log line or an error we return.
 */
import { ErrorCode, WebClient, type ChatPostMessageArguments, type ChatUpdateArguments, type Logger as SlackLogger, LogLevel } from '@slack/web-api';
import { redact, registerSecret } from '../redact';

export interface AppMessage {
  readonly text: string;
  readonly blocks?: readonly unknown[];
  readonly attachments?: readonly unknown[];
}

export type SlackCallOutcome<T = object> =
  | ({ readonly ok: true; readonly attempts: number } & T)
  | { readonly ok: false; readonly attempts: number; readonly permanent: boolean; readonly error: string };

/** What app delivery needs from Slack; `SlackWeb` implements it over `@slack/web-api`. */
export interface SlackApi {
  postMessage(channel: string, message: AppMessage, thread?: { ts: string; broadcast?: boolean }): Promise<SlackCallOutcome<{ ts: string; channel: string }>>;
  update(channel: string, ts: string, message: AppMessage): Promise<SlackCallOutcome>;
  uploadImage(channel: string, threadTs: string, png: Uint8Array, meta: { filename: string; title: string; altText: string }): Promise<SlackCallOutcome>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms))) };

export interface SlackWebOptions {
  /** Base URL of the Web API. @default https://slack.com/api/ */
  readonly slackApiUrl?: string;
  /** Sustained `chat.postMessage` rate per channel: one per this many ms. @default 1050 */
  readonly postIntervalMs?: number;
  /** `chat.postMessage` calls per channel that may go back to back. @default 4 */
  readonly postBurst?: number;
  /** Sustained `chat.update` rate (Tier 3, ~50/min), workspace-wide: one per this many ms. @default 1250 */
  readonly updateIntervalMs?: number;
  /** @default 4 */
  readonly updateBurst?: number;
  /** Attempts per call, the first included. @default 4 */
  readonly maxAttempts?: number;
  /** A longer Retry-After gives up instead of waiting. @default 30000 */
  readonly maxRetryAfterMs?: number;
  /** Per-request timeout. @default 5000 */
  readonly requestTimeoutMs?: number;
  /** Absolute time (clock ms) after which nothing more is attempted. */
  readonly deadline?: number;
  /** @default real time */
  readonly clock?: Clock;
  /** @default globalThis.fetch (also used for the upload URL) */
  readonly fetch?: typeof fetch;
  /** Where the client's own warnings go (already redacted). */
  readonly onLog?: (level: 'warn' | 'error', message: string) => void;
}

interface Bucket {
  tokens: number;
  last: number;
  blockedUntil: number;
}

/** Anything that looks like a Slack token, for redaction beyond the registered one. */
const TOKEN_SHAPE = /xox[abprse]-[A-Za-z0-9-]+/g;
export const redactToken = (text: string): string => redact(text).replace(TOKEN_SHAPE, 'xox?-[redacted]');

export class SlackWeb implements SlackApi {
  private readonly client: WebClient;
  private readonly clock: Clock;
  private readonly buckets = new Map<string, Bucket>();
  private readonly fetchFn: typeof fetch;
  private readonly o: Required<Omit<SlackWebOptions, 'slackApiUrl' | 'deadline' | 'clock' | 'fetch' | 'onLog'>>;
  public deadline: number | undefined;
  /** Calls made, by method, and 429s received: for metrics and the benchmark. */
  public readonly counts = { authTest: 0, postMessage: 0, update: 0, getUploadURLExternal: 0, upload: 0, completeUploadExternal: 0, rateLimited: 0 };

  constructor(token: string, options: SlackWebOptions = {}) {
    if (!/^xox[bp]-/.test(token)) throw new Error('the Slack bot token must start with xoxb- (or xoxp-); check the secret named by alerting.slack.botTokenSecret');
    registerSecret(token);
    this.clock = options.clock ?? realClock;
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.o = {
      postIntervalMs: options.postIntervalMs ?? 1050,
      postBurst: Math.max(1, options.postBurst ?? 4),
      updateIntervalMs: options.updateIntervalMs ?? 1250,
      updateBurst: Math.max(1, options.updateBurst ?? 4),
      maxAttempts: Math.max(1, options.maxAttempts ?? 4),
      maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 5000,
    };
    this.deadline = options.deadline;
    const onLog = options.onLog;
    const logger: SlackLogger = {
      debug() {},
      info() {},
      warn: (...m: unknown[]) => onLog?.('warn', redactToken(m.map(String).join(' '))),
      error: (...m: unknown[]) => onLog?.('error', redactToken(m.map(String).join(' '))),
      setLevel() {},
      getLevel: () => LogLevel.WARN,
      setName() {},
    };
    this.client = new WebClient(token, {
      slackApiUrl: options.slackApiUrl,
      logger,
      logLevel: LogLevel.WARN,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: this.o.requestTimeoutMs,
      fetch: options.fetch,
      allowAbsoluteUrls: false,
    });
  }

  private bucket(key: string, burst: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: burst, last: this.clock.now(), blockedUntil: 0 };
      this.buckets.set(key, b);
    }
    return b;
  }

  /** Waits for a token of `key`, unless that would pass the deadline. */
  private async pace(key: string, intervalMs: number, burst: number): Promise<boolean> {
    for (;;) {
      const b = this.bucket(key, burst);
      const now = this.clock.now();
      let wait: number;
      if (now < b.blockedUntil) wait = b.blockedUntil - now;
      else {
        b.tokens = Math.min(burst, b.tokens + Math.max(0, now - b.last) / intervalMs);
        b.last = Math.max(now, b.last);
        if (b.tokens >= 1) {
          b.tokens -= 1;
          return true;
        }
        wait = Math.ceil((1 - b.tokens) * intervalMs);
      }
      if (this.deadline !== undefined && now + wait > this.deadline) return false;
      await this.clock.sleep(wait);
    }
  }

  /** One Web API method call with pacing, Retry-After and a bounded number of attempts. */
  private async call<T>(method: 'authTest' | 'postMessage' | 'update' | 'getUploadURLExternal' | 'completeUploadExternal', pacing: { key: string; intervalMs: number; burst: number } | undefined, run: () => Promise<T>): Promise<SlackCallOutcome<{ result: T }>> {
    let lastError = 'not attempted';
    for (let attempt = 1; attempt <= this.o.maxAttempts; attempt++) {
      if (pacing && !(await this.pace(pacing.key, pacing.intervalMs, pacing.burst))) {
        return { ok: false, attempts: attempt - 1, permanent: false, error: `out of time before attempt ${attempt}; last: ${lastError}` };
      }
      if (!pacing && this.deadline !== undefined && this.clock.now() > this.deadline) {
        return { ok: false, attempts: attempt - 1, permanent: false, error: `out of time; last: ${lastError}` };
      }
      this.counts[method]++;
      try {
        return { ok: true, attempts: attempt, result: await run() };
      } catch (err) {
        const e = err as { code?: string; retryAfter?: number; data?: { error?: string }; statusCode?: number; message?: string };
        if (e.code === ErrorCode.RateLimitedError) {
          this.counts.rateLimited++;
          const waitMs = Math.max(1000, (e.retryAfter ?? 1) * 1000);
          lastError = `rate limited (Retry-After ${e.retryAfter ?? '?'} s)`;
          if (waitMs > this.o.maxRetryAfterMs) return { ok: false, attempts: attempt, permanent: false, error: lastError };
          if (pacing) {
            const b = this.bucket(pacing.key, pacing.burst);
            b.blockedUntil = this.clock.now() + waitMs;
            b.tokens = 1;
            b.last = b.blockedUntil;
          } else if (this.deadline === undefined || this.clock.now() + waitMs <= this.deadline) {
            await this.clock.sleep(waitMs);
          }
          continue;
        }
        if (e.code === ErrorCode.PlatformError) {
          // Slack's own answer (`channel_not_found`, `invalid_auth`, `msg_too_long`, …) will not change on retry.
          return { ok: false, attempts: attempt, permanent: true, error: redactToken(`${method}: ${e.data?.error ?? 'error'}`) };
        }
        lastError = redactToken(`${method}: ${e.code === ErrorCode.HTTPError ? `HTTP ${e.statusCode}` : e.message ?? String(err)}`);
        if (attempt < this.o.maxAttempts) await this.clock.sleep(Math.min(4000, 250 * 2 ** (attempt - 1)));
      }
    }
    return { ok: false, attempts: this.o.maxAttempts, permanent: false, error: `gave up after ${this.o.maxAttempts} attempts; last: ${lastError}` };
  }

  /**
   * `auth.test`: the token is valid and the app still installed. Posts nothing; the heartbeat's
   * check in app mode (https://docs.slack.dev/reference/methods/auth.test).
   */
  async authTest(): Promise<SlackCallOutcome> {
    const r = await this.call('authTest', undefined, () => this.client.auth.test());
    return r.ok ? { ok: true, attempts: r.attempts } : r;
  }

  async postMessage(channel: string, message: AppMessage, thread?: { ts: string; broadcast?: boolean }): Promise<SlackCallOutcome<{ ts: string; channel: string }>> {
    const r = await this.call('postMessage', { key: `post:${channel}`, intervalMs: this.o.postIntervalMs, burst: this.o.postBurst }, () =>
      this.client.chat.postMessage({
        channel,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks as never } : {}),
        ...(message.attachments ? { attachments: message.attachments as never } : {}),
        ...(thread ? { thread_ts: thread.ts, reply_broadcast: thread.broadcast ?? false } : {}),
        unfurl_links: false,
        unfurl_media: false,
      } as unknown as ChatPostMessageArguments),
    );
    if (!r.ok) return r;
    return { ok: true, attempts: r.attempts, ts: String(r.result.ts), channel: String(r.result.channel ?? channel) };
  }

  async update(channel: string, ts: string, message: AppMessage): Promise<SlackCallOutcome> {
    const r = await this.call('update', { key: 'update', intervalMs: this.o.updateIntervalMs, burst: this.o.updateBurst }, () =>
      this.client.chat.update({
        channel,
        ts,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks as never } : {}),
        ...(message.attachments ? { attachments: message.attachments as never } : {}),
      } as unknown as ChatUpdateArguments),
    );
    return r.ok ? { ok: true, attempts: r.attempts } : r;
  }

  /**
   * The upload flow Slack documents for files: reserve an upload URL for the size, POST the bytes
   * there, then complete the upload into the channel's thread.
   * https://docs.slack.dev/messaging/working-with-files#uploading_files
   */
  async uploadImage(channel: string, threadTs: string, png: Uint8Array, meta: { filename: string; title: string; altText: string }): Promise<SlackCallOutcome> {
    const reserved = await this.call('getUploadURLExternal', undefined, () => this.client.files.getUploadURLExternal({ filename: meta.filename, length: png.byteLength, alt_text: meta.altText }));
    if (!reserved.ok) return reserved;
    const { upload_url: url, file_id: id } = reserved.result;
    if (!url || !id) return { ok: false, attempts: 1, permanent: true, error: 'getUploadURLExternal returned no upload_url/file_id' };
    this.counts.upload++;
    try {
      const res = await this.fetchFn(url, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: png,
        signal: AbortSignal.timeout(this.o.requestTimeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status !== 200) return { ok: false, attempts: 1, permanent: false, error: `upload URL answered HTTP ${res.status}` };
    } catch (err) {
      return { ok: false, attempts: 1, permanent: false, error: redactToken(`upload failed: ${(err as Error).message}`) };
    }
    const done = await this.call('completeUploadExternal', undefined, () =>
      this.client.files.completeUploadExternal({ files: [{ id, title: meta.title }], channel_id: channel, thread_ts: threadTs }),
    );
    return done.ok ? { ok: true, attempts: done.attempts } : done;
  }
}
