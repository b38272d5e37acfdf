/**
 * `npm run cost -- [--env prod] [--format table|json|markdown] [--assembly cdk.out] [--region r]`
 *
 * Estimates each environment's monthly cost from its synthesized templates, offline, with the
 * pinned price file of its region. Without --assembly it synthesizes the app into a temporary
 * directory first. Exit codes: 0 = estimate printed; 1 = it could not be produced (synth failed,
 * unreadable assembly, missing or invalid price file, invalid config); 2 = bad usage.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, ENVIRONMENTS } from '../../lib/config';
import { AssemblyError, readAssembly } from '../diff/assembly';
import { makeTempDir, synthesize, SynthError } from '../diff/synth';
import { estimateFromAssembly } from './environments';
import { PriceFileError, pricedRegions } from './prices/load';
import { FORMATS, render, type Format } from './render';
import type { EnvironmentEstimate } from './types';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const ENV_NAMES = Object.keys(ENVIRONMENTS);

export const USAGE = `Usage: npm run cost -- [options]

Estimates the monthly cost of each environment from its synthesized CloudFormation templates,
offline, with the pinned price file of its region (scripts/cost/prices/<region>.json).

Options:
  --env <name>          environment to estimate (${ENV_NAMES.join(', ')}); repeatable. Default: all
  --format <f>          ${FORMATS.join(' | ')} (default: table)
  --assembly <dir>      read an already synthesized cloud assembly (e.g. cdk.out) instead of synthesizing
  --region <region>     price every environment in this region (priced: ${pricedRegions().join(', ')});
                        default: the environment's configured region, else cost.assumptions.defaultRegion
  -h, --help            this text

Usage-based lines (NAT data, logs, backups, requests) rest on cost.assumptions in
lib/config/environments.ts; each such line says which assumption it uses.

Exit codes: 0 estimate printed; 1 it could not be produced (synth, assembly, price file or config
error); 2 bad usage.`;

export interface CliIo {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  readonly cwd: string;
}

const defaultIo: CliIo = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), cwd: process.cwd() };

class UsageError extends Error {}

interface Options {
  envs: string[];
  format: Format;
  assembly?: string;
  region?: string;
}

function parse(argv: string[]): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        env: { type: 'string', multiple: true },
        format: { type: 'string' },
        assembly: { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return 'help';
  const envs = (values.env ?? []).flatMap((e) => e.split(',')).map((e) => e.trim());
  for (const e of envs) if (!ENV_NAMES.includes(e)) throw new UsageError(`--env "${e}" is not an environment; known: ${ENV_NAMES.join(', ')}`);
  const format = (values.format ?? 'table') as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format "${values.format}" is not one of ${FORMATS.join(', ')}`);
  if (values.region !== undefined && !pricedRegions().includes(values.region)) {
    throw new UsageError(`--region "${values.region}" has no price file; priced: ${pricedRegions().join(', ')}`);
  }
  if (values.assembly === '') throw new UsageError('--assembly needs a directory');
  return { envs: envs.length > 0 ? [...new Set(envs)] : ENV_NAMES, format, assembly: values.assembly, region: values.region };
}

/** Estimates the named environments of an assembly directory, with each environment's config. */
export function estimateAssembly(dir: string, envs: readonly string[], region?: string): EnvironmentEstimate[] {
  const asm = readAssembly(dir);
  return envs.map((env) => estimateFromAssembly(asm, env, region));
}

/** Runs the CLI; resolves to the exit code. Never calls process.exit (tests call it in-process). */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let opts: Options | 'help';
  try {
    opts = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`error: ${e.message} (see --help)\n`);
    return EXIT_USAGE;
  }
  if (opts === 'help') {
    io.stdout(`${USAGE}\n`);
    return EXIT_OK;
  }
  let tmp: string | undefined;
  try {
    let dir: string;
    if (opts.assembly !== undefined) {
      dir = path.resolve(io.cwd, opts.assembly);
    } else {
      tmp = makeTempDir();
      dir = path.join(tmp, 'cdk.out');
      io.stderr(`synthesizing ${opts.envs.join(', ')} into ${dir} …\n`);
      await synthesize({ cwd: io.cwd, outDir: dir, command: `npx cdk synth --quiet --no-notices -c environments=${opts.envs.join(',')} -o {out}`, verbose: false });
    }
    io.stdout(render(estimateAssembly(dir, opts.envs, opts.region), opts.format));
    return EXIT_OK;
  } catch (e) {
    if (e instanceof SynthError) {
      io.stderr(`error: ${e.message.split('\n')[0]} (run \`npx cdk synth\` to see the full output)\n`);
      return EXIT_FAILED;
    }
    if (e instanceof AssemblyError || e instanceof PriceFileError || e instanceof ConfigError) {
      io.stderr(`error: ${e.message.split('\n')[0]}${e.message.includes('\n') ? ` (${e.message.split('\n').slice(1).map((s) => s.trim()).join('; ')})` : ''}\n`);
      return EXIT_FAILED;
    }
    throw e;
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = EXIT_FAILED;
    },
  );
}
