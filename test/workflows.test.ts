/**
 * The GitHub workflow files: valid against GitHub's workflow schema (@action-validator/core, the
 * wasm core of @action-validator/cli), their shell steps clean under shellcheck, and wired the way
 * the PR gate and the staged deploys need.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateWorkflow } from '@action-validator/core';

// js-yaml 3 (a devDependency, the same version jest brings); a parsed workflow is easier to assert on than text.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { safeLoad(src: string): unknown };

const REPO = path.resolve(__dirname, '..');
const DIR = path.join(REPO, '.github', 'workflows');
const files = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  'continue-on-error'?: boolean;
}
interface Job {
  needs?: string | string[];
  uses?: string;
  with?: Record<string, unknown>;
  permissions?: Record<string, string>;
  environment?: string | { name: string };
  concurrency?: { group: string; 'cancel-in-progress'?: boolean };
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const load = (f: string) => yaml.safeLoad(fs.readFileSync(path.join(DIR, f), 'utf8')) as Workflow;
const allSteps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps ?? []);

test('the workflow files are there', () => {
  expect(files).toEqual(expect.arrayContaining(['deploy-environment.yml', 'deploy.yml', 'pr.yml']));
});

describe.each(files)('%s', (file) => {
  test('is a valid workflow (action-validator)', () => {
    const result = validateWorkflow(fs.readFileSync(path.join(DIR, file), 'utf8'));
    expect(result.errors).toEqual([]);
  });

  test('pins every action to a version', () => {
    for (const s of allSteps(load(file))) {
      if (s.uses && !s.uses.startsWith('./')) expect(s.uses).toMatch(/^[\w.-]+\/[\w.-]+@(v\d+(\.\d+)*|[0-9a-f]{40})$/);
    }
  });

  test('runs only npm scripts that exist', () => {
    const scripts = Object.keys((JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
    for (const s of allSteps(load(file))) {
      for (const m of (s.run ?? '').matchAll(/npm run (?:--silent )?([\w:-]+)/g)) expect(scripts).toContain(m[1]);
    }
  });

  const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;
  (hasShellcheck || process.env.CI ? test : test.skip)('its shell steps pass shellcheck', () => {
    if (!hasShellcheck) throw new Error('shellcheck is required in CI (.ci/run installs it with apt-get)');
    for (const s of allSteps(load(file)).filter((x) => x.run)) {
      // GitHub substitutes ${{ }} before the shell runs; any word stands in for it here.
      const script = `#!/usr/bin/env bash\nset -eo pipefail\n${s.run!.replace(/\$\{\{[^}]*\}\}/g, 'EXPR')}`;
      const r = spawnSync('shellcheck', ['-s', 'bash', '-'], { input: script, encoding: 'utf8' });
      expect({ step: s.name ?? s.run, output: r.stdout }).toEqual({ step: s.name ?? s.run, output: '' });
    }
  });
});

test('the validator does reject a broken workflow', () => {
  const broken = 'name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz:\n      - run: echo\n';
  expect(validateWorkflow(broken).errors.length).toBeGreaterThan(0);
});

describe('pr.yml', () => {
  const w = load('pr.yml');
  const diff = w.jobs.diff;
  const step = (pred: (s: Step) => boolean) => diff.steps!.find(pred);

  test('runs on pull requests, also when labels change (the allow-destructive label re-runs the gate)', () => {
    expect(w.on.pull_request).toEqual({ types: expect.arrayContaining(['opened', 'synchronize', 'reopened', 'labeled', 'unlabeled']) });
  });

  test('npm ci and npm test', () => {
    const runs = w.jobs.test.steps!.map((s) => s.run).filter(Boolean);
    expect(runs).toEqual(['npm ci --no-audit --no-fund', 'npm test']);
  });

  test('synth, then the offline diff against the PR base with full history, reusing the synthesized tree', () => {
    expect(diff.steps![0]).toMatchObject({ uses: expect.stringMatching(/^actions\/checkout@/), with: { 'fetch-depth': 0 } });
    const synthIndex = diff.steps!.findIndex((s) => /npx cdk synth .*-o cdk\.out/.test(s.run ?? ''));
    const d = step((s) => s.id === 'diff')!;
    expect(synthIndex).toBeGreaterThan(-1);
    expect(diff.steps!.indexOf(d)).toBeGreaterThan(synthIndex);
    expect(d.env).toEqual({ BASE_SHA: '${{ github.event.pull_request.base.sha }}' });
    expect(d.run).toMatch(/npm run --silent diff -- --base "\$BASE_SHA" --new cdk\.out --out diff\.md/);
    expect(d.run).toContain('echo "exit-code=$code" >> "$GITHUB_OUTPUT"');
  });

  test('posts one sticky comment through github-script, even when the diff failed', () => {
    const c = step((s) => (s.uses ?? '').startsWith('actions/github-script@'))!;
    expect(c.if).toMatch(/^always\(\)/);
    expect(c.with!.script).toContain("require('./scripts/diff/sticky-comment.js')");
    expect(fs.existsSync(path.join(REPO, 'scripts/diff/sticky-comment.js'))).toBe(true);
    expect(diff.permissions).toMatchObject({ 'pull-requests': 'write' });
  });

  test('fails on destructive changes unless the PR has the allow-destructive label; fails on diff errors', () => {
    const gate = step((s) => s.name === 'Gate on destructive changes')!;
    expect(gate.if).toBe('always()');
    expect(gate.env).toEqual({
      DIFF_EXIT: '${{ steps.diff.outputs.exit-code }}',
      ALLOWED: "${{ contains(github.event.pull_request.labels.*.name, 'allow-destructive') }}",
    });
    const sh = (code: string, allowed: string) =>
      spawnSync('bash', ['-c', gate.run!], { env: { PATH: process.env.PATH, DIFF_EXIT: code, ALLOWED: allowed }, encoding: 'utf8' }).status;
    expect(sh('0', 'false')).toBe(0);
    expect(sh('1', 'false')).toBe(1);
    expect(sh('1', 'true')).toBe(0);
    expect(sh('2', 'true')).toBe(1);
    expect(sh('', 'false')).toBe(1);
  });

  test('the live diff runs only when the repository names a diff role, through OIDC, and cannot fail the job', () => {
    const creds = step((s) => (s.uses ?? '').startsWith('aws-actions/configure-aws-credentials@'))!;
    expect(creds.if).toContain("vars.AWS_DIFF_ROLE_ARN != ''");
    expect(creds.with).toMatchObject({ 'role-to-assume': '${{ vars.AWS_DIFF_ROLE_ARN }}' });
    const live = step((s) => s.id === 'live')!;
    expect(live.if).toBe("steps.aws.outcome == 'success'");
    expect(live['continue-on-error']).toBe(true);
    expect(live.run).toMatch(/npx cdk diff --app cdk\.out --method template/);
    expect(diff.permissions).toMatchObject({ 'id-token': 'write' });
  });
});

describe('deploy.yml', () => {
  const w = load('deploy.yml');
  const env = load('deploy-environment.yml');

  test('runs on pushes to main', () => {
    expect(w.on.push).toEqual({ branches: ['main'] });
  });

  test('tests, then dev, then staging, then prod', () => {
    expect(w.jobs.dev).toMatchObject({ needs: 'test', uses: './.github/workflows/deploy-environment.yml', with: { environment: 'dev' } });
    expect(w.jobs.staging).toMatchObject({ needs: 'dev', uses: './.github/workflows/deploy-environment.yml', with: { environment: 'staging' } });
    expect(w.jobs.prod).toMatchObject({ needs: 'staging', uses: './.github/workflows/deploy-environment.yml', with: { environment: 'prod' } });
    for (const j of ['dev', 'staging', 'prod']) expect(w.jobs[j].permissions).toEqual({ contents: 'read', 'id-token': 'write' });
  });

  test('each deploy runs in its GitHub environment (prod approval lives there), one at a time per environment', () => {
    const job = env.jobs.deploy;
    expect(env.on.workflow_call).toMatchObject({ inputs: { environment: { required: true, type: 'string' } } });
    expect(job.environment).toEqual({ name: '${{ inputs.environment }}' });
    expect(job.concurrency).toEqual({ group: 'deploy-${{ inputs.environment }}', 'cancel-in-progress': false });
  });

  test("assumes the environment's deploy role by OIDC and deploys '<env>/*' without prompts", () => {
    const steps = env.jobs.deploy.steps!;
    const creds = steps.find((s) => (s.uses ?? '').startsWith('aws-actions/configure-aws-credentials@'))!;
    expect(creds.with).toMatchObject({ 'role-to-assume': '${{ vars.AWS_DEPLOY_ROLE_ARN }}', 'aws-region': '${{ vars.AWS_REGION }}' });
    const deploy = steps.find((s) => s.name === 'cdk deploy')!;
    expect(steps.indexOf(deploy)).toBeGreaterThan(steps.indexOf(creds));
    expect(deploy.run).toContain('npx cdk deploy "${ENV_NAME}/*" --require-approval never');
    expect(deploy.env).toMatchObject({ ENV_NAME: '${{ inputs.environment }}' });
    expect(env.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
  });
});
