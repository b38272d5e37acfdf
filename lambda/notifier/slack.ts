/**
 * Slack text safety and Block Kit limits. Everything that came from outside (alarm names,
 * descriptions, event messages) goes through `esc` so that `<!channel>`, `<@U123>` or
 * `<https://evil|docs>` inside it is shown as text and cannot ping or mislead anyone.
 */
import type { Block, SlackMessage, TextObject } from './types';
import { SLACK_LIMITS, escapeSlack } from '../shared/slack-text';

/** Block Kit and message limits (api.slack.com/reference/block-kit). */
export const LIMITS = SLACK_LIMITS;

/** Escapes the three characters Slack's mrkdwn gives meaning to. */
export const esc = escapeSlack;

/** Cuts `text` to at most `max` code points (never splitting a surrogate pair), marking the cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return chars.slice(0, Math.max(0, max - 1)).join('') + '…';
}

/** Escapes external text and fits the escaped result into `max` characters. */
export function escFit(raw: string, max: number): string {
  return fit(esc(raw), max);
}

/** Only http(s) URLs, and only characters that cannot break out of `<url|label>`. */
export function safeUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  const href = parsed.href.replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E');
  return href;
}

/** A mrkdwn link; the label is escaped, the URL sanitised. Falls back to the label alone. */
export function link(url: string | undefined, label: string): string {
  const safe = safeUrl(url);
  return safe ? `<${safe}|${esc(label)}>` : esc(label);
}

/** A Slack date token, shown in each reader's own time zone, with a UTC fallback. */
export function slackDate(date: Date, format = '{date_short_pretty} {time_secs}'): string {
  const unix = Math.floor(date.getTime() / 1000);
  const fallback = date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return `<!date^${unix}^${format}|${fallback}>`;
}

/** `3m 20s`, `2h 5m`, `1d 3h`: the two largest units. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'unknown';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const units: [number, string][] = [
    [86400, 'd'],
    [3600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [size, unit] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

export const mrkdwn = (text: string): TextObject => ({ type: 'mrkdwn', text: fit(text, LIMITS.sectionText) });
export const plain = (text: string): TextObject => ({ type: 'plain_text', text: fit(text, LIMITS.header), emoji: true });

export function header(text: string): Block {
  return { type: 'header', text: { type: 'plain_text', text: fit(text, LIMITS.header), emoji: true } };
}

export function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: fit(text, LIMITS.sectionText) } };
}

export function fields(pairs: readonly (readonly [string, string | undefined])[]): Block | undefined {
  const present = pairs.filter((p): p is readonly [string, string] => p[1] !== undefined && p[1] !== '');
  if (present.length === 0) return undefined;
  return {
    type: 'section',
    fields: present.slice(0, LIMITS.fields).map(([k, v]) => ({ type: 'mrkdwn', text: fit(`*${k}*\n${v}`, LIMITS.field) })),
  };
}

export function context(...elements: (string | undefined)[]): Block | undefined {
  const present = elements.filter((e): e is string => !!e);
  if (present.length === 0) return undefined;
  return { type: 'context', elements: present.slice(0, LIMITS.contextElements).map((e) => ({ type: 'mrkdwn', text: fit(e, LIMITS.field) })) };
}

/** Splits lines into section-sized chunks (each at most `max` characters). */
export function chunkLines(lines: readonly string[], max = LIMITS.sectionText): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = fit(raw, max);
    if (current && current.length + 1 + line.length > max) {
      chunks.push(current);
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) chunks.push(current);
  return chunks;
}

/**
 * Cuts already-escaped mrkdwn to `max` characters without leaving half an entity (`&am`) or half a
 * `<…>` token at the end.
 */
export function fit(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  const lastAmp = cut.lastIndexOf('&');
  if (lastAmp >= 0 && !cut.slice(lastAmp).includes(';')) cut = cut.slice(0, lastAmp);
  const lastOpen = cut.lastIndexOf('<');
  if (lastOpen >= 0 && !cut.slice(lastOpen).includes('>')) cut = cut.slice(0, lastOpen);
  // Do not leave a lone high surrogate.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + '…';
}

