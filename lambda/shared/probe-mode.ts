/** What a scheduled probe function (db-health, cache-health) is asked to do. */
export type Mode = 'probe' | 'digest';

/** Picks the mode: an explicit `mode`, else a scheduled event means a probe; errors name `fn`. */
export function probeModeOf(fn: string, event: unknown): Mode {
  if (event && typeof event === 'object') {
    const e = event as Record<string, unknown>;
    if (e.mode === 'probe' || e.mode === 'digest') return e.mode;
    if (e.mode !== undefined) throw new Error(`${fn}: unknown mode ${JSON.stringify(e.mode)} (expected "probe" or "digest")`);
    if (e['detail-type'] === 'Scheduled Event' || Object.keys(e).length === 0) return 'probe';
  }
  throw new Error(`${fn}: expected a scheduled event or {"mode": "probe" | "digest"}`);
}
