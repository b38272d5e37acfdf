/**
 * `npm run notify -- <event.json> [more.json …] [--dry-run] [--text] [--env NAME] [--mention here]
 *   [--severity critical] [--enrich]`
 *
 * Replays events of any shape the Lambda accepts (SQS batch, SNS-to-Lambda, SNS envelope,
 * EventBridge, a bare message) through the same code path, as one batch, and posts them to the
 * webhook in SLACK_WEBHOOK_URL. `--dry-run` prints the Slack payloads instead of posting.
 *
 * It never posts garbage: an empty file, invalid JSON, plain text or JSON the notifier does not
 * recognize is refused (exit 2) unless `--text` says to send it as a plain-text message (which is
 * what the Lambda does with such input). SLACK_WEBHOOK_URL, `--mention` and, with `--enrich`, the
 * AWS credentials and region are checked before anything is sent.
 *
 * Exit codes (scripts/cli-kit.ts): 0 everything delivered, 1 something was not, 2 bad usage or
 * input (nothing was sent).
 */
import * as fs from 'node:fs';
import { EXIT, oneLine, oneOf, parseCommandLine, runMain, UsageError, url, wantsHelp } from '../../scripts/cli-kit';
import { classify } from './classify';
import { SlackPoster } from './deliver';
import { processEvent, type NotifierDeps } from './notify';
import { parseEvent } from './parse';
import { mentionToken } from './plan';
import { redact } from './redact';
import type { Post } from './types';
import { SEVERITIES } from './types';
import { staticResolver } from './webhooks';

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

export const USAGE = `usage: npm run notify -- <event.json> [more.json …] [options]

Posts the events to the Slack webhook in SLACK_WEBHOOK_URL through the notifier's own code path.

Options:
  --dry-run                 print the Slack payloads instead of posting
  --text                    accept input that is not a recognized event (plain text, invalid JSON,
                            an unknown JSON shape) and post it as a plain-text message
  --env NAME                environment name shown on the messages (default: ENVIRONMENT_NAME)
  --mention WHO             who critical problems mention: none, here, channel or a Slack user-group
                            ID like S0123ABCD (default: CRITICAL_MENTION, else none)
  --severity LEVEL          force critical, warning or info (default: from the source, else warning)
  --enrich                  add RDS, Performance Insights and CloudWatch details with your AWS
                            credentials (AWS_PROFILE / AWS_REGION …)
  -h, --help                this text

Exit codes: 0 everything delivered (or printed), 1 something was not delivered, 2 bad usage or input.`;

