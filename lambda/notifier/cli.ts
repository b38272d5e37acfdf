/**
 * `npm run notify -- <event.json> [more.json …] [--dry-run] [--env NAME] [--mention here]
 *   [--severity critical] [--enrich]`
 *
 * Replays events of any shape the Lambda accepts (SQS batch, SNS-to-Lambda, SNS envelope,
 * EventBridge, a bare message, or plain text) through the same code path, as one batch, and posts
 * them to the webhook in SLACK_WEBHOOK_URL. Exits 1 if anything was not delivered, 2 on bad usage.
 * `--dry-run` prints the Slack payloads instead of posting. `--enrich` calls RDS, Performance
 * Insights and CloudWatch with your AWS credentials.
 */
import * as fs from 'node:fs';
import { SlackPoster } from './deliver';
import { processEvent, type NotifierDeps } from './notify';
import { parseMaybeJson } from './parse';
import { redact } from './redact';
import type { Post, Severity } from './types';
import { isSeverity } from './types';
import { staticResolver } from './webhooks';

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

const USAGE = 'usage: npm run notify -- <event.json> [more.json …] [--dry-run] [--env NAME] [--mention none|here|channel|S0123ABCD] [--severity critical|warning|info] [--enrich]';

export async function runCli(argv: readonly string[], io: CliIo, overrides: Partial<NotifierDeps> = {}): Promise<number> {
  const files: string[] = [];
  let dryRun = false;
  let enrich = false;
  let environment = io.env.ENVIRONMENT_NAME;
  let mention = io.env.CRITICAL_MENTION ?? 'none';
  let severity: Severity | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    try {
      if (a === '--dry-run') dryRun = true;
      else if (a === '--enrich') enrich = true;
      else if (a === '--env') environment = value();
      else if (a === '--mention') mention = value();
      else if (a === '--severity') {
        const v = value();
        if (!isSeverity(v)) throw new Error(`--severity must be critical, warning or info, got "${v}"`);
        severity = v;
      } else if (a === '-h' || a === '--help') {
        io.out(USAGE);
        return 0;
      } else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
      else files.push(a);
    } catch (err) {
      io.err(`${(err as Error).message}\n${USAGE}`);
      return 2;
    }
  }
  if (files.length === 0) {
    io.err(USAGE);
    return 2;
  }
  const events: unknown[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch (err) {
      io.err(`cannot read ${f}: ${(err as Error).message}`);
      return 2;
    }
    // Malformed JSON is replayed as the text it is, exactly as the Lambda would see it.
    events.push(parseMaybeJson(text));
  }
  const url = io.env.SLACK_WEBHOOK_URL;
  if (!dryRun && !url) {
    io.err('SLACK_WEBHOOK_URL is not set (or use --dry-run to print the payloads)');
    return 2;
  }
  const printed: Post[] = [];
  let enrichClients: NotifierDeps['enrich'];
  if (enrich) {
    const [{ RDSClient }, { PIClient }, { CloudWatchClient }] = await Promise.all([import('@aws-sdk/client-rds'), import('@aws-sdk/client-pi'), import('@aws-sdk/client-cloudwatch')]);
    enrichClients = { rds: new RDSClient({}), pi: new PIClient({}), cloudwatch: new CloudWatchClient({}) };
  }
  const poster = new SlackPoster({ onRetry: (r) => io.err(`retrying in ${r.waitMs} ms: ${redact(r.reason)}`) });
  const result = await processEvent(events, {
    config: { environment, criticalMention: mention, defaultSeverity: severity ?? 'warning', defaultRegion: io.env.AWS_REGION, forcedSeverity: severity },
    webhook: staticResolver(url ?? 'https://example.invalid/dry-run'),
    poster,
    enrich: enrichClients,
    dryRun: dryRun ? (p) => printed.push(p) : undefined,
    ...overrides,
  });
  if (dryRun) {
    for (const p of printed) io.out(JSON.stringify({ severity: p.severity, digest: p.digest, notifications: p.count, payload: p.message }, null, 2));
    io.err(`${result.items} notification(s) → ${printed.length} post(s) (dry run, nothing sent)`);
    return 0;
  }
  const failed = result.posts.filter((p) => !p.outcome.ok);
  for (const p of result.posts) {
    const o = p.outcome;
    io.err(o.ok ? `posted ${p.post.severity} ${p.post.digest ? 'digest ' : ''}(${p.post.count}) in ${o.attempts} attempt(s)${o.degraded ? ' as plain text' : ''}` : `FAILED ${p.post.severity} (${p.post.count}): ${redact(o.error)}`);
  }
  io.err(`${result.items} notification(s) → ${result.posts.length} post(s), ${failed.length} failed`);
  return failed.length > 0 ? 1 : 0;
}

if (require.main === module) {
  runCli(process.argv.slice(2), { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n'), env: process.env })
    .then((code) => process.exit(code))
    .catch((err) => {
      process.stderr.write(`notify: ${redact(String(err?.stack ?? err))}\n`);
      process.exit(1);
    });
}
