/**
 * cache-health from the command line: the same probe (and digest) as the Lambda, against any
 * Redis or Valkey.
 *
 *   npm run cache-health -- --url rediss://user:password@host:6380 [--format table|json]
 *     [--env dev|staging|prod] [--max-keys N] [--scan-count N] [--ca bundle.pem] [--digest]
 *
 * `--format json` prints exactly one JSON object on stdout (with `--digest`: the digest message
 * the Lambda would publish). Diagnostics go to stderr (`npm run -s` drops npm's banner).
 * `--env` picks the cache registry (namespaces, must-expire) and the scan budget from lib/config.
 * TLS (`rediss://`) verifies the certificate chain and host name; plain `redis://` is accepted
 * for a server on this machine only. Exit codes (scripts/cli-kit.ts): 0 done, 1 failed, 2 bad
 * usage or input.
 */
import fs from 'node:fs';
import { createClient } from '@redis/client';
import { ENVIRONMENTS, loadEnvironment, registeredNamespaces } from '../../lib/config';
import { EXIT, oneOf, parseCommandLine, redactUrl, runMain, UsageError, url, wantsHelp } from '../../scripts/cli-kit';
import { formatBytes } from '../shared/slack-text';
import { METRIC_NAMES, METRIC_UNITS, type MetricMap } from './contract';
import { clientOptions, type Endpoint } from './connection';
import { digestData, formatDigest } from './digest';
import { checkBudget, runProbe, type ProbeOptions, type ProbeResult } from './probe';

export const USAGE = `usage: npm run cache-health -- --url <rediss://user:password@host:port> [--format table|json] [--env dev|staging|prod] [--max-keys N] [--scan-count N] [--ca FILE] [--digest]

  --url URL              rediss://user:password@host:port (TLS, verified); redis:// only for 127.0.0.1/localhost (default: CACHE_URL)
  --format table|json    json: one object on stdout (use npm run -s to drop npm's banner)
  --env dev|staging|prod cache registry and scan budget to use (default prod)
  --max-keys N           scan budget: keys sampled at most (default: the environment's config)
  --scan-count N         SCAN COUNT per call (default: the environment's config)
  --ca FILE              PEM bundle the server certificate must chain to (default: Node's bundled roots)
  --digest               print the daily digest instead of the metrics
  -h, --help             this text

Exit codes: 0 done, 1 failed, 2 bad usage or input.`;

export interface CliArgs {
  readonly endpoint: Endpoint;
  readonly format: 'table' | 'json';
  readonly env: keyof typeof ENVIRONMENTS;
  readonly maxKeys?: number;
  readonly scanCount?: number;
  readonly digest: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function count(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`${flag} must be a positive integer (got ${JSON.stringify(v)})`);
  return Number(v);
}

