/**
 * One event family (CloudWatch alarms, RDS events, ElastiCache, …): how to recognise its messages,
 * what severity their content implies, and how to render them. The registry (`registry.ts`) lists
 * the families in the order they are tried; a new kind of event is a new module, not a new case
 * in a switch.
 */
import type { Envelope, Item, Notification, Rendered, Severity } from '../types';
import type { RenderContext } from './kit';

export interface Family<N extends Notification = Notification> {
  /** Short name, also the folder of its AWS sample events (test/fixtures/aws-samples/<name>). */
  readonly name: string;
  /** The notification kinds it produces and renders. */
  readonly kinds: readonly N['kind'][];
  /**
   * This family's reading of an envelope, or undefined when the message is not one of its own.
   * Usually one of its own kinds; a family may hand a message it recognised but cannot show its
   * way to another kind (the digest falls back to `text` with the reason).
   */
  recognize(env: Envelope): Notification | undefined;
  /**
   * The severity the content itself implies, the same whichever path (SNS, EventBridge, SQS) it
   * arrived by; undefined leaves it to the topic or queue it came through (alarms: the topic is
   * the severity the alarm was given).
   */
  severity(n: N): Severity | undefined;
  render(item: Item & { readonly notification: N }, ctx: RenderContext): Rendered;
}

/** Helps TypeScript check a family against its own notification kind. */
export function defineFamily<N extends Notification>(f: Family<N>): Family<N> {
  return f;
}
