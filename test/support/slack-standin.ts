/**
 * A stand-in for the Slack Web API on 127.0.0.1, enough for app mode: `auth.test`, `chat.postMessage`,
 * `chat.update`, `files.getUploadURLExternal`, the upload URL it hands out, and
 * `files.completeUploadExternal`. It answers the way Slack documents it: HTTP 200 with
 * `{"ok": false, "error": "channel_not_found"}` for API errors, HTTP 429 with `Retry-After` (seconds)
 * when a rate limit is exceeded (https://docs.slack.dev/apis/web-api/rate-limits), bodies as
 * `application/x-www-form-urlencoded` or JSON, the token in `Authorization: Bearer`.
 *
 * Limits: `chat.postMessage` per channel as a token bucket (default: 1 per second, burst 5), and
 * `chat.update` workspace-wide (default 50 per minute, burst 5).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';

export interface StandinMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  broadcast?: boolean;
  updates: number;
  files: string[];
}

export interface StandinCall {
  method: string;
  at: number;
  status: number;
  body: Record<string, unknown>;
  error?: string;
}

export interface StandinOptions {
  readonly token?: string;
  readonly channels?: readonly string[];
  readonly postPerSecond?: number;
  readonly postBurst?: number;
  readonly updatePerMinute?: number;
  readonly updateBurst?: number;
  /** Extra latency per API response, ms. */
  readonly latencyMs?: number;
}

interface Bucket {
  tokens: number;
  last: number;
}

export class SlackStandin {
  public readonly calls: StandinCall[] = [];
  public readonly messages = new Map<string, StandinMessage>();
  public readonly uploads = new Map<string, { filename: string; length: number; bytes?: Buffer; alt?: string; completed: boolean }>();
  /** Every Authorization header seen that was not the expected token (should stay empty). */
  public readonly badAuth: string[] = [];
  private server!: http.Server;
  private seq = 0;
  private readonly buckets = new Map<string, Bucket>();
  public url = '';
  public readonly token: string;

