/**
 * Slack app mode's deliver step: the same rendered notifications and planned posts as webhook mode,
 * delivered through the Web API so that each alarm gets one thread.
 *
 * - Quiet batches: an alarm's first ALARM posts a parent (with a status line and a Runbook button) and
 *   opens a thread; later transitions reply there and the parent is updated in place; RDS,
 *   ElastiCache and Backup events about a resource with an open thread join it (broadcast to the
 *   channel when they are bad news).
 * - Storms: the digest posts go out as in webhook mode (few posts), and every alarm of the storm
 *   that has a thread gets its parent updated to its final state, paced within Tier 3.
 * - The thread table is only an index: when it cannot be read or written, the message is posted
 *   without threading. A message is never dropped because of it.
 */
import { runbookUrl, alarmConsoleUrl } from '../families/alarms';
import type { PostResult } from '../notify';
import { mentionToken, withMention, type PlanOptions } from '../plan';
import type { AlarmTransition, Post, Rendered, Severity, SlackMessage } from '../types';
import type { AppMessage, SlackApi } from './slack-web';
import type { ThreadStore } from './thread-store';
import { alarmResources, alarmThreadKey, applyTransition, decide, eventResource, newThread, parentStatus, threadOpen, type ThreadRecord } from './threads';

export interface AppLogger {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** Renders an alarm's graph as PNG bytes, or undefined when it cannot in time (see graph.ts). */
export type GraphRenderer = (alarm: AlarmTransition) => Promise<Uint8Array | undefined>;

export interface AppDeliveryOptions {
  /** Slack channel ID per severity. */
  readonly channels: Readonly<Record<Severity, string>>;
  /** An ALARM this long after a resolution opens a new thread. @default 360 */
  readonly rethreadAfterMinutes?: number;
  /** How long a second invocation waits for the winner of a thread claim to post the parent. @default 3000 */
  readonly claimWaitMs?: number;
  /** Graph for ALARM transitions; omitted = no graphs. */
  readonly graph?: GraphRenderer;
  /** @default Date.now */
  readonly now?: () => number;
  readonly logger?: AppLogger;
}

const silent: AppLogger = { debug() {}, info() {}, warn() {}, error() {} };
const STATUS_BLOCK = 'thread-status';

/** The parent: the rendered message with a status line under its header and link buttons at the end. */
export function parentMessage(base: SlackMessage, record: ThreadRecord, links: { runbook?: string; console?: string }): AppMessage {
  const status = parentStatus(record);
  const blocks: unknown[] = [...(base.blocks ?? [])];
  const at = blocks.length && (blocks[0] as { type?: string }).type === 'header' ? 1 : 0;
  blocks.splice(at, 0, { type: 'context', block_id: STATUS_BLOCK, elements: [{ type: 'mrkdwn', text: status }] });
  const buttons = [
    links.runbook ? { type: 'button', text: { type: 'plain_text', text: '📖 Runbook' }, url: links.runbook, action_id: 'runbook' } : undefined,
    links.console ? { type: 'button', text: { type: 'plain_text', text: 'CloudWatch' }, url: links.console, action_id: 'console' } : undefined,
  ].filter(Boolean);
  if (buttons.length) blocks.push({ type: 'actions', block_id: 'thread-links', elements: buttons });
  const resolved = record.state === 'OK';
  const attachments = base.attachments?.map((a) => ({ ...a, color: resolved ? '#2EB67D' : a.color }));
  return { text: `${status} — ${record.title}`, blocks, ...(attachments ? { attachments } : {}) };
}

const linksOf = (a: AlarmTransition) => ({ runbook: runbookUrl(a.description), console: alarmConsoleUrl(a.name, a.region) });

export class AppDelivery {
  private readonly log: AppLogger;
  private readonly now: () => number;

  constructor(
    private readonly slack: SlackApi,
    private readonly store: ThreadStore | undefined,
    private readonly o: AppDeliveryOptions,
  ) {
    this.log = o.logger ?? silent;
    this.now = o.now ?? (() => Date.now());
  }

