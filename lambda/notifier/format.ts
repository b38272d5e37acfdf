/**
 * Renders a classified notification as a Slack message (header + coloured detail attachment,
 * with a `text` fallback) and as a one-line summary for storm digests, by handing it to its
 * event family (families/). Pure: the clock and the environment name come in through the context.
 */
import { familyOf } from './families/registry';
import { renderText } from './families/fallback';
import type { RenderContext } from './families/kit';
import type { Item, Rendered } from './types';

export { COLOURS, type RenderContext } from './families/kit';
export { alarmConsoleUrl, alarmDimensions, alarmValueLine, comparisonSymbol, formatValue, runbookUrl, unitOf } from './families/alarms';

/** Renders any item. A bug in a specific formatter falls back to the raw text, never an exception. */
export function render(item: Item, ctx: RenderContext): Rendered {
  try {
    return familyOf(item.notification).render(item as never, ctx);
  } catch (err) {
    return renderText(item, `${item.envelope.subject ?? 'Notification'} (formatter error: ${(err as Error).message})`, item.envelope.raw, ctx);
  }
}
