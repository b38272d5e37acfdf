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
