import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main, type CliIo } from '../../../scripts/diff/cli';
import { REPORT_MARKER } from '../../../scripts/diff/report';
import { dataResources, tempDir, writeAssembly } from './fixtures';
import { cleanEnv, spawnCli, STACK_FRAME } from '../../support/cli';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: string[], cwd = process.cwd()): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

describe('diff CLI with --old/--new', () => {
  let dir: string;
  let oldDir: string;
  let newDir: string;
  beforeAll(() => {
    dir = tempDir();
    oldDir = writeAssembly(path.join(dir, 'old'), { 'dev/Data': { Resources: dataResources() } });
    const safe = dataResources();
    safe.CpuAlarm.Properties!.Threshold = 90;
    writeAssembly(path.join(dir, 'safe'), { 'dev/Data': { Resources: safe } });
    const destructive = dataResources();
    delete destructive.Cache;
    newDir = writeAssembly(path.join(dir, 'destructive'), { 'dev/Data': { Resources: destructive } });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('identical assemblies: exit 0, "no changes" report on stdout, timings on stderr', async () => {
    const r = await run(['--old', oldDir, '--new', oldDir]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(REPORT_MARKER)).toBe(true);
    expect(r.stdout).toContain('No infrastructure changes');
    expect(r.stderr).toMatch(/\[diff +[\d.]+s\] diff done in [\d.]+s/);
    expect(r.stderr).toMatch(/timings: .*total [\d.]+s, of which synth/);
  });

  test('safe change: exit 0', async () => {
    const r = await run(['--old', oldDir, '--new', path.join(dir, 'safe')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| dev | Data | 0 | 1 | 0 | 0 | 0 |');
  });

  test('destroyed cache: exit 1, the finding on stdout and stderr', async () => {
    const r = await run(['--old', oldDir, '--new', newDir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('`Cache`');
    expect(r.stderr).toMatch(/BLOCKED dev\/Data Cache \(AWS::ElastiCache::ReplicationGroup\) dev\/Data\/CacheConstruct\/Resource: destroyed/);
  });

  test('--allow accepts it; --out writes the report to a file', async () => {
    const out = path.join(dir, 'reports', 'diff.md');
    const r = await run(['--old', oldDir, '--new', newDir, '--allow', 'dev/Cache', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(fs.readFileSync(out, 'utf8')).toContain('`--allow dev/Cache`');
  });

  test('--max-chars is honoured', async () => {
    const r = await run(['--old', oldDir, '--new', newDir, '--max-chars', '2000']);
    expect(r.stdout.length).toBeLessThanOrEqual(2000);
  });

  test.each([
    [[], /give --base <git-ref>, or both --old <dir> and --new <dir>/],
    [['--old', 'a'], /both --old <dir> and --new <dir>/],
    [['--base', 'HEAD', '--old', 'a', '--new', 'b'], /--base and --old exclude each other/],
    [['--old', 'a', '--new', 'b', '--bogus'], /unknown option --bogus/],
    [['--old', 'a', '--new', 'b', '--max-chars', 'lots'], /--max-chars must be an integer/],
    [['--old', 'a', '--new', 'b', '--allow', ' '], /--allow needs a value/],
    [['--old', 'a', '--new', 'b', '--allow', 'Cache'], /--allow Cache is not environment-qualified; name the environment: <env>\/<LogicalId>/],
    [['--old', 'a', '--new', 'b', '--allow', 'AWS::ElastiCache::ReplicationGroup'], /a resource type would accept every such resource in every environment/],
    [['--old', 'a', '--new', 'b', '--allow', 'qa/Cache'], /--allow qa\/Cache: "qa" is not an environment \(dev, staging, prod\)/],
  ])('usage error %j: exit 2 with one line', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('--help: exit 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--synth-command');
  });

  test('a directory that is not an assembly: exit 2', async () => {
    const r = await run(['--old', oldDir, '--new', os.tmpdir() + '/does-not-exist-xyz']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a cloud assembly/);
  });
});

/**
 * --base against a throwaway git repository whose "synth" is a tiny node script turning
 * `stacks.json` into a cloud assembly, so the test exercises git worktrees, the injected synth
 * command and cleanup without synthesizing the real app twice.
 */
describe('diff CLI with --base', () => {
  let repo: string;
  const SYNTH = `
const fs = require('fs'); const path = require('path');
const out = process.argv[2];
if (!fs.existsSync(path.join('node_modules', 'marker'))) { console.error('node_modules missing'); process.exit(5); }
if (process.env.CDK_OUTDIR !== out) { console.error('CDK_OUTDIR not set'); process.exit(6); }
const resources = JSON.parse(fs.readFileSync('stacks.json', 'utf8'));
fs.mkdirSync(path.join(out, 'assembly-dev'), { recursive: true });
fs.writeFileSync(path.join(out, 'assembly-dev', 'Data.template.json'), JSON.stringify({ Resources: resources }));
fs.writeFileSync(path.join(out, 'assembly-dev', 'manifest.json'), JSON.stringify({ version: '55.0.0', artifacts: { devData: { type: 'aws:cloudformation:stack', displayName: 'dev/Data', properties: { templateFile: 'Data.template.json', stackName: 'dev-Data' } } } }));
fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ version: '55.0.0', artifacts: { 'assembly-dev': { type: 'cdk:cloud-assembly', properties: { directoryName: 'assembly-dev' } } } }));
`;
  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: repo, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const commit = (resources: object, message: string) => {
    fs.writeFileSync(path.join(repo, 'stacks.json'), JSON.stringify(resources));
    git('add', 'stacks.json', 'synth.js', '.gitignore');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', message);
  };
  const synth = ['--synth-command', 'node synth.js {out}'];
  const tmpEntries = () => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('platform-diff-')).sort();

  beforeAll(() => {
    repo = tempDir('diff-repo-');
    git('init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(repo, 'synth.js'), SYNTH);
    fs.writeFileSync(path.join(repo, '.gitignore'), 'node_modules/\n');
    fs.mkdirSync(path.join(repo, 'node_modules'));
    fs.writeFileSync(path.join(repo, 'node_modules', 'marker'), 'x');
    commit(dataResources(), 'base');
    const next = dataResources();
    next.CpuAlarm.Properties!.Threshold = 95;
    commit(next, 'safe change');
  });
  afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

  test('committed safe change vs HEAD~1: exit 0; worktree and temp dirs removed; node_modules intact', async () => {
    const before = tmpEntries();
    const r = await run(['--base', 'HEAD~1', ...synth], repo);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Comparing `HEAD~1 \([0-9a-f]{8}\)` → `working tree`/);
    expect(r.stdout).toContain('| dev | Data | 0 | 1 | 0 | 0 | 0 |');
    expect(r.stderr).toMatch(/synth base HEAD~1 done in/);
    expect(r.stderr).toMatch(/synth working tree done in/);
    expect(git('worktree', 'list').split('\n')).toHaveLength(1);
    expect(tmpEntries()).toEqual(before);
    expect(fs.existsSync(path.join(repo, 'node_modules', 'marker'))).toBe(true);
  });

  test('uncommitted destructive change in the working tree: exit 1 (also with --sequential)', async () => {
    const next = dataResources();
    delete next.Cache;
    fs.writeFileSync(path.join(repo, 'stacks.json'), JSON.stringify(next));
    try {
      const r = await run(['--base', 'HEAD', ...synth], repo);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('`Cache`');
      expect((await run(['--base', 'HEAD', '--sequential', ...synth], repo)).code).toBe(1);
      expect((await run(['--base', 'HEAD', '--allow', 'dev/Cache', ...synth], repo)).code).toBe(0);
      // Allowing it in another environment does not allow it here.
      expect((await run(['--base', 'HEAD', '--allow', 'prod/Cache', ...synth], repo)).code).toBe(1);
    } finally {
      git('checkout', '--', 'stacks.json');
    }
  });

  test('--base with --new reuses an existing assembly for the working tree', async () => {
    const newDir = path.join(repo, 'prebuilt.out');
    const same = spawnSync('node', ['synth.js', newDir], { cwd: repo, env: { ...process.env, CDK_OUTDIR: newDir } });
    expect(same.status).toBe(0);
    try {
      const r = await run(['--base', 'HEAD', '--new', 'prebuilt.out', ...synth], repo);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('No infrastructure changes');
      expect(r.stderr).not.toMatch(/synth working tree/);
    } finally {
      fs.rmSync(newDir, { recursive: true, force: true });
    }
  });

  test('Ctrl-C while synthesizing: the synths are stopped, the worktree and temp directory removed, exit 130', async () => {
    const tmp = tempDir('diff-sigint-tmp-');
    try {
      const r = await spawnCli('diff', ['--base', 'HEAD~1', '--synth-command', 'sleep 60'], {
        cwd: repo,
        env: cleanEnv({ TMPDIR: tmp }),
        onSpawn: (child, stderr) => {
          // Interrupt once both synths are running (each logs its start).
          const poll = setInterval(() => {
            if ((stderr().match(/synth .* …/g) ?? []).length >= 2) {
              clearInterval(poll);
              child.kill('SIGINT');
            }
          }, 50);
          child.on('close', () => clearInterval(poll));
        },
      });
      expect(r.stderr).toMatch(/SIGINT: stopping the synths and removing the temporary worktree/);
      expect(r.code).toBe(130);
      expect(r.stderr).not.toMatch(STACK_FRAME);
      expect(git('worktree', 'list').split('\n')).toHaveLength(1);
      expect(fs.readdirSync(tmp).filter((f) => f.startsWith('platform-diff-'))).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('an unknown ref: exit 2, nothing left behind', async () => {
    const before = tmpEntries();
    const r = await run(['--base', 'no-such-ref', ...synth], repo);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --base no-such-ref: no such commit, branch or tag in .*\(a remote branch may need `git fetch` first\)$/m);
    expect(tmpEntries()).toEqual(before);
  });

  test('a failing synth: exit 2 with its output; the worktree is still removed', async () => {
    const r = await run(['--base', 'HEAD~1', '--synth-command', 'echo boom >&2; exit 3'], repo);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/failed \(exit 3\):\nboom/);
    expect(git('worktree', 'list').split('\n')).toHaveLength(1);
  });
});