/**
 * The last line of defence: whatever a formatter built, the message that leaves respects Slack's
 * limits (header 150, section 3000, 10 fields, 50 blocks in all) and has a `text` fallback.
 */
export function enforceLimits(message: SlackMessage): SlackMessage {
  const fixBlock = (b: Block): Block => {
    switch (b.type) {
      case 'header':
        return { type: 'header', text: { ...b.text, type: 'plain_text', text: fit(b.text.text, LIMITS.header) } };
      case 'section': {
        const out: { type: 'section'; text?: TextObject; fields?: TextObject[] } = { type: 'section' };
        if (b.text) out.text = { ...b.text, text: fit(b.text.text, LIMITS.sectionText) };
        if (b.fields) out.fields = b.fields.slice(0, LIMITS.fields).map((f) => ({ ...f, text: fit(f.text, LIMITS.field) }));
        if (!out.text && (!out.fields || out.fields.length === 0)) out.text = { type: 'mrkdwn', text: ' ' };
        return out;
      }
      case 'context':
        return { type: 'context', elements: b.elements.slice(0, LIMITS.contextElements).map((e) => ({ ...e, text: fit(e.text, LIMITS.field) })) };
      default:
        return b;
    }
  };
  let budget: number = LIMITS.blocks;
  const take = (blocks: readonly Block[] | undefined): Block[] | undefined => {
    if (!blocks) return undefined;
    const fixed = blocks.map(fixBlock);
    if (fixed.length <= budget) {
      budget -= fixed.length;
      return fixed;
    }
    const keep = Math.max(0, budget - 1);
    const omitted = fixed.length - keep;
    budget = 0;
    return [...fixed.slice(0, keep), { type: 'context', elements: [{ type: 'mrkdwn', text: `…${omitted} more block(s) omitted to fit Slack's limit` }] }];
  };
  const blocks = take(message.blocks);
  const attachments = message.attachments?.map((a) => ({ ...a, blocks: take(a.blocks) ?? [] })).filter((a) => a.blocks.length > 0);
  const text = fit(message.text || 'AWS notification', LIMITS.text);
  return {
    text,
    ...(blocks ? { blocks } : {}),
    ...(attachments && attachments.length > 0 ? { attachments } : {}),
  };
}

/** Counts every block a message carries, attachments included. */
export function countBlocks(message: SlackMessage): number {
  return (message.blocks?.length ?? 0) + (message.attachments ?? []).reduce((n, a) => n + a.blocks.length, 0);
}

/**
 * `<!here>`, `<!channel>`, `<!everyone>`, `<!subteam^…>` and `<@U…>`: tokens that notify people.
 * (`<!date^…>` only formats a date.) Pre-rendered text must not carry them: it is posted unescaped.
 */
const NOTIFYING_TOKEN = /<(?:!(?!date\^)|@)/;

export type BlocksCheck = { readonly ok: true; readonly blocks: Block[] } | { readonly ok: false; readonly reason: string };

/**
 * Checks blocks that a message brings ready-made (the db-health digest) before they are posted as
 * they are: an array of at most 50 plain objects, only `header`, `section`, `context` and `divider`
 * with exactly the fields the notifier itself uses (no accessories, buttons or images), text
 * objects with non-empty text within Slack's limits (header 150, section 3000, field and context
 * element 2000), and no token that notifies anyone. Returns copies; never escapes or cuts.
 */
