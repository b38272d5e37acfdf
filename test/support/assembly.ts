/**
 * The shared synthesized cloud assembly of the whole app (all environments), so that tests read
 * the real templates without synthesizing again in every file.
 *
 *   const t = template('prod', 'Data');           // aws-cdk-lib/assertions Template
 *   const json = templateJson('dev', 'Network');   // raw JSON
 */
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';

export const REPO = path.resolve(__dirname, '..', '..');
export const ASSEMBLY_DIR = path.join(REPO, '.tmp', 'test-assembly');
const RESULT_FILE = path.join(REPO, '.tmp', 'test-assembly.result.json');

export interface SynthResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  hash: string;
  cached?: boolean;
  /** The AWS-related environment variable names that were removed for the run. */
  removedEnv: string[];
}

const HASHED = ['bin', 'lib', 'lambda', 'sql', 'cdk.json', 'package-lock.json'];

function sourceHash(): string {
  const h = crypto.createHash('sha256');
  const walk = (p: string) => {
    const full = path.join(REPO, p);
    if (!fs.existsSync(full)) return;
    const st = fs.statSync(full);
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(full).sort()) walk(path.join(p, e));
    } else {
      h.update(p).update('\0').update(fs.readFileSync(full));
    }
  };
  HASHED.forEach(walk);
  return h.digest('hex');
}

/** Environment with every AWS credential and config source removed: synth must not need them. */
export function credentialFreeEnv(): { env: NodeJS.ProcessEnv; removed: string[] } {
  const env: NodeJS.ProcessEnv = {};
  const removed: string[] = [];
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AWS_|CDK_DEFAULT_)/.test(k)) removed.push(k);
    else env[k] = v;
  }
  Object.assign(env, {
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  return { env, removed };
}

/** Synthesizes unless a synth of the same sources already succeeded. */
export async function synthesizeOnce(): Promise<SynthResult> {
  const hash = sourceHash();
  if (fs.existsSync(RESULT_FILE) && fs.existsSync(path.join(ASSEMBLY_DIR, 'manifest.json'))) {
    const prev = JSON.parse(fs.readFileSync(RESULT_FILE, 'utf8')) as SynthResult;
    if (prev.hash === hash && prev.exitCode === 0) return { ...prev, cached: true };
  }
  // Synthesize beside the shared directory and swap it in, so a concurrent jest run reading the
  // previous assembly does not see a half-written one.
  const outDir = `${ASSEMBLY_DIR}.${process.pid}`;
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(ASSEMBLY_DIR), { recursive: true });
  const { env, removed } = credentialFreeEnv();
  const started = Date.now();
  const result = await new Promise<SynthResult>((resolve) => {
    const child = spawn('npx', ['cdk', 'synth', '--quiet', '--output', outDir], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ exitCode: code ?? 1, stdout, stderr, durationMs: Date.now() - started, hash, removedEnv: removed }));
  });
  if (result.exitCode === 0) {
    fs.rmSync(ASSEMBLY_DIR, { recursive: true, force: true });
    fs.renameSync(outDir, ASSEMBLY_DIR);
  } else {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
  fs.writeFileSync(RESULT_FILE, JSON.stringify(result, null, 2));
  return result;
}

/** The recorded result of the shared synth (globalSetup ran it). */
export function synthResult(): SynthResult {
  if (!fs.existsSync(RESULT_FILE)) throw new Error('No shared synth result: run tests through jest (globalSetup synthesizes the app)');
  const r = JSON.parse(fs.readFileSync(RESULT_FILE, 'utf8')) as SynthResult;
  if (r.exitCode !== 0) throw new Error(`The shared synth failed (exit ${r.exitCode}):\n${r.stderr.slice(-4000)}`);
  return r;
}

interface Manifest {
  artifacts: Record<string, { type: string; displayName?: string; properties?: { displayName?: string; file?: string; templateFile?: string; directoryName?: string; terminationProtection?: boolean; stackName?: string } }>;
  missing?: unknown[];
}

export function readManifest(dir = ASSEMBLY_DIR): Manifest {
  return JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
}

export interface StackArtifact {
  id: string;
  displayName: string;
  templateFile: string;
  stackName: string;
  terminationProtection: boolean;
}

const stacksByEnv = new Map<string, StackArtifact[]>();

/** Stack artifacts of one environment (read once per test file). */
export function stacksOf(envName: string): StackArtifact[] {
  let stacks = stacksByEnv.get(envName);
  if (!stacks) {
    synthResult();
    const nested = path.join(ASSEMBLY_DIR, `assembly-${envName}`);
    stacks = Object.entries(readManifest(nested).artifacts)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([id, a]) => ({
        id,
        displayName: a.displayName ?? id,
        templateFile: path.join(nested, a.properties!.templateFile!),
        stackName: a.properties?.stackName ?? id,
        terminationProtection: a.properties?.terminationProtection ?? false,
      }));
    stacksByEnv.set(envName, stacks);
  }
  return stacks;
}

const cache = new Map<string, Record<string, unknown>>();

/** Raw template JSON of stack `<env>/<stack>`, e.g. `templateJson('prod', 'Data')`. */
export function templateJson(envName: string, stack: string): Record<string, any> {
  const key = `${envName}/${stack}`;
  if (!cache.has(key)) {
    const stacks = stacksOf(envName);
    const s = stacks.find((x) => x.displayName === key);
    if (!s) throw new Error(`No stack ${key} in the assembly; have: ${stacks.map((x) => x.displayName).join(', ')}`);
    cache.set(key, JSON.parse(fs.readFileSync(s.templateFile, 'utf8')));
  }
  return cache.get(key)!;
}

/** `Template` for assertions on stack `<env>/<stack>`. */
export function template(envName: string, stack: string): Template {
  return Template.fromJSON(templateJson(envName, stack));
}