const OPTIONS = {
  'dry-run': { type: 'boolean' },
  text: { type: 'boolean' },
  enrich: { type: 'boolean' },
  env: { type: 'string' },
  mention: { type: 'string' },
  severity: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The webhook URL, checked before anything is posted: https, or http to this machine (a stand-in). */
export function checkWebhookUrl(value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw new UsageError('SLACK_WEBHOOK_URL is not set (or use --dry-run to print the payloads)');
  const u = url('SLACK_WEBHOOK_URL', value, { protocols: ['https', 'http'], secret: true });
  if (u.protocol === 'http:' && !LOOPBACK.has(u.hostname)) {
    throw new UsageError(`SLACK_WEBHOOK_URL must use https, not http (host ${u.hostname}); plain http is only accepted for 127.0.0.1 or localhost`);
  }
  return value.trim();
}

/** A mention setting the notifier can render, else a UsageError naming where it came from. */
export function checkMention(source: string, value: string): string {
  const m = value.trim();
  if (m === '' || m === 'none' || mentionToken(m) !== undefined) return m === '' ? 'none' : m;
  throw new UsageError(`${source} must be none, here, channel or a Slack user-group ID like S0123ABCD (got ${JSON.stringify(value)})`);
}

/**
 * One input file as the events to replay. Refuses (UsageError) empty files, and, unless `asText`,
 * anything that is not JSON of a shape the notifier recognizes.
 */
export function readEventFile(file: string, asText: boolean): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${oneLine(e)}`);
  }
  if (text.trim() === '') throw new UsageError(`${file} is empty; there is nothing to send`);
  const hint = 'pass --text to post it as a plain-text message';
  const trimmed = text.trim();
  let value: unknown;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      value = JSON.parse(trimmed);
    } catch (e) {
      if (asText) return text;
      throw new UsageError(`${file} is not valid JSON (${oneLine(e)}); fix it, or ${hint}`);
    }
  } else {
    if (asText) return text;
    throw new UsageError(`${file} is not JSON (it starts with ${JSON.stringify(trimmed.slice(0, 20))}); ${hint}`);
  }
  if (!asText) {
    const unknown = parseEvent(value)
      .map((envelope) => classify(envelope))
      .filter((n) => n.kind === 'text');
    if (unknown.length > 0) {
      const why = unknown.map((n) => (n.kind === 'text' ? n.fallbackReason : undefined)).find(Boolean);
      throw new UsageError(
        `${file}: ${unknown.length} notification(s) are not a shape the notifier recognizes (CloudWatch alarm, RDS, ElastiCache, Backup or EventBridge event, in an SQS, SNS or EventBridge envelope)${why ? ` (${why})` : ''}; ${hint}`,
      );
    }
  }
  return value;
}

export async function runCli(argv: readonly string[], io: CliIo, overrides: Partial<NotifierDeps> = {}): Promise<number> {
  if (wantsHelp(argv)) {
    io.out(USAGE);
    return EXIT.OK;
  }
  let files: string[];
  let flags: { 'dry-run'?: boolean; text?: boolean; enrich?: boolean; env?: string; mention?: string; severity?: string };
  let events: unknown[];
  let webhookUrl: string | undefined;
  let mention: string;
  let severity: (typeof SEVERITIES)[number] | undefined;
  try {
    const parsed = parseCommandLine(argv, OPTIONS, true);
    flags = parsed.values;
    files = parsed.positionals;
    severity = flags.severity === undefined ? undefined : oneOf('--severity', flags.severity, SEVERITIES);
    mention = flags.mention !== undefined ? checkMention('--mention', flags.mention) : checkMention('CRITICAL_MENTION', io.env.CRITICAL_MENTION ?? 'none');
    if (files.length === 0) throw new UsageError('give at least one event file');
    events = files.map((f) => readEventFile(f, flags.text ?? false));
    if (!flags['dry-run']) webhookUrl = checkWebhookUrl(io.env.SLACK_WEBHOOK_URL);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`notify: ${redact(e.message)} (see --help)`);
    return EXIT.USAGE;
  }
  const dryRun = flags['dry-run'] ?? false;
  const environment = flags.env ?? io.env.ENVIRONMENT_NAME;
  const printed: Post[] = [];
  let enrichClients: NotifierDeps['enrich'];
  if (flags.enrich && overrides.enrich === undefined) {
    try {
      enrichClients = await enrichClientsWithCredentials();
    } catch (e) {
      io.err(`notify: ${oneLine(e)} (see --help)`);
      return EXIT.USAGE;
    }
  }
  const poster = new SlackPoster({ onRetry: (r) => io.err(`retrying in ${r.waitMs} ms: ${redact(r.reason)}`) });
  const result = await processEvent(events, {
    config: { environment, criticalMention: mention, defaultSeverity: severity ?? 'warning', defaultRegion: io.env.AWS_REGION, forcedSeverity: severity },
    webhook: staticResolver(webhookUrl ?? 'https://example.invalid/dry-run'),
    poster,
    enrich: enrichClients,
    dryRun: dryRun ? (p) => printed.push(p) : undefined,
    ...overrides,
  });
  if (dryRun) {
    for (const p of printed) io.out(JSON.stringify({ severity: p.severity, digest: p.digest, notifications: p.count, payload: p.message }, null, 2));
    io.err(`${result.items} notification(s) → ${printed.length} post(s) (dry run, nothing sent)`);
    return EXIT.OK;
  }
  const failed = result.posts.filter((p) => !p.outcome.ok);
  for (const p of result.posts) {
    const o = p.outcome;
    io.err(o.ok ? `posted ${p.post.severity} ${p.post.digest ? 'digest ' : ''}(${p.post.count}) in ${o.attempts} attempt(s)${o.degraded ? ' as plain text' : ''}` : `FAILED ${p.post.severity} (${p.post.count}): ${redact(o.error)}`);
  }
  io.err(`${result.items} notification(s) → ${result.posts.length} post(s), ${failed.length} failed`);
  return failed.length > 0 ? EXIT.FAILED : EXIT.OK;
}

/**
 * The RDS, Performance Insights and CloudWatch clients `--enrich` uses, after checking that a region
 * and credentials resolve (the SDK would otherwise fail each call quietly inside the best-effort
 * enrichment, and the message would just lack its details).
 */
async function enrichClientsWithCredentials(): Promise<NonNullable<NotifierDeps['enrich']>> {
  const [{ RDSClient }, { PIClient }, { CloudWatchClient }] = await Promise.all([import('@aws-sdk/client-rds'), import('@aws-sdk/client-pi'), import('@aws-sdk/client-cloudwatch')]);
  const rds = new RDSClient({});
  try {
    await rds.config.region();
  } catch {
    throw new UsageError('--enrich needs an AWS region: set AWS_REGION (or a region in your AWS profile), or drop --enrich');
  }
  try {
    await rds.config.credentials();
  } catch (e) {
    throw new UsageError(`--enrich found no AWS credentials (${oneLine(e)}); set AWS_PROFILE or run \`aws sso login\`, or drop --enrich`);
  }
  return { rds, pi: new PIClient({}), cloudwatch: new CloudWatchClient({}) };
}

if (require.main === module) {
  runMain('notify', redact, () => runCli(process.argv.slice(2), { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n'), env: process.env }));
}
