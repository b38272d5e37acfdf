/**
 * What every event family shares: tolerant readers for the JSON that AWS sends, the EventBridge
 * envelope, and the pieces of a rendered message (colours, header + coloured attachment, the
 * environment and region a message belongs to). Pure; no family-specific knowledge.
 */
import { context, enforceLimits, esc, escFit, fields, header, link, section } from '../slack';
import type { Block, Envelope, EventBridgeEvent, Item, Rendered, Severity, SlackMessage } from '../types';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A non-empty string, else undefined. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A scalar shown as text (numbers and booleans too), else undefined. */
export const scalar = (v: unknown): string | undefined =>
  typeof v === 'string' ? (v === '' ? undefined : v) : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;

export const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

export function date(v: unknown): Date | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  // CloudWatch writes `2026-11-23T01:15:42.123+0000`; RDS's SNS messages `2019-01-02 12:45:06.000` (UTC).
  let text: string | number = v;
  if (typeof v === 'string') {
    text = v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
    if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) text = `${text.replace(' ', 'T')}Z`;
  }
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

/** `arn:aws:cloudwatch:ap-northeast-2:123:alarm:x` → `ap-northeast-2`. */
export function regionOfArn(arn: string | undefined): string | undefined {
  const parts = arn?.split(':');
  return parts && parts.length > 4 && REGION.test(parts[3]) ? parts[3] : undefined;
}

/** The region of the topic or queue a message came through. */
export function regionOfEnvelope(env: Envelope): string | undefined {
  for (const arn of env.sourceArns) {
    const r = regionOfArn(arn);
    if (r) return r;
  }
  return undefined;
}

/** The EventBridge envelope (`detail-type`, `source`, `detail`), or undefined. */
export function asEventBridge(b: unknown): EventBridgeEvent | undefined {
  if (!isObject(b) || typeof b['detail-type'] !== 'string' || typeof b.source !== 'string') return undefined;
  return {
    detailType: b['detail-type'] as string,
    source: b.source,
    account: str(b.account),
    region: str(b.region),
    time: str(b.time),
    resources: Array.isArray(b.resources) ? b.resources.filter((r): r is string => typeof r === 'string') : [],
    detail: isObject(b.detail) ? b.detail : {},
  };
}

// ---- rendering ---------------------------------------------------------------------------------

export interface RenderContext {
  /** Environment name shown on every message (`prod`). */
  readonly environment?: string;
  /** "Now", for "in ALARM for 3m". */
  readonly now: Date;
  /** Region for console links when the message does not say. */
  readonly defaultRegion?: string;
}

export const COLOURS = { alarm: '#E01E5A', ok: '#2EB67D', warning: '#ECB22E', info: '#1D9BD1', neutral: '#9E9EA6' } as const;

/** Colour of a problem by how bad it is; `ok` for good news. */
export function severityColour(severity: Severity, good = false): string {
  if (good) return COLOURS.ok;
  return severity === 'critical' ? COLOURS.alarm : severity === 'warning' ? COLOURS.warning : COLOURS.info;
}

/** 🚨 critical, 🟠 warning, ℹ️ info, ✅ good news. */
export function severityEmoji(severity: Severity, good = false): string {
  if (good) return '✅';
  return severity === 'critical' ? '🚨' : severity === 'warning' ? '🟠' : 'ℹ️';
}

/** Guesses the environment from a name like `prod-db-cpu` when none is configured. */
export function envOf(ctx: RenderContext, name: string | undefined): string | undefined {
  if (ctx.environment) return ctx.environment;
  const m = name ? /^(dev|staging|stage|prod|production|qa|test)\b/i.exec(name) : null;
  return m ? m[1] : undefined;
}

/** Header block + one coloured attachment with the details, within Slack's limits. */
export function message(title: string, colour: string, blocks: (Block | undefined)[], text: string): SlackMessage {
  return enforceLimits({
    text,
    blocks: [header(title)],
    attachments: [{ color: colour, blocks: blocks.filter((b): b is Block => !!b) }],
  });
}

/** The region a console link should use: the event's, the topic's, or the configured default. */
export function regionFor(item: Item, ctx: RenderContext, own?: string): string | undefined {
  return own ?? regionOfEnvelope(item.envelope) ?? ctx.defaultRegion;
}

/** ms since epoch, or 0. */
export function timeOf(...candidates: (Date | string | undefined)[]): number {
  for (const c of candidates) {
    const d = c instanceof Date ? c : date(c);
    if (d) return d.getTime();
  }
  return 0;
}

// ---- one event, one message ------------------------------------------------------------------------

export interface EventView {
  /** Emoji + short title, plain text (the header; Slack cuts it to 150). */
  readonly title: string;
  /** The first section: what happened, mrkdwn, already escaped. */
  readonly summary: string;
  /** `[label, mrkdwn value]`; empty values are left out. */
  readonly fields: readonly (readonly [string, string | undefined])[];
  /** More sections (already escaped), e.g. a description. */
  readonly sections?: readonly (string | undefined)[];
  /** Console or dashboard link. */
  readonly link?: { readonly url: string | undefined; readonly label: string };
  /** Small print under the link (already escaped). */
  readonly notes?: readonly (string | undefined)[];
  /** Fallback text / notification line (already escaped). */
  readonly text: string;
  /** One digest line (already escaped). */
  readonly line: string;
  /** Something is wrong (as opposed to good news or information). */
  readonly bad: boolean;
  /** Good news (a recovery, a success): green. */
  readonly good?: boolean;
  readonly at: number;
}

/** Renders an `EventView` as the notifier's usual message: header + coloured attachment. */
export function renderEvent(item: Item, ctx: RenderContext, v: EventView): Rendered {
  const env = envOf(ctx, undefined);
  const colour = v.good ? COLOURS.ok : v.bad ? severityColour(item.severity) : COLOURS.info;
  const blocks: (Block | undefined)[] = [
    section(v.summary),
    fields([['Environment', env ? esc(env) : undefined], ['Severity', item.severity], ...v.fields]),
    ...(v.sections ?? []).map((s) => (s ? section(s) : undefined)),
    context(v.link ? link(v.link.url, v.link.label) : undefined, ...(v.notes ?? [])),
  ];
  return { item, message: message(v.title, colour, blocks, `${v.text}${env ? ` (${esc(env)})` : ''}`), line: v.line, bad: v.bad, at: v.at };
}

/** `arn:aws:ec2:us-east-1:123:volume/vol-1` → `vol-1` (also the odd `arn:aws:ec2::us-east-1:snapshot/snap-1`). */
export function shortId(arn: string | undefined): string | undefined {
  if (!arn) return undefined;
  const tail = arn.split(':').pop() ?? arn;
  return tail.split('/').pop() || tail;
}

/** A code-formatted, escaped, length-bounded value. */
export const code = (v: string | undefined, max = 200): string | undefined => (v ? `\`${escFit(v, max)}\`` : undefined);

/** The AWS console home of a service in a region. */
export function consoleUrl(region: string | undefined, path: string): string | undefined {
  return region ? `https://${region}.console.aws.amazon.com/${path.replace(/\{region\}/g, region)}` : undefined;
}