/** Parses argv (without `node script`); throws a one-line UsageError naming a bad argument. */
export function parseCli(argv: readonly string[], env: Record<string, string | undefined> = {}): CliArgs {
  const { values } = parseCommandLine(argv, {
    url: { type: 'string' },
    format: { type: 'string', default: 'table' },
    env: { type: 'string', default: 'prod' },
    'max-keys': { type: 'string' },
    'scan-count': { type: 'string' },
    ca: { type: 'string' },
    digest: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const raw = values.url ?? (env.CACHE_URL || undefined);
  const flag = values.url !== undefined ? '--url' : 'CACHE_URL';
  if (!raw) throw new UsageError('--url is required (or CACHE_URL), e.g. rediss://user:password@host:6380');
  const u = url(flag, raw, { protocols: ['redis', 'rediss'] });
  const tls = u.protocol === 'rediss:';
  if (!tls && !LOOPBACK.has(u.hostname)) throw new UsageError(`${flag} must use rediss:// (TLS) for a server that is not on this machine (got ${JSON.stringify(redactUrl(raw))})`);
  if (u.pathname !== '' && u.pathname !== '/' && u.pathname !== '/0') throw new UsageError(`${flag}: the probe reads database 0 only (got ${JSON.stringify(u.pathname)})`);
  let ca: string | undefined;
  if (values.ca !== undefined) {
    try {
      ca = fs.readFileSync(values.ca, 'utf8');
    } catch (e) {
      throw new UsageError(`--ca cannot read ${JSON.stringify(values.ca)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca ${JSON.stringify(values.ca)} holds no PEM certificate`);
  }
  const maxKeys = count('--max-keys', values['max-keys']);
  const scanCount = count('--scan-count', values['scan-count']);
  return {
    endpoint: {
      host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: u.port === '' ? 6379 : Number(u.port),
      username: decodeURIComponent(u.username) || 'default',
      password: decodeURIComponent(u.password),
      tls,
      ca,
    },
    format: oneOf('--format', values.format, ['table', 'json'] as const),
    env: oneOf('--env', values.env, Object.keys(ENVIRONMENTS) as (keyof typeof ENVIRONMENTS)[]),
    maxKeys,
    scanCount,
    digest: values.digest,
  };
}

/** The probe options an environment's config implies, as the deployed Lambda gets them. */
export function optionsFor(envName: keyof typeof ENVIRONMENTS, budget: { maxKeys?: number; scanCount?: number } = {}): ProbeOptions {
  const c = loadEnvironment(envName, ENVIRONMENTS[envName]);
  const b = { maxKeys: budget.maxKeys ?? c.cacheHealth.scanMaxKeys, scanCount: budget.scanCount ?? c.cacheHealth.scanCount };
  try {
    checkBudget(b);
  } catch (e) {
    throw new UsageError((e as Error).message.replace('scan budget maxKeys', '--max-keys').replace('scan budget scanCount', '--scan-count'));
  }
  return { patterns: registeredNamespaces(c.cache.services, c.cache.mustExpire, c.roles.services), mustExpire: c.cache.mustExpire, budget: b };
}

function display(name: keyof MetricMap, v: number | undefined): string {
  if (v === undefined) return '-';
  if (METRIC_UNITS[name] === 'Bytes') return `${v} (${formatBytes(v)})`;
  if (name === 'rate_window_seconds') return `${v} s`;
  return String(v);
}

/** The readable table: the metrics, then the namespaces. */
export function renderTable(r: ProbeResult): string {
  const width = Math.max(...METRIC_NAMES.map((n) => n.length), ...r.patterns.map((p) => p.pattern.length + 2)) + 2;
  const est = r.sample.complete ? '' : '~';
  return [
    `${'metric'.padEnd(width)}value`,
    ...METRIC_NAMES.map((n) => `${n.padEnd(width)}${display(n, r.metrics[n])}`),
    '',
    `${'namespace'.padEnd(width)}keys (without TTL)`,
    ...r.patterns.map((p) => `${p.pattern.padEnd(width)}${est}${p.keys} (${est}${p.withoutTtl})${p.mustExpire ? ' must expire' : ''}`),
    `${'(unregistered)'.padEnd(width)}${est}${r.unregistered.keys}`,
    ...(r.biggest[0] ? [`${'(biggest key)'.padEnd(width)}${r.biggest[0].key.slice(0, 80)} ${formatBytes(r.biggest[0].bytes)}`] : []),
  ].join('\n');
}

export async function main(argv: readonly string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  if (wantsHelp(argv)) {
    out(USAGE);
    return EXIT.OK;
  }
  let args: CliArgs;
  let options: ProbeOptions;
  try {
    args = parseCli(argv, process.env);
    options = optionsFor(args.env, args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`cache-health: ${redactUrl(e.message)} (see --help)`);
    return EXIT.USAGE;
  }
  const client = createClient(clientOptions(args.endpoint));
  client.on('error', () => undefined); // reported by the command that fails
  try {
    await client.connect();
    const started = process.hrtime.bigint();
    const r = await runProbe(client, options);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (args.digest) {
      const message = formatDigest(digestData(r), args.env, new Date());
      out(args.format === 'json' ? JSON.stringify(message) : message.text);
      return EXIT.OK;
    }
    if (args.format === 'json') {
      out(JSON.stringify({ metrics: r.metrics, patterns: r.patterns, unregistered: r.unregistered, missingTtl: r.missingTtl, biggest: r.biggest, sample: r.sample }));
    } else {
      out(renderTable(r));
      const s = r.sample;
      err(`${s.commands} commands (${s.scanCalls} SCAN COUNT ${s.budget.scanCount}) in ${ms.toFixed(1)} ms · ${s.complete ? 'whole keyspace scanned' : `sample of ${s.keysSampled} keys, counts scaled x${s.scale.toFixed(2)}`} · registry: ${args.env}`);
    }
    return EXIT.OK;
  } catch (e) {
    err(`cache-health: ${redactUrl((e as Error).message.split('\n')[0])}`);
    return EXIT.FAILED;
  } finally {
    await client.close().catch(() => undefined);
  }
}

if (require.main === module) {
  runMain('cache-health', redactUrl, () => main(process.argv.slice(2), (s) => process.stdout.write(`${s}\n`), (s) => process.stderr.write(`${s}\n`)));
}
