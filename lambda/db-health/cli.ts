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
 */
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { ENVIRONMENTS, loadEnvironment } from '../../lib/config';
import { METRIC_NAMES, METRIC_UNITS, type MetricMap } from './contract';
import { collectDigest, formatBytes, formatDigest } from './digest';
import { runProbe, type ProbeOptions } from './probe';

const USAGE =
  'usage: npm run db-health -- --database-url <url> [--long-query-seconds N] [--format table|json] [--env dev|staging|prod] [--digest]';

export interface CliArgs {
  readonly databaseUrl: string;
  readonly format: 'table' | 'json';
  readonly env: keyof typeof ENVIRONMENTS;
  readonly longQuerySeconds?: number;
  readonly digest: boolean;
}

/** Parses argv (without `node script`); throws with the usage line on a bad argument. */
export function parseCli(argv: readonly string[], env: Record<string, string | undefined> = {}): CliArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'database-url': { type: 'string' },
      'long-query-seconds': { type: 'string' },
      format: { type: 'string', default: 'table' },
      env: { type: 'string', default: 'prod' },
      digest: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) throw new Error(USAGE);
  const databaseUrl = values['database-url'] ?? env.DATABASE_URL;
  if (!databaseUrl) throw new Error(`--database-url is required\n${USAGE}`);
  if (values.format !== 'table' && values.format !== 'json') throw new Error(`--format must be "table" or "json" (got ${JSON.stringify(values.format)})\n${USAGE}`);
  if (!Object.hasOwn(ENVIRONMENTS, values.env)) {
    throw new Error(`--env must be one of ${Object.keys(ENVIRONMENTS).join(', ')} (got ${JSON.stringify(values.env)})\n${USAGE}`);
  }
  let longQuerySeconds: number | undefined;
  if (values['long-query-seconds'] !== undefined) {
    longQuerySeconds = Number(values['long-query-seconds']);
    if (!Number.isFinite(longQuerySeconds) || longQuerySeconds <= 0) {
      throw new Error(`--long-query-seconds must be a positive number (got ${JSON.stringify(values['long-query-seconds'])})`);
    }
  }
  return { databaseUrl, format: values.format, env: values.env as CliArgs['env'], longQuerySeconds, digest: values.digest };
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
  if (argv.includes('--help') || argv.includes('-h')) {
    out(USAGE);
    return 0;
  }
  let args: CliArgs;
  try {
    args = parseCli(argv, process.env);
  } catch (e) {
    err((e as Error).message);
    return 2;
  }
  const options = optionsFor(args.env, args.longQuerySeconds);
  const client = new Client({ connectionString: args.databaseUrl, application_name: 'db-health-cli', connectionTimeoutMillis: 10_000 });
  try {
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
    err(`db-health: ${(e as Error).message}`);
    return 1;
  } finally {
    await client.end().catch(() => undefined);
  }
}

if (require.main === module) {
  main(process.argv.slice(2), (s) => process.stdout.write(`${s}\n`), (s) => process.stderr.write(`${s}\n`)).then((code) => {
    process.exitCode = code;
  });
}