export function selfRenderedBlocks(value: unknown): BlocksCheck {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const fail = (reason: string): BlocksCheck => ({ ok: false, reason });
  const onlyKeys = (o: Record<string, unknown>, keys: readonly string[]) => Object.keys(o).find((k) => !keys.includes(k));
  const textObject = (v: unknown, where: string, max: number, types: readonly TextObject['type'][]): TextObject | string => {
    if (!isObj(v)) return `${where} is not a text object`;
    const extra = onlyKeys(v, ['type', 'text', 'emoji']);
    if (extra) return `${where} has an unexpected field "${extra}"`;
    if (!types.includes(v.type as TextObject['type'])) return `${where} has type ${JSON.stringify(v.type)}`;
    if (typeof v.text !== 'string' || v.text.length === 0) return `${where} has no text`;
    if (v.text.length > max) return `${where} is ${v.text.length} characters (limit ${max})`;
    if (NOTIFYING_TOKEN.test(v.text)) return `${where} contains a mention`;
    if (v.emoji !== undefined && typeof v.emoji !== 'boolean') return `${where} has a non-boolean emoji`;
    return { type: v.type as TextObject['type'], text: v.text, ...(v.emoji !== undefined ? { emoji: v.emoji } : {}) };
  };
  if (!Array.isArray(value)) return fail('blocks is not an array');
  if (value.length === 0) return fail('no blocks');
  if (value.length > LIMITS.blocks) return fail(`${value.length} blocks (limit ${LIMITS.blocks})`);
  const out: Block[] = [];
  for (const [i, b] of value.entries()) {
    const where = `block ${i}`;
    if (!isObj(b)) return fail(`${where} is not an object`);
    switch (b.type) {
      case 'divider': {
        const extra = onlyKeys(b, ['type']);
        if (extra) return fail(`${where} (divider) has an unexpected field "${extra}"`);
        out.push({ type: 'divider' });
        break;
      }
      case 'header': {
        const extra = onlyKeys(b, ['type', 'text']);
        if (extra) return fail(`${where} (header) has an unexpected field "${extra}"`);
        const t = textObject(b.text, `${where} (header) text`, LIMITS.header, ['plain_text']);
        if (typeof t === 'string') return fail(t);
        out.push({ type: 'header', text: t });
        break;
      }
      case 'section': {
        const extra = onlyKeys(b, ['type', 'text', 'fields']);
        if (extra) return fail(`${where} (section) has an unexpected field "${extra}"`);
        if (b.text === undefined && b.fields === undefined) return fail(`${where} (section) has neither text nor fields`);
        let text: TextObject | undefined;
        if (b.text !== undefined) {
          const t = textObject(b.text, `${where} (section) text`, LIMITS.sectionText, ['mrkdwn', 'plain_text']);
          if (typeof t === 'string') return fail(t);
          text = t;
        }
        let fieldList: TextObject[] | undefined;
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length === 0 || b.fields.length > LIMITS.fields) return fail(`${where} (section) fields must be 1 to ${LIMITS.fields} text objects`);
          fieldList = [];
          for (const [j, f] of b.fields.entries()) {
            const t = textObject(f, `${where} (section) field ${j}`, LIMITS.field, ['mrkdwn', 'plain_text']);
            if (typeof t === 'string') return fail(t);
            fieldList.push(t);
          }
        }
        out.push({ type: 'section', ...(text ? { text } : {}), ...(fieldList ? { fields: fieldList } : {}) });
        break;
      }
      case 'context': {
        const extra = onlyKeys(b, ['type', 'elements']);
        if (extra) return fail(`${where} (context) has an unexpected field "${extra}"`);
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > LIMITS.contextElements) return fail(`${where} (context) elements must be 1 to ${LIMITS.contextElements} text objects`);
        const elements: TextObject[] = [];
        for (const [j, e] of b.elements.entries()) {
          const t = textObject(e, `${where} (context) element ${j}`, LIMITS.field, ['mrkdwn', 'plain_text']);
          if (typeof t === 'string') return fail(t);
          elements.push(t);
        }
        out.push({ type: 'context', elements });
        break;
      }
      default:
        return fail(`${where} has type ${JSON.stringify(b.type)} (allowed: header, section, divider, context)`);
    }
  }
  return { ok: true, blocks: out };
}

/** True when pre-rendered mrkdwn would notify someone if posted unescaped. */
export function hasNotifyingToken(text: string): boolean {
  return NOTIFYING_TOKEN.test(text);
}