  constructor(private readonly o: StandinOptions = {}) {
    this.token = o.token ?? 'xoxb-1111-2222-standintokenSECRET';
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  count(method: string, status = 200): number {
    return this.calls.filter((c) => c.method === method && c.status === status).length;
  }

  get rateLimited(): number {
    return this.calls.filter((c) => c.status === 429).length;
  }

  /** Top-level messages (not replies) in a channel, oldest first. */
  parents(channel?: string): StandinMessage[] {
    return [...this.messages.values()].filter((m) => !m.threadTs && (!channel || m.channel === channel));
  }

  replies(ts: string): StandinMessage[] {
    return [...this.messages.values()].filter((m) => m.threadTs === ts);
  }

  private take(key: string, perMs: number, burst: number): number {
    const now = Date.now();
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { tokens: burst, last: now }));
    b.tokens = Math.min(burst, b.tokens + (now - b.last) / perMs);
    b.last = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - b.tokens) * perMs) / 1000));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const path = (req.url ?? '').split('?')[0];
    if (this.o.latencyMs) await new Promise((r) => setTimeout(r, this.o.latencyMs));

    if (path.startsWith('/upload/')) {
      const id = path.slice('/upload/'.length);
      const u = this.uploads.get(id);
      this.calls.push({ method: 'upload', at: Date.now(), status: u ? 200 : 404, body: { id, bytes: raw.length } });
      if (!u) return void res.writeHead(404).end('not found');
      u.bytes = raw;
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${raw.length}`);
    }

    const method = path.replace(/^\/api\//, '');
    const type = req.headers['content-type'] ?? '';
    let body: Record<string, unknown> = {};
    if (type.includes('application/json')) body = JSON.parse(raw.toString('utf8') || '{}');
    else body = parseQuery(raw.toString('utf8')) as Record<string, unknown>;
    for (const k of ['blocks', 'attachments', 'files']) {
      if (typeof body[k] === 'string') body[k] = JSON.parse(body[k] as string);
    }
    const reply = (status: number, payload: Record<string, unknown>, headers: Record<string, string> = {}) => {
      this.calls.push({ method, at: Date.now(), status, body, error: payload.ok === false ? String(payload.error) : undefined });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(payload));
    };

    const auth = req.headers.authorization ?? (body.token ? `Bearer ${body.token}` : '');
    if (auth !== `Bearer ${this.token}`) {
      this.badAuth.push(auth);
      return reply(200, { ok: false, error: auth ? 'invalid_auth' : 'not_authed' });
    }
    const channelKnown = (c: unknown) => typeof c === 'string' && (!this.o.channels || this.o.channels.includes(c));

    switch (method) {
      case 'auth.test':
        return reply(200, { ok: true, url: 'https://standin.slack.com/', team: 'Stand-in', user: 'platform-alerts', team_id: 'T0STANDIN1', user_id: 'U0STANDIN1', bot_id: 'B0STANDIN1' });
      case 'chat.postMessage': {
        if (!channelKnown(body.channel)) return reply(200, { ok: false, error: 'channel_not_found' });
        if (!body.text && !body.blocks && !body.attachments) return reply(200, { ok: false, error: 'no_text' });
        const wait = this.take(`post:${body.channel}`, 1000 / (this.o.postPerSecond ?? 1), this.o.postBurst ?? 5);
        if (wait) return reply(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(wait) });
        const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
        if (threadTs && !this.messages.has(threadTs)) return reply(200, { ok: false, error: 'thread_not_found' });
        const ts = `1764980000.${String(++this.seq).padStart(6, '0')}`;
        const m: StandinMessage = { channel: String(body.channel), ts, threadTs, text: String(body.text ?? ''), blocks: body.blocks as unknown[], attachments: body.attachments as unknown[], broadcast: body.reply_broadcast === 'true' || body.reply_broadcast === true, updates: 0, files: [] };
        this.messages.set(ts, m);
        return reply(200, { ok: true, channel: m.channel, ts, message: { text: m.text, ts } });
      }
      case 'chat.update': {
        const m = typeof body.ts === 'string' ? this.messages.get(body.ts) : undefined;
        if (!channelKnown(body.channel)) return reply(200, { ok: false, error: 'channel_not_found' });
        if (!m || m.channel !== body.channel) return reply(200, { ok: false, error: 'message_not_found' });
        const wait = this.take('update', 60_000 / (this.o.updatePerMinute ?? 50), this.o.updateBurst ?? 5);
        if (wait) return reply(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(wait) });
        m.text = String(body.text ?? m.text);
        if (body.blocks) m.blocks = body.blocks as unknown[];
        if (body.attachments) m.attachments = body.attachments as unknown[];
        m.updates++;
        return reply(200, { ok: true, channel: m.channel, ts: m.ts, text: m.text });
      }
      case 'files.getUploadURLExternal': {
        const length = Number(body.length);
        if (!body.filename || !Number.isInteger(length) || length <= 0) return reply(200, { ok: false, error: 'invalid_arguments' });
        const id = `F${String(++this.seq).padStart(8, '0')}`;
        this.uploads.set(id, { filename: String(body.filename), length, alt: body.alt_text as string | undefined, completed: false });
        return reply(200, { ok: true, upload_url: `${this.url}/upload/${id}`, file_id: id });
      }
      case 'files.completeUploadExternal': {
        const files = body.files as { id: string; title?: string }[] | undefined;
        if (!Array.isArray(files) || files.length === 0) return reply(200, { ok: false, error: 'invalid_arguments' });
        if (body.channel_id && !channelKnown(body.channel_id)) return reply(200, { ok: false, error: 'channel_not_found' });
        for (const f of files) {
          const u = this.uploads.get(f.id);
          if (!u || !u.bytes) return reply(200, { ok: false, error: 'file_not_found' });
          if (u.bytes.length !== u.length) return reply(200, { ok: false, error: 'file_size_mismatch' });
        }
        const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
        for (const f of files) {
          this.uploads.get(f.id)!.completed = true;
          if (threadTs) this.messages.get(threadTs)?.files.push(f.id);
        }
        return reply(200, { ok: true, files: files.map((f) => ({ id: f.id, title: f.title })) });
      }
      default:
        return reply(200, { ok: false, error: 'unknown_method' });
    }
  }
}
