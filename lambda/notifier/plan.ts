/**
 * Turns a batch of rendered notifications into Slack posts: one post each in quiet times, digest
 * posts when many arrive together (an alarm storm), so that 100 transitions become a handful of
 * posts that still name every alarm. Critical problems @-mention the configured audience once.
 * Standalone notifications (self-rendered ones such as the db-health digest) are always a post of
 * their own, without a mention, and do not count towards the storm threshold.
 */
import { chunkLines, context, enforceLimits, header, section } from './slack';
import { COLOURS } from './format';
import type { Block, Post, Rendered, Severity, SlackMessage } from './types';
import { SEVERITIES } from './types';

export interface PlanOptions {
  /** More notifications than this for one webhook in one batch are merged into digests. @default 5 */
  readonly stormThreshold?: number;
  /** Lines per digest post. @default 40 */
  readonly linesPerPost?: number;
  /** `none`, `here`, `channel` or a user-group ID (`S0123ABCD`). @default 'none' */
  readonly criticalMention?: string;
  /** Environment name for digest headers. */
  readonly environment?: string;
}

/** The Slack token for a configured mention, or undefined for `none`. */
export function mentionToken(mention: string | undefined): string | undefined {
  const m = (mention ?? 'none').trim().replace(/^@/, '');
  if (m === '' || m === 'none') return undefined;
  if (m === 'here' || m === '<!here>') return '<!here>';
  if (m === 'channel' || m === '<!channel>') return '<!channel>';
  const group = /^(?:<!subteam\^)?(S[A-Z0-9]{6,})(?:(?:\|[^>]*)?>)?$/.exec(m);
  if (group) return `<!subteam^${group[1]}>`;
  return undefined;
}

/** Adds the mention where Slack honours it: the `text` and a mrkdwn section (not the header). */
export function withMention(message: SlackMessage, token: string | undefined): SlackMessage {
  if (!token) return message;
  const blocks = message.blocks ?? [];
  const [first, ...rest] = blocks;
  const mentionBlock = section(`${token} please take a look.`);
  return enforceLimits({
    ...message,
    text: `${token} ${message.text}`,
    blocks: first && first.type === 'header' ? [first, mentionBlock, ...rest] : [mentionBlock, ...blocks],
  });
}

const ids = (rs: readonly Rendered[]) => rs.map((r) => r.item.envelope.itemId).filter((id): id is string => !!id);

function digest(severity: Severity, part: readonly Rendered[], index: number, parts: number, total: readonly Rendered[], opts: PlanOptions): SlackMessage {
  const bad = total.filter((r) => r.bad).length;
  const good = total.length - bad;
  const env = opts.environment ? ` in ${opts.environment}` : '';
  const suffix = parts > 1 ? ` (part ${index + 1}/${parts})` : '';
  const title = `🌩️ ${total.length} notifications${env}: ${bad} problem${bad === 1 ? '' : 's'}, ${good} other${suffix}`;
  const blocks: Block[] = [header(title), ...chunkLines(part.map((r) => r.line)).map(section)];
  const note = context(`${severity} · ${total.length} arrived together, so they are listed here instead of one post each. Each line links to its alarm.`);
  return enforceLimits({
    text: title,
    blocks: [blocks[0]],
    attachments: [{ color: part.some((r) => r.bad) ? COLOURS.alarm : COLOURS.ok, blocks: [...blocks.slice(1), ...(note ? [note] : [])] }],
  });
}

/** Plans the posts for one batch; the result is in delivery order (critical first). */
export function planPosts(rendered: readonly Rendered[], opts: PlanOptions = {}): Post[] {
  const stormThreshold = opts.stormThreshold ?? 5;
  const perPost = Math.max(1, opts.linesPerPost ?? 40);
  const token = mentionToken(opts.criticalMention);
  const posts: Post[] = [];
  for (const severity of SEVERITIES) {
    const all = rendered.filter((r) => r.item.severity === severity);
    if (all.length === 0) continue;
    const mention = severity === 'critical' ? token : undefined;
    const single = (r: Rendered): Post => ({
      severity,
      message: r.bad && !r.standalone ? withMention(r.message, mention) : r.message,
      itemIds: ids([r]),
      count: 1,
      digest: false,
    });
    const standalone = all.filter((r) => r.standalone);
    const group = all.filter((r) => !r.standalone);
    if (group.length <= stormThreshold) {
      for (const r of [...all].sort((a, b) => a.at - b.at)) posts.push(single(r));
      continue;
    }
    // Problems first (they need eyes), each part in time order.
    const ordered = [...group].sort((a, b) => Number(b.bad) - Number(a.bad) || a.at - b.at);
    const parts: Rendered[][] = [];
    for (let i = 0; i < ordered.length; i += perPost) parts.push(ordered.slice(i, i + perPost));
    parts.forEach((part, i) => {
      const msg = digest(severity, part, i, parts.length, group, opts);
      posts.push({
        severity,
        message: i === 0 && group.some((r) => r.bad) ? withMention(msg, mention) : msg,
        itemIds: ids(part),
        count: part.length,
        digest: true,
      });
    });
    for (const r of [...standalone].sort((a, b) => a.at - b.at)) posts.push(single(r));
  }
  return posts;
}
