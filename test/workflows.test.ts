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
  if?: string;
  needs?: string | string[];
  strategy?: { matrix?: { include?: Array<Record<string, string>> } };
  env?: Record<string, string>;
  'continue-on-error'?: boolean;
  uses?: string;
  with?: Record<string, unknown>;
  permissions?: Record<string, string>;
  environment?: string | { name: string };
  concurrency?: { group: string; 'cancel-in-progress'?: boolean };
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  concurrency?: { group: string; 'cancel-in-progress'?: boolean };
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const load = (f: string) => yaml.safeLoad(fs.readFileSync(path.join(DIR, f), 'utf8')) as Workflow;
const allSteps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps ?? []);

/**
 * Every third-party action the workflows use, at the commit its release tag points to. Read with
 * git from the action's own repository (`git rev-parse <tag>^{commit}`), never typed by hand; each
 * of these releases declares `runs.using: node24` in its action.yml (off the deprecated Node 20
 * action runtime). Bump the tag and the SHA together.
 */
const PINS: Record<string, { sha: string; tag: string }> = {
  'actions/checkout': { sha: '3d3c42e5aac5ba805825da76410c181273ba90b1', tag: 'v7.0.1' },
  'actions/setup-node': { sha: '820762786026740c76f36085b0efc47a31fe5020', tag: 'v7.0.0' },
  'actions/github-script': { sha: 'ed597411d8f924073f98dfc5c65a23a2325f34cd', tag: 'v8.0.0' },
  'aws-actions/configure-aws-credentials': { sha: 'e6de054238d6b7531b4efff3b6587d9aade6a06c', tag: 'v6.2.3' },
};

/**
 * The part of GitHub's expression language the workflows' `if:` and `concurrency` use: paths into
 * the contexts, string literals, ==, !=, !, &&, || and parentheses, with GitHub's semantics
 * (https://docs.github.com/en/actions/reference/workflows-and-actions/expressions: && and || return
 * an operand, string comparison ignores case, a missing property is null).
 */
function evaluate(expr: string, ctx: Record<string, unknown>): unknown {
  const tokens = expr.match(/'(?:[^']|'')*'|==|!=|&&|\|\||[()!]|[A-Za-z_][\w.-]*/g) ?? [];
  let i = 0;
  const truthy = (v: unknown) => !(v === false || v === 0 || v === '' || v === null || v === undefined);
  const norm = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v ?? null);
  const primary = (): unknown => {
    const t = tokens[i++];
    if (t === '(') {
      const v = or();
      if (tokens[i++] !== ')') throw new Error(`unbalanced parentheses in ${expr}`);
      return v;
    }
    if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
    if (t === 'true' || t === 'false') return t === 'true';
    if (t === 'null') return null;
    return t.split('.').reduce<unknown>((o, k) => (o === null || typeof o !== 'object' ? null : ((o as Record<string, unknown>)[k] ?? null)), ctx);
  };
  const unary = (): unknown => {
    if (tokens[i] !== '!') return primary();
    i++;
    return !truthy(unary());
  };
  const cmp = (): unknown => {
    const l = unary();
    if (tokens[i] !== '==' && tokens[i] !== '!=') return l;
    const op = tokens[i++];
    const eq = norm(l) === norm(unary());
    return op === '==' ? eq : !eq;
  };
  const and = (): unknown => {
    let l = cmp();
    while (tokens[i] === '&&') {
      i++;
      const r = cmp();
      l = truthy(l) ? r : l;
    }
    return l;
  };
  function or(): unknown {
    let l = and();
    while (tokens[i] === '||') {
      i++;
      const r = and();
      l = truthy(l) ? l : r;
    }
    return l;
  }
  const v = or();
  if (i !== tokens.length) throw new Error(`cannot evaluate ${expr} (stopped at ${tokens[i]})`);
  return v;
}
/** A `${{ }}` template or a bare `if:` expression, evaluated. */
const expand = (template: string, ctx: Record<string, unknown>) => template.replace(/\$\{\{(.*?)\}\}/g, (_, e: string) => String(evaluate(e, ctx)));
const runsIf = (job: Job, ctx: Record<string, unknown>) => job.if === undefined || Boolean(evaluate(job.if.replace(/^\$\{\{|\}\}$/g, ''), ctx));

test('the workflow files are there', () => {
  expect(files).toEqual(expect.arrayContaining(['deploy-environment.yml', 'deploy.yml', 'pr.yml']));
});

