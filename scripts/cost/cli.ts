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
import { ConfigError, ENVIRONMENTS } from '../../lib/config';
import { EXIT, listOr, oneLine, oneOf, parseCommandLine, runMain, UsageError, wantsHelp } from '../cli-kit';
import { AssemblyError, readAssembly } from '../diff/assembly';
import { makeTempDir, synthesize, SynthError } from '../diff/synth';
import { estimateFromAssembly } from './environments';
import { PriceFileError, pricedRegions } from './prices/load';
import { FORMATS, render, type Format } from './render';
import type { EnvironmentEstimate } from './types';

export const EXIT_OK = EXIT.OK;
export const EXIT_FAILED = EXIT.FAILED;
export const EXIT_USAGE = EXIT.USAGE;

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

interface Options {
  envs: string[];
  format: Format;
  assembly?: string;
  region?: string;
}

function parse(argv: string[]): Options {
  const { values } = parseCommandLine(argv, {
    env: { type: 'string', multiple: true },
    format: { type: 'string' },
    assembly: { type: 'string' },
    region: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  const envs = (values.env ?? []).flatMap((e) => e.split(',')).map((e) => e.trim());
  for (const e of envs) oneOf('--env', e, ENV_NAMES);
  const format = oneOf('--format', values.format ?? 'table', FORMATS);
  if (values.region !== undefined && !pricedRegions().includes(values.region)) {
    throw new UsageError(`--region must be ${listOr(pricedRegions())}, the regions with a price file (got ${JSON.stringify(values.region)})`);
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
  if (wantsHelp(argv)) {
    io.stdout(`${USAGE}\n`);
    return EXIT_OK;
  }
  let opts: Options;
  try {
    opts = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`cost: ${oneLine(e)} (see --help)\n`);
    return EXIT_USAGE;
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
      io.stderr(`cost: ${oneLine(e)} (run \`npx cdk synth\` to see the full output)\n`);
      return EXIT_FAILED;
    }
    if (e instanceof AssemblyError || e instanceof PriceFileError || e instanceof ConfigError) {
      const [first, ...rest] = e.message.split('\n').map((l) => l.trim()).filter(Boolean);
      io.stderr(`cost: ${first}${rest.length > 0 ? ` (${rest.join('; ')})` : ''}\n`);
      return EXIT_FAILED;
    }
    throw e;
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runMain('cost', (x) => x, () => main(process.argv.slice(2)));
}
