/**
 * cfn-lint over every environment's templates of the shared assembly, in ONE process (its start-up
 * and schema loading dominate; per-template processes cost several times more CPU). The jest
 * global setup starts it in the background right after the synth, so it runs while the other test
 * files do; test/compliance/cfn-lint.test.ts waits for the result. The result is cached under
 * .tmp/ by the assembly's source hash, like the synth itself.
 *
 * cfn-lint is not an npm package: it comes with the machine image here and on CI's machine
 * (`cfn-lint --version`). A missing cfn-lint fails the test everywhere, never skips it.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ASSEMBLY_DIR, REPO, readManifest, stacksOf, synthResult } from './assembly';

/** Regions linted against: the default deploy region (README, cost defaultRegion) and us-east-1, the other priced one. */
export const CFN_LINT_REGIONS = ['ap-northeast-2', 'us-east-1'];

/**
 * A tiny template with one known error (E3012, a list where TopicName wants a string), linted in the
 * same run: proves that the rules really ran with our options, not that cfn-lint merely exited 0.
 */
export const CANARY_TEMPLATE = path.join(REPO, 'test', 'fixtures', 'cfn-lint', 'canary.template.json');

const RESULT_FILE = path.join(REPO, '.tmp', 'cfn-lint.result.json');
const RUNNING_FILE = path.join(REPO, '.tmp', 'cfn-lint.running.json');

/** One cfn-lint finding, as its `--format json` prints it (the fields we read). */
export interface CfnLintFinding {
  Filename: string;
  Level: 'Error' | 'Warning' | 'Informational' | string;
  Message: string;
  Rule: { Id: string; ShortDescription?: string };
  Location: { Path?: (string | number)[]; Start?: { LineNumber: number } };
}

export interface CfnLintResult {
  /** The assembly's source hash the lint ran on. */
  hash: string;
  /** Set when cfn-lint could not run at all (not installed, crashed, unparseable output). */
  error?: string;
  version?: string;
  exitCode?: number;
  /** Every template linted (absolute paths), the canary last. */
  templates: string[];
  findings: CfnLintFinding[];
  durationMs: number;
}

/** Every environment's stack templates in the shared assembly (from the manifests, not a glob). */
export function assemblyTemplates(): string[] {
  const envs = Object.values(readManifest(ASSEMBLY_DIR).artifacts)
    .filter((a) => a.type === 'cdk:cloud-assembly')
    .map((a) => a.properties!.displayName!);
  return envs.flatMap((env) => stacksOf(env).map((s) => s.templateFile));
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function writeAtomically(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2));
  fs.renameSync(tmp, file);
}

/**
 * Starts the lint of the current assembly unless its result is cached or a run of it is under
 * way; resolves when this process's run (if it started one) has written the result.
 */
export async function startCfnLint(): Promise<void> {
  const { hash } = synthResult();
  const cached = readJson<CfnLintResult>(RESULT_FILE);
  // A result that says cfn-lint could not run is reported once, never reused.
  if (cached?.hash === hash && !cached.error) return;
  const running = readJson<{ hash: string; pid: number }>(RUNNING_FILE);
  if (running?.hash === hash && alive(running.pid)) return;

  const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  const templates = [...assemblyTemplates(), CANARY_TEMPLATE];
  if (version.error || version.status !== 0) {
    writeAtomically(RESULT_FILE, {
      hash, templates, findings: [], durationMs: 0,
      error: 'cfn-lint is not installed (it is on these machines and on CI\'s: `cfn-lint --version`; elsewhere `pip install cfn-lint==1.51.0`)',
    } satisfies CfnLintResult);
    return;
  }
  const started = Date.now();
  const child = spawn('cfn-lint', ['--format', 'json', '--regions', ...CFN_LINT_REGIONS, '--', ...templates], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  writeAtomically(RUNNING_FILE, { hash, pid: child.pid });
  // Let a jest run that does not wait for the result exit; the lint finishes and caches it.
  child.unref();
  (child.stdout as unknown as { unref(): void }).unref();
  (child.stderr as unknown as { unref(): void }).unref();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const result: CfnLintResult = { hash, version: version.stdout.trim(), exitCode: code ?? -1, templates, findings: [], durationMs: Date.now() - started };
      // Exit codes are a bitmask: 2 error, 4 warning, 8 informational; 1 (or a signal) is a crash.
      if (code === null || code === 1 || (code & 1) === 1) {
        result.error = `cfn-lint crashed (exit ${code}): ${stderr.slice(-2000)}`;
      } else {
        try {
          result.findings = JSON.parse(stdout || '[]') as CfnLintFinding[];
        } catch {
          result.error = `cfn-lint printed no JSON: ${stdout.slice(0, 500)} ${stderr.slice(-1000)}`;
        }
      }
      writeAtomically(RESULT_FILE, result);
      fs.rmSync(RUNNING_FILE, { force: true });
      resolve();
    });
  });
}

/** The lint result of the current assembly: waits for the background run, or runs it here. */
export async function cfnLintResult(): Promise<CfnLintResult> {
  const { hash } = synthResult();
  for (;;) {
    const done = readJson<CfnLintResult>(RESULT_FILE);
    if (done?.hash === hash) return done;
    const running = readJson<{ hash: string; pid: number }>(RUNNING_FILE);
    if (running?.hash === hash && alive(running.pid)) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    // Nobody is linting this assembly (the run was started without the global setup's lint, or
    // its process died): lint it here.
    await startCfnLint();
  }
}
