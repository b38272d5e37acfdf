/**
 * The rules every command-line entry follows (`roles`, `notify`, `db-health`, `diff`, `diff:live`,
 * `db:local`), in one place so that they behave the same:
 *
 * - `--help` / `-h` prints the usage on stdout and exits 0.
 * - Exit codes: 0 done, 1 failed, 2 bad usage or input ({@link EXIT}).
 * - A bad flag, URL, port, ref or environment is one line on stderr that names the value and says
 *   what would be accepted, never a stack trace ({@link UsageError}, {@link runMain}).
 * - Secrets never reach a message: URLs are shown without their password ({@link redactUrl}).
 *
 * Options are parsed with `node:util` `parseArgs` (strict), whose own messages are kept but shortened
 * to one line.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** What an exit code means, for every CLI of this repository. */
export const EXIT = {
  /** Done (for `diff`: nothing blocking). */
  OK: 0,
  /** Tried and failed (a post undelivered, a statement rejected, a destructive change blocked). */
  FAILED: 1,
  /** Bad usage or input: nothing was done. */
  USAGE: 2,
} as const;

/** A mistake in the command line or the input; printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Where a CLI writes; tests pass collectors. Lines are written without their newline. */
export interface CliStreams {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export const processStreams: CliStreams = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

export type Options = NonNullable<ParseArgsConfig['options']>;

/** True when argv asks for help (anywhere before a `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/**
 * `parseArgs` in strict mode whose errors are {@link UsageError}s of one line, e.g.
 * `unknown option --bogus`, `--env needs a value`.
 */
export function parseCommandLine<O extends Options>(argv: readonly string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError(shortParseError(e as Error & { code?: string }));
  }
}

function shortParseError(e: Error & { code?: string }): string {
  const msg = e.message.split('\n')[0];
  const unknown = /^Unknown option '([^']+)'/.exec(msg);
  if (unknown) return `unknown option ${unknown[1]}`;
  const needs = /^Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(msg);
  if (needs) return `${needs[1]} needs a value`;
  const positional = /^Unexpected argument '([^']+)'/.exec(msg);
  if (positional) return `unexpected argument ${JSON.stringify(positional[1])}`;
  return msg.replace(/\.$/, '');
}

/** The value of a one-of flag, or a UsageError naming the value and the choices. */
export function oneOf<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag} must be ${listOr(choices)} (got ${JSON.stringify(value)})`);
}

/** A TCP port (1–65535). */
export function port(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new UsageError(`${flag} must be a port from 1 to 65535 (got ${JSON.stringify(value)})`);
  }
  return n;
}

/** A positive number (seconds, thresholds). */
export function positiveNumber(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number (got ${JSON.stringify(value)})`);
  return n;
}

/**
 * A URL with one of the given schemes, checked before anything is sent to it. The message shows the
 * URL without its password (or, for `secret`, only its scheme and host).
 */
export function url(flag: string, value: string, opts: { protocols: readonly string[]; secret?: boolean }): URL {
  const shown = opts.secret ? secretUrlHint(value) : JSON.stringify(redactUrl(value));
  const p = explicitPort(value.trim());
  if (p !== undefined && p !== '' && !/^\d+$/.test(p)) throw new UsageError(`${flag} is not a valid URL (got ${shown})`);
  if (p !== undefined && p !== '') port(`the port in ${flag}`, p);
  let u: URL;
  try {
    u = new URL(value.trim());
  } catch {
    throw new UsageError(`${flag} is not a valid URL (got ${shown})`);
  }
  if (!opts.protocols.includes(u.protocol.replace(/:$/, ''))) {
    throw new UsageError(`${flag} must be a ${listOr(opts.protocols.map((p) => `${p}://`))} URL (got ${shown})`);
  }
  if (u.hostname === '') throw new UsageError(`${flag} has no host (got ${shown})`);
  return u;
}

/**
 * A PostgreSQL connection URL (`postgres://` or `postgresql://`), checked before connecting:
 * a host, a port from 1 to 65535 if given. The message never shows the password.
 */
export function postgresUrl(flag: string, value: string): string {
  const v = value.trim();
  const shown = JSON.stringify(redactUrl(v));
  if (!/^postgres(?:ql)?:\/\//i.test(v)) throw new UsageError(`${flag} must start with postgres:// or postgresql:// (got ${shown})`);
  const p = explicitPort(v);
  if (p !== undefined && p !== '') port(`the port in ${flag}`, p);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UsageError(`${flag} is not a valid URL (got ${shown}); expected postgres://user:password@host:port/database`);
  }
  // A socket directory may come through ?host=/path; otherwise the URL needs a host.
  if (u.hostname === '' && !u.searchParams.get('host')) throw new UsageError(`${flag} has no host (got ${shown})`);
  return v;
}

/** The text after `host:` in a URL's authority, if any (before WHATWG URL parsing rejects it). */
function explicitPort(value: string): string | undefined {
  return /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?/i.exec(value)?.[1];
}

/** A URL with its password replaced by `***` (for messages). */
export function redactUrl(value: string): string {
  return value.replace(/(\/\/[^:/@\s]+:)[^@\s]*@/, '$1***@');
}

/** For URLs that are secrets as a whole (Slack webhooks): the scheme and host only. */
export function secretUrlHint(value: string): string {
  const m = /^\s*([a-z][a-z0-9+.-]*):\/\/(?:[^@/?#\s]*@)?([^/?#\s]*)/i.exec(value);
  return m ? JSON.stringify(`${m[1]}://${m[2]}/…`) : `${value.length} characters that do not start with a scheme like https://`;
}

/** `a, b or c` */
export function listOr(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** The first line of an error's message, without the stack. */
export function oneLine(e: unknown): string {
  // Duck-typed: errors from another realm (vm contexts, jest) are not `instanceof Error`.
  const msg = typeof e === 'object' && e !== null && typeof (e as Error).message === 'string' ? (e as Error).message : String(e);
  return msg.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'error';
}

/**
 * Runs a CLI's `main` as a process: its resolved number is the exit code; a {@link UsageError}
 * that escapes is exit 2, anything else exit 1, both printed as `<name>: <one line>` without a
 * stack trace (set `DEBUG=1` to see it). `sanitize` removes secrets from what is printed.
 */
export function runMain(name: string, sanitize: (s: string) => string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${name}: ${sanitize(oneLine(e))}\n`);
      if (process.env.DEBUG && e instanceof Error && e.stack) process.stderr.write(`${sanitize(e.stack)}\n`);
      process.exitCode = e instanceof UsageError ? EXIT.USAGE : EXIT.FAILED;
    },
  );
}

/**
 * Prints a usage error the common way (`<name>: <message>` and a hint to `--help`) and returns 2.
 */
export function usageFailure(name: string, streams: CliStreams, e: unknown): number {
  streams.err(`${name}: ${oneLine(e)} (see --help)`);
  return EXIT.USAGE;
}
