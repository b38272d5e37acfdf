/**
 * A message that brings its own Slack rendering (`kind: 'db-health-digest'` from
 * lambda/db-health/digest.ts, `kind: 'cache-health-digest'` from lambda/cache-health/digest.ts): its `text` and `blocks` are posted as they are when they pass
 * `selfRenderedBlocks` and the text is a non-empty string within Slack's limit without a mention.
 * Otherwise it falls back to the generic text rendering of its `text` field (escaped there), or of
 * the raw message when it has no text, with the reason. Always a post of its own, never with a
 * mention, never merged into a storm digest.
 */
// contract.ts is dependency-free: importing the marker adds a few bytes to the bundle, not `pg`.
import { DIGEST_KIND as CACHE_DIGEST_KIND } from '../../cache-health/contract';
import { DIGEST_KIND } from '../../db-health/contract';
import { escFit, hasNotifyingToken, LIMITS, selfRenderedBlocks } from '../slack';
import type { Envelope, Notification } from '../types';
import { defineFamily } from './family';
import { date, isObject, str } from './kit';

type SelfRendered = Extract<Notification, { kind: 'self-rendered' }>;

/** The digests posted as they come (both contracts are dependency-free). */
const SELF_RENDERED_KINDS: ReadonlySet<unknown> = new Set([DIGEST_KIND, CACHE_DIGEST_KIND]);

function recognize(env: Envelope): Notification | undefined {
  const o = env.body;
  if (!isObject(o) || !SELF_RENDERED_KINDS.has(o.kind)) return undefined;
  const kind = String(o.kind);
  const title = str(o.title);
  const subject = env.subject ?? title;
  const text = str(o.text);
  if (text === undefined || text.trim() === '') return { kind: 'text', subject, text: env.raw, fallbackReason: `${kind} without text` };
  const checked = text.length > LIMITS.text
    ? { ok: false as const, reason: `text is ${text.length} characters (limit ${LIMITS.text})` }
    : hasNotifyingToken(text)
      ? { ok: false as const, reason: 'text contains a mention' }
      : selfRenderedBlocks(o.blocks);
  if (!checked.ok) return { kind: 'text', subject, text, fallbackReason: `${kind} blocks not posted: ${checked.reason}` };
  return { kind: 'self-rendered', source: kind, title, text, blocks: checked.blocks, at: date(o.generatedAt) };
}

export const dbHealthDigest = defineFamily<SelfRendered>({
  name: 'db-health-digest',
  kinds: ['self-rendered'],
  recognize,
  severity: () => undefined,
  render: (item) => {
    const n = item.notification;
    return {
      item,
      message: { text: n.text, blocks: n.blocks },
      line: `📊 ${escFit(n.title ?? n.source, 160)}`,
      bad: false,
      at: n.at?.getTime() ?? item.envelope.receivedAt?.getTime() ?? 0,
      standalone: true,
    };
  },
});
