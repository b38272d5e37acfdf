/**
 * db-health from the command line: the same probe (and digest) as the Lambda, against any
 * PostgreSQL.
 *
 *   npm run db-health -- --database-url postgres://u:p@host:5432/db \
 *     [--long-query-seconds N] [--format table|json] [--env dev|staging|prod] [--digest]
 *
 * `--format json` prints exactly one JSON object on stdout: the metric names mapped to numbers
 * (with `--digest`: the digest message the Lambda would publish). Diagnostics go to stderr.
 * (`npm run` prints its own "> script" banner on stdout; pipe with `npm run -s db-health -- …`.)
 * `--env` picks the service registry, app schema and unused-index floor from lib/config
 * (default prod). TLS: put `sslmode=verify-full&sslrootcert=<pem>` in the URL.
 * Exit codes (scripts/cli-kit.ts): 0 done, 1 failed, 2 bad usage or input.
 */
import { Client } from 'pg';
import { ENVIRONMENTS, loadEnvironment } from '../../lib/config';
import { EXIT, oneOf, parseCommandLine, positiveNumber, postgresUrl, redactUrl, runMain, UsageError, wantsHelp } from '../../scripts/cli-kit';
import { METRIC_NAMES, METRIC_UNITS, type MetricMap } from './contract';
import { collectDigest, formatBytes, formatDigest } from './digest';
import { runProbe, type ProbeOptions } from './probe';
import { assertUrlKeepsSafeSession, SAFE_SESSION_OPTIONS } from '../shared/safe-session';

export const USAGE = `usage: npm run db-health -- --database-url <url> [--long-query-seconds N] [--format table|json] [--env dev|staging|prod] [--digest]

  --database-url URL        postgres://user:password@host:port/database (default: DATABASE_URL; try npm run db:local)
  --long-query-seconds N    what counts as a long-running query (default: the environment's config)
  --format table|json       json: one object on stdout (use npm run -s to drop npm's banner)
  --env dev|staging|prod    service registry, app schema and thresholds to use (default prod)
  --digest                  print the daily digest instead of the metrics
  -h, --help                this text

Exit codes: 0 done, 1 failed, 2 bad usage or input.`;

export interface CliArgs {
  readonly databaseUrl: string;
  readonly format: 'table' | 'json';
  readonly env: keyof typeof ENVIRONMENTS;
  readonly longQuerySeconds?: number;
  readonly digest: boolean;
}

/** Parses argv (without `node script`); throws a one-line UsageError naming a bad argument. */
export function parseCli(argv: readonly string[], env: Record<string, string | undefined> = {}): CliArgs {
  const { values } = parseCommandLine(argv, {
    'database-url': { type: 'string' },
    'long-query-seconds': { type: 'string' },
    format: { type: 'string', default: 'table' },
    env: { type: 'string', default: 'prod' },
    digest: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const databaseUrl = values['database-url'] ?? (env.DATABASE_URL || undefined);
  if (!databaseUrl) throw new UsageError('--database-url is required (or DATABASE_URL; a local PostgreSQL 16: npm run db:local)');
  const format = oneOf('--format', values.format, ['table', 'json'] as const);
  const envName = oneOf('--env', values.env, Object.keys(ENVIRONMENTS) as (keyof typeof ENVIRONMENTS)[]);
  const longQuerySeconds = values['long-query-seconds'] === undefined ? undefined : positiveNumber('--long-query-seconds', values['long-query-seconds']);
  return { databaseUrl: postgresUrl(values['database-url'] !== undefined ? '--database-url' : 'DATABASE_URL', databaseUrl), format, env: envName, longQuerySeconds, digest: values.digest };
}

/** The probe options an environment's config implies, as the deployed Lambda gets them. */
export function optionsFor(envName: keyof typeof ENVIRONMENTS, longQuerySeconds?: number): ProbeOptions {
  const config = loadEnvironment(envName, ENVIRONMENTS[envName]);
  return {
    longQuerySeconds: longQuerySeconds ?? config.dbHealth.longQuerySeconds,
    appSchema: config.roles.appSchema,
    servicePrefixes: config.roles.services.map((s) => s.prefix),
    unusedIndexMinBytes: config.dbHealth.unusedIndexMinBytes,
  };
}

function display(name: keyof MetricMap, v: number | undefined): string {
  if (v === undefined) return name === 'replication_lag_seconds' ? '- (primary without replicas)' : '-';
  if (name === 'buffer_hit_ratio') return v.toFixed(4);
  if (name === 'database_size_bytes') return `${v} (${formatBytes(v)})`;
  if (METRIC_UNITS[name] === 'Seconds') return `${Number.isInteger(v) ? v : v.toFixed(1)} s`;
  return String(v);
}

/** The readable table. */
export function renderTable(metrics: MetricMap): string {
  const width = Math.max(...METRIC_NAMES.map((n) => n.length)) + 2;
  return [`${'metric'.padEnd(width)}value`, ...METRIC_NAMES.map((n) => `${n.padEnd(width)}${display(n, metrics[n])}`)].join('\n');
}

export async function main(argv: readonly string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  if (wantsHelp(argv)) {
    out(USAGE);
    return EXIT.OK;
  }
  let args: CliArgs;
  try {
    args = parseCli(argv, process.env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`db-health: ${e.message} (see --help)`);
    return EXIT.USAGE;
  }
  const options = optionsFor(args.env, args.longQuerySeconds);
  const client = new Client({ connectionString: args.databaseUrl, application_name: 'db-health-cli', connectionTimeoutMillis: 10_000, options: SAFE_SESSION_OPTIONS });
  try {
    assertUrlKeepsSafeSession(args.databaseUrl);
    await client.connect();
    if (args.digest) {
      const data = await collectDigest(client, options);
      const message = formatDigest(data, args.env, new Date());
      out(args.format === 'json' ? JSON.stringify(message) : message.text);
      return 0;
    }
    const started = process.hrtime.bigint();
    const r = await runProbe(client, options);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (args.format === 'json') {
      out(JSON.stringify(r.metrics));
    } else {
      out(renderTable(r.metrics));
      err(`${r.queries} query in ${ms.toFixed(1)} ms · registry: ${args.env} (${options.servicePrefixes.length} prefixes) · long-query threshold ${options.longQuerySeconds} s`);
    }
    return 0;
  } catch (e) {
    err(`db-health: ${redactUrl((e as Error).message)}`);
    return EXIT.FAILED;
  } finally {
    await client.end().catch(() => undefined);
  }
}

if (require.main === module) {
  runMain('db-health', redactUrl, () => main(process.argv.slice(2), (s) => process.stdout.write(`${s}\n`), (s) => process.stderr.write(`${s}\n`)));
}
