/**
 * Slack app mode, the pure part: which thread a notification belongs to, whether it opens a new
 * thread, replies in one, or is a plain post, and what the parent message says about the alarm's
 * state now ("🔴 ALARM since 01:15" → "✅ resolved after 14 min"). No I/O: the store and the Slack
 * client live in thread-store.ts and slack-web.ts.
 */
import type { AlarmTransition, Notification } from '../types';

/** What the table keeps per alarm: where its thread is and what the parent shows. */
export interface ThreadRecord {
  /** `alarm:<account>:<region>:<name>`. */
  readonly key: string;
  /** Slack channel ID of the thread. */
  readonly channel: string;
  /** The parent message's `ts`; absent while the thread is being opened (claimed, not yet posted). */
  readonly ts?: string;
  /** Alarm name, for the parent and the logs. */
  readonly title: string;
  /** `ALARM`, `OK` or `INSUFFICIENT_DATA`. */
  readonly state: string;
  /** When the thread was opened (ms since epoch). */
  readonly openedAt: number;
  /** When the current state began (ms). */
  readonly stateSince: number;
  /** When the first ALARM of the current episode began (ms), for "resolved after 14 min". */
  readonly alarmSince?: number;
  /** StateChangeTime of the newest transition applied (ms); older or equal ones are duplicates or late. */
  readonly lastChangeAt: number;
  /** Transitions applied to this thread (the parent's counter). */
  readonly transitions: number;
  /** The parent message as first posted (JSON of text + blocks + attachments), re-sent with a new status on update. */
  readonly parent?: string;
  /** Resources the alarm watches (`rds:prod-postgres`), so their events can join the thread. */
  readonly resources: readonly string[];
  /** Optimistic-locking version; every write increments it. */
  readonly version: number;
}

export type ThreadDecision =
  /** Post a parent and open a thread for the alarm. */
  | { readonly action: 'open' }
  /** Reply in the thread and bring the parent up to date. */
  | { readonly action: 'reply'; readonly thread: ThreadRecord; readonly updateParent: boolean }
  /** Already applied (SNS and SQS deliver at least once): nothing to post. */
  | { readonly action: 'duplicate'; readonly thread: ThreadRecord }
  /** Not part of a thread: post it as a message of its own (an OK for an alarm without a thread). */
  | { readonly action: 'post' };

export interface ThreadOptions {
  /** An alarm that fires again more than this long after it was resolved starts a new thread. @default 360 */
  readonly rethreadAfterMinutes?: number;
}

export const DEFAULT_RETHREAD_AFTER_MINUTES = 360;

const isProblem = (state: string) => state === 'ALARM';
const isOpen = (r: ThreadRecord) => r.state !== 'OK';

/** The thread key of an alarm: names are unique per account and region. */
export function alarmThreadKey(a: Pick<AlarmTransition, 'name' | 'accountId' | 'region' | 'arn'>): string {
  const fromArn = a.arn?.split(':');
  const region = a.region ?? fromArn?.[3] ?? '';
  const account = a.accountId ?? fromArn?.[4] ?? '';
  return `alarm:${account}:${region}:${a.name}`;
}

/** Dimension → resource kind, for the resources an alarm watches. */
const RESOURCE_DIMENSIONS: Readonly<Record<string, string>> = {
  DBInstanceIdentifier: 'rds',
  CacheClusterId: 'elasticache',
  ReplicationGroupId: 'elasticache-group',
  InstanceId: 'ec2',
  VolumeId: 'ebs',
};

/** The resources an alarm watches (`rds:prod-postgres`, `elasticache:prod-cache-001`), from its metrics' dimensions. */
export function alarmResources(a: Pick<AlarmTransition, 'metrics'>): string[] {
  const out = new Set<string>();
  for (const m of a.metrics) {
    for (const [name, value] of Object.entries(m.dimensions)) {
      const kind = RESOURCE_DIMENSIONS[name];
      if (kind && value) out.add(`${kind}:${value}`);
    }
  }
  return [...out];
}

/** The resource a service event is about, in the same form, or undefined. */
export function eventResource(n: Notification): string | undefined {
  switch (n.kind) {
    case 'rds-event':
      return n.event.sourceId ? `rds:${n.event.sourceId}` : undefined;
    case 'elasticache': {
      // ElastiCache notifications are `{ "ElastiCache:FailoverComplete": "<cluster or node id>" }`.
      const v = n.events.find((e) => e.value)?.value;
      return v ? `elasticache:${v.split(':').pop()}` : undefined;
    }
    case 'backup':
      return n.job.resourceArn ? arnResource(n.job.resourceArn) : undefined;
    default:
      return undefined;
  }
}

