/**
 * `npm run diff -- --base <git-ref> | --old <dir> --new <dir> [--out file] [--allow X]...`
 *
 * Diffs every stack of every environment between two synthesized cloud assemblies, offline, and
 * prints a Markdown report. Exit codes: 0 = no changes or only safe ones, 1 = a stateful resource
 * would be replaced, destroyed or orphaned (and no --allow accepts it), 2 = usage, git, synth or
 * assembly error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENVIRONMENTS } from '../../lib/config';
import { EXIT, parseCommandLine, runMain, UsageError, wantsHelp } from '../cli-kit';
import { AssemblyError, readAssembly } from './assembly';
import { allowEntryProblem, evaluateGate } from './gate';
import { GITHUB_COMMENT_LIMIT, renderReport } from './report';
import { createWorktree, DEFAULT_SYNTH_COMMAND, git, makeTempDir, stopSynths, synthesize, SynthError, type Worktree } from './synth';
import { diffAssemblies } from './template-diff';
import { diffCosts, renderCostSection } from '../cost/compare';

export const EXIT_OK = EXIT.OK;
export const EXIT_BLOCKED = EXIT.FAILED;
export const EXIT_ERROR = EXIT.USAGE;
/** Exit codes after Ctrl-C / SIGTERM, as a shell reports a process killed by them (128 + signal). */
export const EXIT_SIGNAL: Readonly<Record<'SIGINT' | 'SIGTERM', number>> = { SIGINT: 130, SIGTERM: 143 };

export const USAGE = `Usage:
  npm run diff -- --base <git-ref> [options]          synthesize <git-ref> (in a temporary git worktree) and the working tree, then diff
  npm run diff -- --base <git-ref> --new <dir> [...]   as above, but reuse an already synthesized working tree in <dir>
  npm run diff -- --old <dir> --new <dir> [options]    diff two synthesized cloud assemblies

Options:
  --out <file>              write the Markdown report to <file> instead of stdout
  --allow <env>/<id>        accept a destructive change to a stateful resource in one environment:
                            <env>/<LogicalId>, <env>/<Stack>/<LogicalId> or a construct path
                            (prod/Data/Database/Instance/Resource). Bare IDs and resource types are
                            refused, so that allowing something in dev never allows it in prod. Repeatable.
  --max-chars <n>           keep the report under <n> characters (default ${GITHUB_COMMENT_LIMIT}, GitHub's comment limit)
  --synth-command <cmd>     how to synthesize a checkout; {out} is the output directory, also exported as
                            CDK_OUTDIR (default: ${DEFAULT_SYNTH_COMMAND})
  --sequential              synthesize base and working tree one after the other (default: both at once)
  --keep                    keep the temporary directory (synthesized assemblies) and print its path
  --verbose                 stream the synth output to stderr
  -h, --help                this text

Exit codes: 0 no changes or only safe ones; 1 a stateful resource would be replaced, destroyed or
orphaned; 2 usage, git ref, synth or assembly error; 130 interrupted (Ctrl-C; the temporary worktree
is removed first).`;

export interface CliIo {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  /** Working directory (the repository, for --base). */
  readonly cwd: string;
}

const defaultIo: CliIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  cwd: process.cwd(),
};

interface Options {
  base?: string;
  old?: string;
  new?: string;
  out?: string;
  allow: string[];
  maxChars: number;
  synthCommand: string;
  sequential: boolean;
  keep: boolean;
  verbose: boolean;
}