describe.each(files)('%s', (file) => {
  test('is a valid workflow (action-validator)', () => {
    const result = validateWorkflow(fs.readFileSync(path.join(DIR, file), 'utf8'));
    expect(result.errors).toEqual([]);
  });

  test('pins every third-party action to a commit SHA read from its release tag, and says which tag', () => {
    const text = fs.readFileSync(path.join(DIR, file), 'utf8');
    for (const s of allSteps(load(file))) {
      if (!s.uses || s.uses.startsWith('./')) continue;
      const [action, sha] = s.uses.split('@');
      expect({ uses: s.uses, pinned: /^[0-9a-f]{40}$/.test(sha) }).toEqual({ uses: s.uses, pinned: true });
      expect({ uses: s.uses, pin: PINS[action]?.sha }).toEqual({ uses: s.uses, pin: sha });
      // The line names the tag, so that a reviewer (and Dependabot) can tell which release it is.
      expect(text).toContain(`uses: ${s.uses} # ${PINS[action].tag}`);
    }
  });

  test('every job that can assume an AWS role keeps no git token and restores no dependency cache', () => {
    const w = load(file);
    for (const [name, job] of Object.entries(w.jobs)) {
      if (job.uses || (job.permissions ?? w.permissions)?.['id-token'] !== 'write') continue;
      for (const s of job.steps ?? []) {
        if (s.uses?.startsWith('actions/checkout@')) expect({ job: name, with: s.with }).toMatchObject({ job: name, with: { 'persist-credentials': false } });
        if (s.uses?.startsWith('actions/setup-node@')) {
          expect({ job: name, with: s.with }).toMatchObject({ job: name, with: { 'package-manager-cache': false } });
          expect(s.with).not.toHaveProperty('cache');
        }
      }
    }
  });

  test('sets up Node 22 or later (Node 20 reached end of life in April 2026)', () => {
    for (const s of allSteps(load(file)).filter((x) => x.uses?.startsWith('actions/setup-node@'))) {
      expect(Number(s.with!['node-version'])).toBeGreaterThanOrEqual(22);
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

  test('npm ci, the typecheck (jest strips types without checking them), then npm test', () => {
    const runs = w.jobs.test.steps!.map((s) => s.run).filter(Boolean);
    expect(runs).toEqual(['npm ci --no-audit --no-fund', 'npm run typecheck', 'npm test']);
  });

  const pr = (action: string, label?: string) => ({
    github: { event: { action, ...(label ? { label: { name: label } } : {}), pull_request: { number: 7, head: { repo: { full_name: 'acme/platform-infra' } } } }, repository: 'acme/platform-infra', run_id: '991' },
  });

  test.each([
    ['opened', undefined, ['diff', 'live-diff', 'test']],
    ['synchronize', undefined, ['diff', 'live-diff', 'test']],
    ['labeled', 'allow-destructive', ['diff']],
    ['unlabeled', 'allow-destructive', ['diff']],
    ['labeled', 'documentation', []],
    ['unlabeled', 'Allow-Destructive-Later', []],
  ])('%s %s runs %j: only the allow-destructive label re-runs the gate', (action, label, jobs) => {
    expect(Object.keys(w.jobs).filter((j) => runsIf(w.jobs[j], pr(action, label))).sort()).toEqual(jobs);
  });

  test('a label that runs nothing has a concurrency group of its own (it cannot cancel a run in progress)', () => {
    const group = (action: string, label?: string) => expand(w.concurrency!.group, pr(action, label));
    expect(w.concurrency!['cancel-in-progress']).toBe(true);
    expect(group('synchronize')).toBe('pr-7-code');
    expect(group('opened')).toBe('pr-7-code');
    expect(group('labeled', 'allow-destructive')).toBe('pr-7-gate');
    expect(group('unlabeled', 'allow-destructive')).toBe('pr-7-gate');
    expect(group('labeled', 'documentation')).toBe('pr-7-991');
  });

  test('a fork gets no live diff (no OIDC token for code from outside)', () => {
    const fork = pr('synchronize');
    fork.github.event.pull_request.head.repo.full_name = 'mallory/platform-infra';
    expect(runsIf(w.jobs['live-diff'], fork)).toBe(false);
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

  test('only the live diff job can assume a role; it cannot write to the PR, and the diff job cannot assume one', () => {
    const withToken = Object.keys(w.jobs).filter((j) => (w.jobs[j].permissions ?? w.permissions)?.['id-token'] === 'write');
    expect(withToken).toEqual(['live-diff']);
    expect(w.jobs['live-diff'].permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(diff.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
  });

  test('the live diff synthesizes each environment bound to its own account and region, with its own role, and cannot fail the PR', () => {
    const job = w.jobs['live-diff'];
    const { ENVIRONMENTS } = require('../lib/config') as typeof import('../lib/config');
    const matrix = job.strategy!.matrix!.include!;
    expect(matrix.map((m) => m.environment)).toEqual(Object.keys(ENVIRONMENTS));
    for (const m of matrix) expect(m.key).toBe(m.environment.toUpperCase());
    expect(job['continue-on-error']).toBe(true);
    expect(job.env).toMatchObject({
      ENV_NAME: '${{ matrix.environment }}',
      ROLE_ARN: "${{ vars[format('AWS_DIFF_ROLE_ARN_{0}', matrix.key)] }}",
      ACCOUNT: "${{ vars[format('AWS_ACCOUNT_ID_{0}', matrix.key)] }}",
      REGION: "${{ vars[format('AWS_REGION_{0}', matrix.key)] }}",
    });
    const steps = job.steps!;
    const creds = steps.find((s) => (s.uses ?? '').startsWith('aws-actions/configure-aws-credentials@'))!;
    expect(creds.with).toMatchObject({ 'role-to-assume': '${{ env.ROLE_ARN }}', 'aws-region': '${{ env.REGION }}', 'allowed-account-ids': '${{ env.ACCOUNT }}' });
    const live = steps.find((s) => /npm run --silent diff:live/.test(s.run ?? ''))!;
    expect(steps.indexOf(live)).toBeGreaterThan(steps.indexOf(creds));
    expect(live.run).toContain('args=(--env "$ENV_NAME" --account "$ACCOUNT" --region "$REGION" --method template)');
    // Every step after "Not configured" is skipped when the environment has no diff role.
    for (const s of steps.slice(1)) expect(s.if).toBe("env.ROLE_ARN != ''");
    expect(steps[0].if).toBe("env.ROLE_ARN == ''");
  });
});

describe('deploy.yml', () => {
  const w = load('deploy.yml');
  const env = load('deploy-environment.yml');

  test('runs on pushes to main', () => {
    expect(w.on.push).toEqual({ branches: ['main'] });
  });

  test('typechecks before the tests', () => {
    expect(w.jobs.test.steps!.map((s) => s.run).filter(Boolean)).toEqual(['npm ci --no-audit --no-fund', 'npm run typecheck', 'npm test']);
  });

  test.each([
    ['push', 'refs/heads/main', true],
    ['workflow_dispatch', 'refs/heads/main', true],
    ['workflow_dispatch', 'refs/heads/feature/x', false],
    ['workflow_dispatch', 'refs/tags/v1.0.0', false],
  ])('%s on %s deploys: %s (a manual run may not deploy another branch)', (event, ref, deploys) => {
    const ctx = { github: { event_name: event, ref } };
    for (const j of ['dev', 'staging', 'prod']) expect({ job: j, runs: runsIf(w.jobs[j], ctx) }).toEqual({ job: j, runs: deploys });
    // And the called workflow refuses on its own, whoever calls it.
    const guard = env.jobs.deploy.steps![0];
    expect(guard.env).toEqual({ REF: '${{ github.ref }}' });
    const r = spawnSync('bash', ['-c', guard.run!], { env: { PATH: process.env.PATH, REF: ref }, encoding: 'utf8' });
    expect(r.status).toBe(deploys ? 0 : 1);
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
    expect(deploy.env).toMatchObject({ ENV_NAME: '${{ inputs.environment }}', ACCOUNT: '${{ vars.AWS_ACCOUNT_ID }}', REGION: '${{ vars.AWS_REGION }}' });
    // Bound with the context keys diff:live passes to cdk diff (scripts/diff/live.ts cdkDiffArgs),
    // so the live diff compares like with like.
    expect(deploy.run).toContain('args=(-c "environments=${ENV_NAME}" -c "${ENV_NAME}:account=${ACCOUNT}" -c "${ENV_NAME}:region=${REGION}")');
    expect(deploy.run).toContain('args+=(-c "${ENV_NAME}:alertEmail=${ALERT_EMAIL}")');
    expect(creds.with).toMatchObject({ 'allowed-account-ids': '${{ vars.AWS_ACCOUNT_ID }}' });
    expect(env.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
  });
});
