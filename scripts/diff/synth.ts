/**
 * Synthesis for `--base`: a temporary `git worktree` of the base ref that borrows the working
 * tree's `node_modules` (a symlink, so no install), the synth command run in it and in the working
 * tree, and the worktree removed again whatever happens.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** `{out}` is replaced by the output directory, which is also passed as `CDK_OUTDIR`. */
export const DEFAULT_SYNTH_COMMAND = 'npx cdk synth --quiet --no-notices -o {out}';

/** A synth or git failure; the CLI maps it to exit code 2. */
export class SynthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SynthError';
  }
}

/** A `--base` that names nothing in the repository: bad input (exit 2). */
export class RefError extends SynthError {
  constructor(message: string) {
    super(message);
    this.name = 'RefError';
  }
}

export type Log = (message: string) => void;

/** Runs a git command synchronously; throws SynthError with git's stderr on failure. */
export function git(cwd: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new SynthError(`git ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new SynthError(`git ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout.trim();
}

export interface SynthOptions {
  /** Directory to run the command in (a checkout of the app). */
  readonly cwd: string;
  /** Where the cloud assembly goes. */
  readonly outDir: string;
  /** Shell command; `{out}` is replaced by `outDir`. @default DEFAULT_SYNTH_COMMAND */
  readonly command?: string;
  /** Stream the command's output to stderr instead of only showing it on failure. @default false */
  readonly verbose?: boolean;
}

/** Synth commands still running, so that an interrupted diff can stop them before cleaning up. */
const running = new Set<ChildProcess>();

/**
 * Stops every running synth command (its whole process group: the shell, npx, cdk and the app) and
 * resolves once they have exited, or after `graceMs` with SIGKILL sent.
 */
export async function stopSynths(graceMs = 5000): Promise<void> {
  const children = [...running];
  const signal = (sig: NodeJS.Signals, child: ChildProcess) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {
      /* already gone */
    }
  };
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => {
            signal('SIGKILL', child);
            resolve();
          }, graceMs);
          child.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          signal('SIGTERM', child);
        }),
    ),
  );
}

/** Runs the synth command; resolves when it exits 0, rejects with SynthError and its output's tail otherwise. */
export function synthesize(opts: SynthOptions): Promise<void> {
  const command = (opts.command ?? DEFAULT_SYNTH_COMMAND).split('{out}').join(shellQuote(opts.outDir));
  return new Promise((resolve, reject) => {
    const child = spawn(command, {
      cwd: opts.cwd,
      shell: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CDK_OUTDIR: opts.outDir, CDK_DISABLE_CLI_TELEMETRY: 'true', FORCE_COLOR: '0' },
      // Its own process group, so that stopSynths() can stop the shell and everything it started.
      detached: true,
    });
    running.add(child);
    let output = '';
    const keep = (chunk: Buffer) => {
      const s = chunk.toString();
      if (opts.verbose) process.stderr.write(s);
      output = (output + s).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) => reject(new SynthError(`cannot run \`${command}\` in ${opts.cwd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      running.delete(child);
      if (code === 0) return resolve();
      const tail = output.trim().split('\n').slice(-40).join('\n');
      reject(new SynthError(`\`${command}\` in ${opts.cwd} failed (${signal ?? `exit ${code}`}):\n${tail}`));
    });
  });
}

export interface Worktree {
  /** Checkout of the ref. */
  readonly dir: string;
  /** The full commit SHA the ref resolved to. */
  readonly commit: string;
  /** Removes the worktree (idempotent, never throws). */
  remove(): void;
}

/**
 * Checks out `ref` into a temporary worktree of the repository at `repoRoot` and symlinks the
 * repository's `node_modules` into it. Warns through `log` when the ref's package-lock.json
 * differs from the working tree's (the base is then built with the newer dependencies).
 */
export function createWorktree(repoRoot: string, ref: string, parentDir: string, log: Log): Worktree {
  const resolved = spawnSync('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: repoRoot, encoding: 'utf8' });
  if (resolved.error) throw new SynthError(`cannot run git: ${resolved.error.message}`);
  if (resolved.status !== 0) {
    throw new RefError(`--base ${ref}: no such commit, branch or tag in ${repoRoot} (a remote branch may need \`git fetch\` first)`);
  }
  const commit = resolved.stdout.trim();
  const dir = path.join(parentDir, 'base');
  git(repoRoot, ['worktree', 'add', '--detach', '--force', dir, commit]);
  let removed = false;
  const wt: Worktree = {
    dir,
    commit,
    remove() {
      if (removed) return;
      removed = true;
      // Unlink the borrowed node_modules first so that nothing can ever delete through it.
      fs.rmSync(path.join(dir, 'node_modules'), { force: true });
      const r = spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: repoRoot, encoding: 'utf8' });
      if (r.status !== 0) {
        fs.rmSync(dir, { recursive: true, force: true });
        spawnSync('git', ['worktree', 'prune'], { cwd: repoRoot });
      }
    },
  };
  try {
    const modules = path.join(repoRoot, 'node_modules');
    if (fs.existsSync(modules) && !fs.existsSync(path.join(dir, 'node_modules'))) {
      fs.symlinkSync(modules, path.join(dir, 'node_modules'), 'dir');
    }
    const lockChanged = spawnSync('git', ['diff', '--quiet', commit, '--', 'package-lock.json'], { cwd: repoRoot }).status === 1;
    if (lockChanged) log(`warning: package-lock.json differs between ${ref} and the working tree; the base is synthesized with the working tree's node_modules`);
  } catch (e) {
    wt.remove();
    throw e;
  }
  return wt;
}

/** A fresh temporary directory for one diff run. */
export function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'platform-diff-'));
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