function parse(argv: string[]): Options | 'help' {
  if (wantsHelp(argv)) return 'help';
  const { values } = parseCommandLine(argv, {
    base: { type: 'string' },
    old: { type: 'string' },
    new: { type: 'string' },
    out: { type: 'string' },
    allow: { type: 'string', multiple: true },
    'max-chars': { type: 'string' },
    'synth-command': { type: 'string' },
    sequential: { type: 'boolean' },
    keep: { type: 'boolean' },
    verbose: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  if (values.base !== undefined && values.old !== undefined) throw new UsageError('--base and --old exclude each other');
  if (values.base === undefined && (values.old === undefined || values.new === undefined)) {
    throw new UsageError('give --base <git-ref>, or both --old <dir> and --new <dir>');
  }
  if (values.base === '') throw new UsageError('--base needs a git ref');
  const maxChars = values['max-chars'] === undefined ? GITHUB_COMMENT_LIMIT : Number(values['max-chars']);
  if (!Number.isInteger(maxChars) || maxChars < 2000) throw new UsageError(`--max-chars must be an integer of at least 2000 (got ${values['max-chars']})`);
  const allow = (values.allow ?? []).map((a) => a.trim());
  for (const a of values.allow ?? []) {
    const problem = allowEntryProblem(a, Object.keys(ENVIRONMENTS));
    if (problem) throw new UsageError(problem);
  }
  return {
    base: values.base,
    old: values.old,
    new: values.new,
    out: values.out,
    allow,
    maxChars,
    synthCommand: values['synth-command'] ?? DEFAULT_SYNTH_COMMAND,
    sequential: values.sequential ?? false,
    keep: values.keep ?? false,
    verbose: values.verbose ?? false,
  };
}

/** Elapsed-time bookkeeping for the progress lines and phase timings printed on stderr. */
class Clock {
  private readonly start = performance.now();
  readonly phases: Array<{ name: string; start: number; end: number; synth: boolean }> = [];
  constructor(private readonly io: CliIo) {}
  log(msg: string): void {
    this.io.stderr(`[diff ${((performance.now() - this.start) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
  }
  async phase<T>(name: string, fn: () => T | Promise<T>, synth = false): Promise<T> {
    this.log(`${name} …`);
    const start = performance.now();
    const r = await fn();
    const end = performance.now();
    this.phases.push({ name, start, end, synth });
    this.log(`${name} done in ${((end - start) / 1000).toFixed(1)}s`);
    return r;
  }
  /** Per-phase times, and the wall time spent synthesizing (overlapping synths counted once). */
  summary(): string {
    const total = performance.now() - this.start;
    let synth = 0;
    let reach = -Infinity;
    for (const p of this.phases.filter((x) => x.synth).sort((a, b) => a.start - b.start)) {
      synth += Math.max(0, p.end - Math.max(p.start, reach));
      reach = Math.max(reach, p.end);
    }
    const sec = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
    const parts = this.phases.map((p) => `${p.name} ${sec(p.end - p.start)}`).join(', ');
    return `timings: ${parts}; total ${sec(total)}, of which synth ${sec(synth)} (${total > 0 ? Math.round((100 * synth) / total) : 0}%)`;
  }
}

/** Runs the CLI; resolves to the exit code. Never calls process.exit (tests call it in-process). */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let opts: Options | 'help';
  try {
    opts = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`error: ${e.message} (see --help)\n`);
    return EXIT_ERROR;
  }
  if (opts === 'help') {
    io.stdout(`${USAGE}\n`);
    return EXIT_OK;
  }

  const clock = new Clock(io);
  let tmp: string | undefined;
  let worktree: Worktree | undefined;
  const cleanup = () => {
    worktree?.remove();
    if (tmp && !opts.keep) fs.rmSync(tmp, { recursive: true, force: true });
  };
  // Ctrl-C: stop the synths (their own process groups), then remove the worktree and the temporary
  // directory, and exit 130 (143 for SIGTERM). Repeated signals while that runs are ignored, so
  // that a second Ctrl-C cannot interrupt the cleanup half-way.
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    clock.log(`${sig}: stopping the synths and removing the temporary worktree …`);
    void stopSynths().finally(() => {
      cleanup();
      process.exit(EXIT_SIGNAL[sig as 'SIGINT' | 'SIGTERM'] ?? EXIT_SIGNAL.SIGINT);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let oldDir: string;
    let newDir: string;
    let oldLabel: string;
    let newLabel: string;
    if (opts.base !== undefined) {
      const repoRoot = git(io.cwd, ['rev-parse', '--show-toplevel']);
      tmp = makeTempDir();
      const t = tmp;
      const ref = opts.base;
      worktree = await clock.phase(`worktree of ${ref}`, () => createWorktree(repoRoot, ref, t, (m) => clock.log(m)));
      const wt = worktree;
      oldDir = path.join(tmp, 'base.out');
      oldLabel = `${ref} (${wt.commit.slice(0, 8)})`;
      const synthBase = () => clock.phase(`synth base ${ref}`, () => synthesize({ cwd: wt.dir, outDir: oldDir, command: opts.synthCommand, verbose: opts.verbose }), true);
      if (opts.new !== undefined) {
        newDir = path.resolve(io.cwd, opts.new);
        newLabel = path.relative(io.cwd, newDir) || '.';
        await synthBase();
      } else {
        newDir = path.join(tmp, 'head.out');
        newLabel = 'working tree';
        const nd = newDir;
        const synthHead = () => clock.phase('synth working tree', () => synthesize({ cwd: repoRoot, outDir: nd, command: opts.synthCommand, verbose: opts.verbose }), true);
        if (opts.sequential) {
          await synthBase();
          await synthHead();
        } else {
          // Wait for both before failing, so that no synth still runs in a worktree being removed.
          const results = await Promise.allSettled([synthBase(), synthHead()]);
          const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
          if (failed) throw failed.reason;
        }
      }
      worktree.remove();
    } else {
      oldDir = path.resolve(io.cwd, opts.old!);
      newDir = path.resolve(io.cwd, opts.new!);
      oldLabel = opts.old!;
      newLabel = opts.new!;
    }

    const [oldAsm, newAsm] = await clock.phase('read assemblies', () => [readAssembly(oldDir), readAssembly(newDir)] as const);
    const stacks = await clock.phase('diff', () => diffAssemblies(oldAsm, newAsm));
    const gate = evaluateGate(stacks, opts.allow);
    // The cost section informs; it never changes the exit code (a flagged rise is for review).
    const costs = await clock.phase('cost', () => diffCosts(oldAsm, newAsm));
    const report = await clock.phase('report', () => renderReport(stacks, gate, { oldLabel, newLabel, maxChars: opts.maxChars, costSection: renderCostSection(costs) }));
    if (opts.out) {
      fs.mkdirSync(path.dirname(path.resolve(io.cwd, opts.out)), { recursive: true });
      fs.writeFileSync(path.resolve(io.cwd, opts.out), report);
      clock.log(`report written to ${opts.out} (${report.length} characters)`);
    } else {
      io.stdout(report);
    }

    const changed = stacks.filter((s) => s.status !== 'unchanged').length;
    clock.log(`${stacks.length} stacks, ${changed} with changes; ${gate.blocking.length} blocking, ${gate.allowed.length} allowed`);
    for (const f of gate.blocking) clock.log(`BLOCKED ${f.stack} ${f.change.logicalId} (${f.change.resourceType}) ${f.change.path ?? ''}: ${f.why}`);
    for (const a of gate.unusedAllows) clock.log(`warning: --allow ${a} matched no destructive change`);
    for (const c of costs.filter((x) => x.flagged)) clock.log(`cost: ${c.environment} estimate rises ${((c.share ?? 0) * 100).toFixed(1)}% (flagged above ${((c.threshold ?? 0) * 100).toFixed(0)}%, not blocked)`);
    if (opts.keep && tmp) clock.log(`kept ${tmp}`);
    clock.log(clock.summary());
    return gate.exitCode;
  } catch (e) {
    if (interrupted) return new Promise<number>(() => undefined); // the signal handler exits
    if (e instanceof SynthError || e instanceof AssemblyError) {
      io.stderr(`error: ${e.message}\n`);
      return EXIT_ERROR;
    }
    throw e;
  } finally {
    if (!interrupted) {
      cleanup();
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  }
}

if (require.main === module) {
  runMain('diff', (x) => x, () => main(process.argv.slice(2)));
}
