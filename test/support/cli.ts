/**
 * Runs one of the repository's CLIs the way a person does (`npm run <name>` is `tsx [--require
 * ./scripts/register-sql.cjs] <file>`), as a child process with a controlled environment.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export const REPO = path.resolve(__dirname, '..', '..');
const TSX = path.join(REPO, 'node_modules', '.bin', 'tsx');
/** `--import tsx` resolved from this repository, so that it works from any working directory. */
const TSX_LOADER = pathToFileURL(path.join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The entry file of each npm script, whether it needs the .sql require hook, and whether it runs as
 * `node --import tsx` (the CLIs that clean up on Ctrl-C: the tsx binary relays a signal and SIGKILLs
 * its child if the child has not acknowledged it within 30 ms, which a loaded machine can miss).
 */
export const CLIS = {
  roles: { file: 'lambda/role-schema/cli.ts', sql: true, direct: false },
  notify: { file: 'lambda/notifier/cli.ts', sql: false, direct: false },
  'db-health': { file: 'lambda/db-health/cli.ts', sql: true, direct: false },
  'cache-health': { file: 'lambda/cache-health/cli.ts', sql: false, direct: false },
  diff: { file: 'scripts/diff/cli.ts', sql: false, direct: true },
  'diff:live': { file: 'scripts/diff/live.ts', sql: false, direct: true },
  'db:local': { file: 'scripts/db-local/cli.ts', sql: false, direct: true },
} as const;

/** A minimal environment: PATH and HOME, no AWS or Slack settings from the caller's shell. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra };
}

export interface SpawnOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Called with the child once it runs (to send it a signal). */
  readonly onSpawn?: (child: import('node:child_process').ChildProcess, stderrSoFar: () => string) => void;
}

export function spawnCli(name: keyof typeof CLIS, args: readonly string[], opts: SpawnOptions = {}): Promise<CliRun> {
  const c = CLIS[name];
  const argv = [...(c.direct ? ['--import', TSX_LOADER] : []), ...(c.sql ? ['--require', path.join(REPO, 'scripts', 'register-sql.cjs')] : []), path.join(REPO, c.file), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(c.direct ? process.execPath : TSX, argv, { cwd: opts.cwd ?? REPO, env: opts.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    opts.onSpawn?.(child, () => stderr);
  });
}

/** A stack frame line, as Node prints them. */
export const STACK_FRAME = /^\s+at .+[:(]\d+/m;
