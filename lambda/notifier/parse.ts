/**
 * Peels the transport off whatever the notifier is given: an SQS batch (whose bodies are SNS
 * envelopes, EventBridge events or bare messages), an SNS-to-Lambda event, an SNS envelope, an
 * EventBridge event, a bare message, an array of any of these, or plain text. Never throws:
 * anything it cannot understand becomes a text envelope carrying the raw input.
 */
import type { Envelope } from './types';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** JSON.parse that returns the text itself when it is not JSON. */
export function parseMaybeJson(text: string): unknown {
  const trimmed = text.trim();
  if (!(trimmed.startsWith('{') || trimmed.startsWith('['))) return text;
  try {
    return JSON.parse(trimmed);
  } catch {
    return text;
  }
}

function safeStringify(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function date(v: unknown): Date | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** SNS message attributes in either spelling (`{Type, Value}` or SQS's `{dataType, stringValue}`). */
function flattenAttributes(attrs: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(attrs)) return out;
  for (const [k, v] of Object.entries(attrs)) {
    if (isObject(v)) {
      const value = str(v.Value) ?? str(v.stringValue) ?? str(v.StringValue);
      if (value !== undefined) out[k] = value;
    } else if (typeof v === 'string') {
      out[k] = v;
    }
  }
  return out;
}

interface Context {
  itemId?: string;
  sourceArns: string[];
  receivedAt?: Date;
}

function isSnsEnvelope(v: Json): boolean {
  return (v.Type === 'Notification' && typeof v.Message === 'string') || (typeof v.TopicArn === 'string' && typeof v.Message === 'string');
}

/** One message (string or object) in a known context: unwrap SNS envelopes, keep the rest. */
function fromMessage(message: unknown, ctx: Context, extra: { subject?: string; attributes?: Record<string, string> } = {}): Envelope[] {
  const body = typeof message === 'string' ? parseMaybeJson(message) : message;
  if (isObject(body) && isSnsEnvelope(body)) {
    const topic = str(body.TopicArn);
    return fromMessage(body.Message, { ...ctx, sourceArns: topic ? [...ctx.sourceArns, topic] : ctx.sourceArns, receivedAt: date(body.Timestamp) ?? ctx.receivedAt }, {
      subject: str(body.Subject) ?? undefined,
      attributes: flattenAttributes(body.MessageAttributes),
    });
  }
  return [
    {
      itemId: ctx.itemId,
      sourceArns: ctx.sourceArns,
      subject: extra.subject,
      attributes: extra.attributes ?? {},
      receivedAt: ctx.receivedAt,
      body,
      raw: typeof message === 'string' ? message : safeStringify(message),
    },
  ];
}

function fromRecord(record: unknown): Envelope[] {
  if (!isObject(record)) return fromMessage(record, { sourceArns: [] });
  // SQS record (lower-case `eventSource`).
  if (record.eventSource === 'aws:sqs' || (typeof record.messageId === 'string' && 'body' in record)) {
    const ctx: Context = {
      itemId: str(record.messageId),
      sourceArns: str(record.eventSourceARN) ? [record.eventSourceARN as string] : [],
      receivedAt: isObject(record.attributes) ? date(Number(record.attributes.SentTimestamp)) : undefined,
    };
    return fromMessage(typeof record.body === 'string' ? record.body : safeStringify(record.body), ctx);
  }
  // SNS-to-Lambda record (upper-case `EventSource`, `Sns`).
  if (isObject(record.Sns)) {
    const sns = record.Sns;
    const topic = str(sns.TopicArn);
    return fromMessage(sns.Message ?? '', { sourceArns: topic ? [topic] : [], receivedAt: date(sns.Timestamp) }, {
      subject: str(sns.Subject) ?? undefined,
      attributes: flattenAttributes(sns.MessageAttributes),
    });
  }
  return fromMessage(record, { sourceArns: [] });
}

/** Any input the Lambda or the CLI accepts, as envelopes. */
export function parseEvent(event: unknown): Envelope[] {
  try {
    if (typeof event === 'string') return parseEvent(parseMaybeJson(event) === event ? { __text: event } : parseMaybeJson(event));
    if (Array.isArray(event)) return event.flatMap((e) => parseEvent(e));
    if (isObject(event)) {
      if ('__text' in event && Object.keys(event).length === 1) return fromMessage(String(event.__text), { sourceArns: [] });
      if (Array.isArray(event.Records)) return event.Records.flatMap(fromRecord);
      return fromMessage(event, { sourceArns: [] });
    }
    return fromMessage(safeStringify(event ?? ''), { sourceArns: [] });
  } catch (err) {
    // Defensive: a bug above must not lose the input.
    return [{ sourceArns: [], attributes: {}, body: safeStringify(event), raw: `${safeStringify(event)}\n(parse error: ${(err as Error).message})` }];
  }
}