/** `arn:aws:rds:…:db:prod-postgres` → `rds:prod-postgres`; `…:volume/vol-1` → `ebs:vol-1`. */
export function arnResource(arn: string): string | undefined {
  const p = arn.split(':');
  if (p.length < 6) return undefined;
  const [service, rest] = [p[2], p.slice(5).join(':')];
  if (service === 'rds' && rest.startsWith('db:')) return `rds:${rest.slice(3)}`;
  if (service === 'ec2' && rest.startsWith('volume/')) return `ebs:${rest.slice(7)}`;
  if (service === 'ec2' && rest.startsWith('instance/')) return `ec2:${rest.slice(9)}`;
  if (service === 'elasticache' && rest.startsWith('cluster:')) return `elasticache:${rest.slice(8)}`;
  return undefined;
}

/**
 * What to do with an alarm transition given the alarm's thread (if any):
 * - no thread: an ALARM opens one; anything else is a post of its own;
 * - a transition at or before the last one applied, in the same state, is a duplicate;
 * - an open thread (ALARM, INSUFFICIENT_DATA) takes every transition as a reply;
 * - a resolved thread takes the reply too, unless an ALARM comes more than
 *   `rethreadAfterMinutes` after the resolution: then a new thread starts.
 */
export function decide(existing: ThreadRecord | undefined, state: string, changedAt: number, opts: ThreadOptions = {}): ThreadDecision {
  if (!existing || !existing.ts) return isProblem(state) ? { action: 'open' } : { action: 'post' };
  if (changedAt <= existing.lastChangeAt && state === existing.state) return { action: 'duplicate', thread: existing };
  if (changedAt < existing.lastChangeAt) return { action: 'reply', thread: existing, updateParent: false };
  const window = (opts.rethreadAfterMinutes ?? DEFAULT_RETHREAD_AFTER_MINUTES) * 60_000;
  if (!isOpen(existing) && isProblem(state) && changedAt - existing.stateSince > window) return { action: 'open' };
  return { action: 'reply', thread: existing, updateParent: true };
}

/** The record after applying a transition (pure; the caller writes it conditionally on `version`). */
export function applyTransition(r: ThreadRecord, state: string, changedAt: number): ThreadRecord {
  if (changedAt < r.lastChangeAt) return { ...r, transitions: r.transitions + 1, version: r.version + 1 };
  const sameState = state === r.state;
  // A new ALARM episode starts only after a resolution; ALARM → INSUFFICIENT_DATA → ALARM is one episode.
  const alarmSince = isProblem(state) ? (isOpen(r) && r.alarmSince !== undefined ? r.alarmSince : changedAt) : r.alarmSince;
  return {
    ...r,
    state,
    stateSince: sameState ? r.stateSince : changedAt,
    alarmSince,
    lastChangeAt: changedAt,
    transitions: r.transitions + 1,
    version: r.version + 1,
  };
}

/** A new thread's record, before its parent is posted (`ts` absent: the claim). */
export function newThread(key: string, channel: string, title: string, state: string, changedAt: number, resources: readonly string[], now: number, previous?: ThreadRecord): ThreadRecord {
  return {
    key,
    channel,
    title,
    state,
    openedAt: now,
    stateSince: changedAt,
    alarmSince: isProblem(state) ? changedAt : undefined,
    lastChangeAt: changedAt,
    transitions: 1,
    resources: [...resources],
    version: (previous?.version ?? 0) + 1,
  };
}

const EMOJI: Readonly<Record<string, string>> = { ALARM: '🔴', OK: '✅', INSUFFICIENT_DATA: '⚪' };

/** "14 min", "2 h 5 min", "45 s". */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  const rest = m % 60;
  if (h < 48) return rest ? `${h} h ${rest} min` : `${h} h`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/**
 * The parent's status line: what the channel shows at a glance.
 *   🔴 ALARM since 01:15 UTC
 *   🔴 ALARM → ✅ resolved after 14 min (01:15–01:29 UTC)
 *   ⚪ INSUFFICIENT_DATA since 01:20 UTC (🔴 ALARM from 01:15)
 */
export function parentStatus(r: ThreadRecord): string {
  const count = r.transitions > 1 ? ` · ${r.transitions} transitions in this thread` : '';
  if (r.state === 'OK') {
    const from = r.alarmSince ?? r.openedAt;
    return `🔴 ALARM → ✅ resolved after ${humanDuration(r.stateSince - from)} (${hhmm(from)}–${hhmm(r.stateSince)} UTC)${count}`;
  }
  if (r.state === 'ALARM') return `🔴 ALARM since ${hhmm(r.alarmSince ?? r.stateSince)} UTC${count}`;
  const was = r.alarmSince ? ` (🔴 ALARM from ${hhmm(r.alarmSince)})` : '';
  return `${EMOJI[r.state] ?? '❔'} ${r.state} since ${hhmm(r.stateSince)} UTC${was}${count}`;
}

/** Whether the thread still needs attention (the parent is not showing a resolution). */
export const threadOpen = isOpen;