  /** Delivers one batch; the result has one entry per post (or per thread reply) with its outcome. */
  async deliver(rendered: readonly Rendered[], posts: readonly Post[], plan: PlanOptions): Promise<PostResult[]> {
    const results: PostResult[] = [];
    const stormThreshold = plan.stormThreshold ?? 5;
    const token = mentionToken(plan.criticalMention);
    for (const severity of ['critical', 'warning', 'info'] as const) {
      const all = rendered.filter((r) => r.item.severity === severity);
      if (!all.length) continue;
      const group = all.filter((r) => !r.standalone);
      const channel = this.o.channels[severity];
      if (group.length > stormThreshold) {
        for (const p of posts.filter((p) => p.severity === severity && p.digest)) {
          const out = await this.slack.postMessage(channel, p.message);
          results.push({ post: p, outcome: out.ok ? { ok: true, attempts: out.attempts, status: 200, degraded: false } : { ok: false, attempts: out.attempts, permanent: out.permanent, error: out.error } });
        }
        await this.updateParentsAfterStorm(group);
        for (const r of all.filter((r) => r.standalone)) results.push(await this.single(r, channel, r.message));
        continue;
      }
      for (const r of [...all].sort((a, b) => a.at - b.at)) {
        const message = r.bad && !r.standalone && severity === 'critical' ? withMention(r.message, token) : r.message;
        results.push(await this.single(r, channel, message));
      }
    }
    return results;
  }

  private post(r: Rendered, message: SlackMessage): Post {
    const id = r.item.envelope.itemId;
    return { severity: r.item.severity, message, itemIds: id ? [id] : [], count: 1, digest: false };
  }

  private async single(r: Rendered, channel: string, message: SlackMessage): Promise<PostResult> {
    const n = r.item.notification;
    const post = this.post(r, message);
    const outcome = (o: { ok: boolean; attempts: number; permanent?: boolean; error?: string }): PostResult => ({
      post,
      outcome: o.ok ? { ok: true, attempts: o.attempts, status: 200, degraded: false } : { ok: false, attempts: o.attempts, permanent: !!o.permanent, error: o.error ?? 'failed' },
    });
    if (n.kind === 'alarm') return outcome(await this.alarm(n.alarm, channel, message));
    const resource = eventResource(n);
    if (resource && this.store) {
      const thread = await this.safe(async () => {
        const key = await this.store!.resourceThread(resource);
        const rec = key ? await this.store!.get(key) : undefined;
        return rec?.ts && threadOpen(rec) ? rec : undefined;
      });
      if (thread) {
        const out = await this.slack.postMessage(thread.channel, message, { ts: thread.ts!, broadcast: r.bad });
        if (out.ok) return outcome(out);
        this.log.warn('thread reply failed; posting to the channel', { error: out.error });
      }
    }
    return outcome(await this.slack.postMessage(channel, message));
  }

  /** Runs a store call; an error means "no threading" for this message, never a lost message. */
  private async safe<T>(fn: () => Promise<T>): Promise<T | undefined> {
    if (!this.store) return undefined;
    try {
      return await fn();
    } catch (err) {
      this.log.warn('thread table unavailable; posting without threading', { error: (err as Error).name ?? 'error' });
      return undefined;
    }
  }

  private async alarm(a: AlarmTransition, channel: string, message: SlackMessage): Promise<{ ok: boolean; attempts: number; permanent?: boolean; error?: string }> {
    const key = alarmThreadKey(a);
    const at = a.changedAt?.getTime() ?? this.now();
    let storeOk = !!this.store;
    let existing: ThreadRecord | undefined;
    if (this.store) {
      try {
        existing = await this.store.get(key);
      } catch (err) {
        storeOk = false;
        this.log.warn('thread table unavailable; posting without threading', { error: (err as Error).name ?? 'error' });
      }
    }
    if (!storeOk) return this.slack.postMessage(channel, message);

    for (let round = 0; round < 3; round++) {
      const d = decide(existing, a.newState, at, { rethreadAfterMinutes: this.o.rethreadAfterMinutes });
      if (d.action === 'duplicate') {
        this.log.info('duplicate transition; already in its thread', { alarm: a.name });
        return { ok: true, attempts: 0 };
      }
      if (d.action === 'post') return this.slack.postMessage(channel, message);
      if (d.action === 'reply') return this.reply(d.thread, a, at, message, d.updateParent);

      // open: claim the alarm's item first, so that a concurrent invocation replies instead.
      const claim = newThread(key, channel, a.name, a.newState, at, alarmResources(a), this.now(), existing);
      const won = await this.safe(() => this.store!.put(claim, existing?.version));
      if (won === undefined) return this.slack.postMessage(channel, message);
      if (!won) {
        existing = await this.waitForParent(key);
        if (!existing?.ts) return this.slack.postMessage(channel, message);
        continue;
      }
      const links = linksOf(a);
      const parent = await this.slack.postMessage(channel, parentMessage(message, claim, links));
      if (!parent.ok) return parent;
      const rec: ThreadRecord = { ...claim, ts: parent.ts, channel: parent.channel, parent: JSON.stringify(message), version: claim.version + 1 };
      const saved = await this.safe(() => this.store!.put(rec, claim.version));
      if (saved) await this.safe(async () => Promise.all(rec.resources.map((res) => this.store!.pointResource(res, key))));
      await this.attachGraph(a, rec);
      return parent;
    }
    return this.slack.postMessage(channel, message);
  }

