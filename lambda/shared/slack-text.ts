/**
 * Slack's text rules, shared by everything that builds a Slack message (the notifier, the
 * db-health digest): the Block Kit limits, and escaping of text that came from outside.
 */

/** Block Kit and message limits (api.slack.com/reference/block-kit). */
export const SLACK_LIMITS = {
  header: 150,
  sectionText: 3000,
  field: 2000,
  fields: 10,
  contextElements: 10,
  blocks: 50,
  /** Slack truncates `text` beyond 40,000 characters; we stay well under. */
  text: 3000,
} as const;

/**
 * Escapes the three characters Slack's mrkdwn gives meaning to, so that `<!channel>`, `<@U123>`
 * or `<https://evil|docs>` in outside text is shown as text and cannot ping or mislead anyone.
 */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Text for inside a `code` span: escaped, single line, no backticks to close it early. */
export function codeSpan(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim().replace(/`/g, "'");
  const cut = oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
  return `\`${escapeSlack(cut)}\``;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** Joins a title and lines into section text of at most `max` characters, saying what was cut. */
export function fitLines(title: string, lines: readonly string[], max: number = SLACK_LIMITS.sectionText): string {
  const kept: string[] = [];
  let len = title.length;
  for (const line of lines) {
    if (len + 1 + line.length > max) break;
    kept.push(line);
    len += 1 + line.length;
  }
  if (kept.length === lines.length) return [title, ...kept].join('\n');
  // Cut: drop kept lines until the "…and N more" note fits too.
  const note = (cut: number) => `…and ${cut} more`;
  while (kept.length > 0 && len + 1 + note(lines.length - kept.length).length > max) {
    len -= 1 + kept.pop()!.length;
  }
  return [title, ...kept, note(lines.length - kept.length)].join('\n').slice(0, max);
}

export interface SlackBlock {
  readonly type: string;
  readonly [key: string]: unknown;
}

/**
 * A digest's Slack layout: a header (the title, cut to Slack's limit), a context line, then a
 * divider and a section per part; and the fallback text: the title, the context and whole parts
 * while they fit in one section's worth of characters. At most 50 blocks.
 */
export function layoutDigest(title: string, context: string, parts: readonly string[]): { blocks: SlackBlock[]; text: string } {
  const header = title.length > SLACK_LIMITS.header ? `${title.slice(0, SLACK_LIMITS.header - 1)}…` : title;
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: false } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: context }] },
  ];
  for (const s of parts) {
    blocks.push({ type: 'divider' });
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: s } });
  }
  let text = `*${escapeSlack(title)}*\n${context}`;
  const cut = '\n\n_…more in the full digest_';
  for (const s of parts) {
    if (text.length + 2 + s.length + cut.length > SLACK_LIMITS.sectionText) {
      text += cut;
      break;
    }
    text += `\n\n${s}`;
  }
  return { blocks: blocks.slice(0, SLACK_LIMITS.blocks), text };
}
