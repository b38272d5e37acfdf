/**
 * Webhook URLs are credentials: whoever has one can post to the channel. Every string the
 * notifier logs or throws passes through `redact`, which removes the URLs it knows about and
 * anything shaped like a Slack webhook path.
 */

const SLACK_PATH = /\/services\/[A-Za-z0-9]+\/[A-Za-z0-9]+\/[A-Za-z0-9]+/g;
const SLACK_HOOK = /https?:\/\/hooks\.slack(?:-gov)?\.com\/[^\s"'<>)]*/gi;
const WORKFLOW_HOOK = /https?:\/\/hooks\.slack(?:-gov)?\.com\/(?:workflows|triggers)\/[^\s"'<>)]*/gi;

const known = new Set<string>();

/** Registers a secret (a webhook URL) so that `redact` removes it, its path and its query too. */
export function registerSecret(secret: string): void {
  if (!secret || secret.length < 8) return;
  known.add(secret);
  try {
    const u = new URL(secret);
    if (u.pathname.length > 8) known.add(u.pathname);
    if (u.search.length > 8) known.add(u.search);
    // Node and undici may print it encoded.
    known.add(encodeURI(secret));
  } catch {
    /* not a URL: the literal is enough */
  }
}

/** Removes every registered secret and anything that looks like a Slack webhook from `text`. */
export function redact(text: string): string {
  let out = text;
  // Longest first, so that a URL is replaced whole before its path is.
  for (const s of [...known].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join('[redacted]');
  }
  return out.replace(WORKFLOW_HOOK, 'https://hooks.slack.com/[redacted]').replace(SLACK_HOOK, 'https://hooks.slack.com/[redacted]').replace(SLACK_PATH, '/services/[redacted]');
}

/** An error's message and its causes, redacted, for logs and thrown errors. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    // Duck-typed, not `instanceof Error`: errors from another realm (undici, test VMs) count too.
    if (typeof e === 'object' && e !== null && 'message' in e) {
      const err = e as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown };
      parts.push(`${String(err.name ?? 'Error')}: ${String(err.message)}${typeof err.code === 'string' && !String(err.message).includes(err.code) ? ` (${err.code})` : ''}`);
      e = err.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return redact(parts.join(' <- ') || 'unknown error');
}