  private async waitForParent(key: string): Promise<ThreadRecord | undefined> {
    const until = this.now() + (this.o.claimWaitMs ?? 3000);
    for (;;) {
      const rec = await this.safe(() => this.store!.get(key));
      if (rec?.ts || this.now() >= until) return rec;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async reply(thread: ThreadRecord, a: AlarmTransition, at: number, message: SlackMessage, updateParent: boolean) {
    const out = await this.slack.postMessage(thread.channel, message, { ts: thread.ts! });
    if (!out.ok) return out;
    const next = await this.record(thread, a.newState, at);
    if (updateParent && next) await this.updateParent(next, a);
    if (a.newState === 'ALARM') await this.attachGraph(a, thread);
    return out;
  }

  /** Applies a transition to the record with optimistic locking (re-reading on conflict). */
  private async record(thread: ThreadRecord, state: string, at: number): Promise<ThreadRecord | undefined> {
    let current: ThreadRecord | undefined = thread;
    for (let i = 0; i < 4 && current; i++) {
      const next = applyTransition(current, state, at);
      const ok = await this.safe(() => this.store!.put(next, current!.version));
      if (ok) return next;
      if (ok === undefined) return undefined;
      current = await this.safe(() => this.store!.get(thread.key));
      if (current && decide(current, state, at).action === 'duplicate') return undefined;
    }
    return undefined;
  }

  private async updateParent(rec: ThreadRecord, a: Pick<AlarmTransition, 'description' | 'name' | 'region'>): Promise<void> {
    if (!rec.ts || !rec.parent) return;
    const base = JSON.parse(rec.parent) as SlackMessage;
    const out = await this.slack.update(rec.channel, rec.ts, parentMessage(base, rec, linksOf(a as AlarmTransition)));
    if (!out.ok) this.log.warn('parent update failed', { alarm: rec.title, error: out.error });
  }

  /** After a storm's digests: each alarm's parent shows its final state (newest transition per alarm). */
  private async updateParentsAfterStorm(group: readonly Rendered[]): Promise<void> {
    if (!this.store) return;
    const newest = new Map<string, AlarmTransition>();
    for (const r of group) {
      const n = r.item.notification;
      if (n.kind !== 'alarm') continue;
      const key = alarmThreadKey(n.alarm);
      const prev = newest.get(key);
      if (!prev || (n.alarm.changedAt?.getTime() ?? 0) >= (prev.changedAt?.getTime() ?? 0)) newest.set(key, n.alarm);
    }
    // One invocation can update about 70 parents (Tier 3, ~50/min, in an 85 s budget); past that a
    // parent keeps its old state until the alarm's next transition. Parents of alarms that are in
    // ALARM now go first: a parent that wrongly shows "resolved" hides a live problem, while one
    // that still shows ALARM after a recovery only costs a look.
    const ordered = [...newest].sort(([, x], [, y]) => Number(y.newState === 'ALARM') - Number(x.newState === 'ALARM'));
    for (const [key, a] of ordered) {
      const rec = await this.safe(() => this.store!.get(key));
      if (!rec?.ts) continue;
      const at = a.changedAt?.getTime() ?? this.now();
      const d = decide(rec, a.newState, at, { rethreadAfterMinutes: this.o.rethreadAfterMinutes });
      if (d.action !== 'reply' || !d.updateParent) continue;
      const next = await this.record(rec, a.newState, at);
      if (next) await this.updateParent(next, a);
    }
  }

  private async attachGraph(a: AlarmTransition, rec: ThreadRecord): Promise<void> {
    if (!this.o.graph || !rec.ts || (a.kind !== 'metric' && a.kind !== 'math')) return;
    const png = await this.o.graph(a).catch(() => undefined);
    if (!png) return;
    const out = await this.slack.uploadImage(rec.channel, rec.ts, png, { filename: `${a.name}.png`, title: `${a.name}: the last 3 hours`, altText: `Graph of ${a.name} around its ${a.newState} transition` });
    if (!out.ok) this.log.warn('graph upload failed; the message went out without it', { alarm: a.name, error: out.error });
  }
}
