/**
 * Tells what a message is by asking each event family in turn (families/registry.ts) and
 * normalises it. Tolerant by design: missing fields stay undefined, and anything unrecognised
 * becomes a text notification. Never throws.
 */
import { FAMILIES, familyOf } from './families/registry';
import type { Envelope, Notification, Severity } from './types';

export { regionOfArn } from './families/kit';
export { observedFromReason } from './families/alarms';

/** Classifies one envelope. */
export function classify(env: Envelope): Notification {
  for (const family of FAMILIES) {
    try {
      const n = family.recognize(env);
      if (n) return n;
    } catch {
      // A bug in one recogniser must not lose the message: the next family (at worst text) takes it.
    }
  }
  return { kind: 'text', subject: env.subject, text: env.raw };
}

/** The severity the content implies (same on every path), or undefined to leave it to the source. */
export function contentSeverity(n: Notification): Severity | undefined {
  try {
    return familyOf(n).severity(n);
  } catch {
    return undefined;
  }
}
