/**
 * The diff tool on the real app: copies of the shared synthesized assembly (test/support/assembly.ts,
 * one `cdk synth` of every environment per jest run), with their templates mutated the way real
 * changes would mutate them, diffed through the CLI entry.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main, type CliIo } from '../../../scripts/diff/cli';
import type { Template, TemplateResource } from '../../../scripts/diff/assembly';
import { GITHUB_COMMENT_LIMIT, REPORT_MARKER } from '../../../scripts/diff/report';
import { ASSEMBLY_DIR, synthResult } from '../../support/assembly';
import { tempDir } from './fixtures';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function diff(oldDir: string, newDir: string, ...extra: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd: process.cwd() };
  const code = await main(['--old', oldDir, '--new', newDir, ...extra], io);
  return { code, stdout, stderr };
}

/** displayName (`dev/Data`) -> template file, through the top-level and nested manifests. */
function templateFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    const m = JSON.parse(fs.readFileSync(path.join(d, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string; displayName?: string; properties?: Record<string, string> }> };
    for (const [id, a] of Object.entries(m.artifacts)) {
      if (a.type === 'cdk:cloud-assembly') walk(path.join(d, a.properties!.directoryName));
      if (a.type === 'aws:cloudformation:stack') out.set(a.displayName ?? id, path.join(d, a.properties!.templateFile));
    }
  };
  walk(dir);
  return out;
}

let work: string;
let base: string;
let counter = 0;

/** A copy of the base assembly with `mutate` applied to its templates (by display name). */
function mutated(mutate: (templates: Map<string, Template>) => void): string {
  const dir = path.join(work, `new-${++counter}`);
  fs.cpSync(base, dir, { recursive: true });
  const files = templateFiles(dir);
  const templates = new Map([...files].map(([name, file]) => [name, JSON.parse(fs.readFileSync(file, 'utf8')) as Template]));
  const before = new Map([...templates].map(([n, t]) => [n, JSON.stringify(t)]));
  mutate(templates);
  for (const [name, t] of templates) {
    if (JSON.stringify(t) !== before.get(name)) fs.writeFileSync(files.get(name)!, JSON.stringify(t, null, 1));
  }
  return dir;
}

/** Every resource of `type` in the assembly: `[displayName, logicalId, resource]`. */
function findAll(templates: Map<string, Template>, type: string, where: (r: TemplateResource) => boolean = () => true): Array<[string, string, TemplateResource]> {
  const out: Array<[string, string, TemplateResource]> = [];
  for (const [name, t] of templates) {
    for (const [id, r] of Object.entries(t.Resources ?? {})) if (r.Type === type && where(r)) out.push([name, id, r]);
  }
  return out;
}

/** The first resource of `type`, or a failure that says what the app is missing. */
function first(templates: Map<string, Template>, type: string): [string, string, TemplateResource] {
  const all = findAll(templates, type);
  if (all.length === 0) throw new Error(`the app's assembly has no ${type}; this case needs one`);
  return all[0];
}

function baseTemplates(): Map<string, Template> {
  return new Map([...templateFiles(base)].map(([n, f]) => [n, JSON.parse(fs.readFileSync(f, 'utf8')) as Template]));
}

beforeAll(() => {
  synthResult(); // throws with the synth's output when the shared synth failed
  work = tempDir('diff-real-');
  base = path.join(work, 'base');
  // Templates and manifests only; the bundled assets are not needed to diff.
  fs.cpSync(ASSEMBLY_DIR, base, { recursive: true, filter: (src) => !path.basename(src).startsWith('asset.') });
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('identical trees: exit 0, every stack of every environment compared, no changes', async () => {
  const copy = mutated(() => undefined);
  const r = await diff(base, copy);
  expect(r.code).toBe(0);
  const stacks = templateFiles(base).size;
  expect(stacks).toBeGreaterThanOrEqual(9); // 3 environments x (Network, Alerting, Data, ...)
  expect(r.stdout).toContain(`3 environments, ${stacks} stacks, 0 with changes.`);
  expect(r.stdout).toContain('**No infrastructure changes.**');
});

test.each(['DBInstanceIdentifier', 'DBName'])('renamed primary database (%s): replacement blocks with logical ID, path and why', async (prop) => {
  let target = '';
  const dir = mutated((t) => {
    const [name, id, db] = findAll(t, 'AWS::RDS::DBInstance', (r) => r.Properties?.SourceDBInstanceIdentifier === undefined).find(([n]) => n === 'prod/Data')!;
    target = `${name}:${id}`;
    db.Properties![prop] = `${String(db.Properties![prop] ?? 'platform')}renamed`.replace(/-/g, '');
  });
  const r = await diff(base, dir);
  expect(r.code).toBe(1);
  const id = target.split(':')[1];
  const row = r.stdout.split('\n').find((l) => l.startsWith('| prod | Data |') && l.includes(`\`${id}\``));
  expect(row).toBeDefined();
  expect(row).toContain('`AWS::RDS::DBInstance`');
  expect(row).toMatch(/`prod\/Data\/[^`]+\/Resource`/);
  expect(row).toContain(`**replaced** | replaced: changing ${prop} requires a new resource`);
  expect(row).toContain('RDS DB instance: holds the database');
  expect(r.stderr).toContain(`BLOCKED prod/Data ${id} (AWS::RDS::DBInstance)`);
  // prod has a read replica whose source is the primary: a new primary means a new replica
  // (the resource spec calls it a conditional replacement).
  const [, replicaId] = findAll(baseTemplates(), 'AWS::RDS::DBInstance', (x) => x.Properties?.SourceDBInstanceIdentifier !== undefined).find(([n]) => n === 'prod/Data')!;
  expect(r.stdout).toMatch(new RegExp(`\\| \`${replicaId}\` \\| \`AWS::RDS::DBInstance\` \\| [^|]+ \\| \\*\\*(may be )?replaced\\*\\* \\| (may be )?replaced: changing SourceDBInstanceIdentifier (requires|can require) a new resource.*RDS read replica`));
  // Nothing outside prod changed.
  expect(r.stdout).not.toMatch(/^\| (dev|staging) \|/m);
});

test('removed cache: destruction blocks, and --allow accepts it by environment-qualified logical ID', async () => {
  let id = '';
  const dir = mutated((t) => {
    const [name, logicalId] = findAll(t, 'AWS::ElastiCache::ReplicationGroup').find(([n]) => n === 'dev/Data')!;
    id = logicalId;
    delete t.get(name)!.Resources![logicalId];
  });
  const r = await diff(base, dir);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(new RegExp(`\\| dev \\| Data \\| \`${id}\` \\| \`AWS::ElastiCache::ReplicationGroup\` \\| \`dev/Data/[^\`]+\` \\| \\*\\*destroyed\\*\\* \\| destroyed: removed from the template`));
  const allowed = await diff(base, dir, '--allow', `dev/${id}`);
  expect(allowed.code).toBe(0);
  expect(allowed.stdout).toContain(`\`--allow dev/${id}\``);
  expect((await diff(base, dir, '--allow', `prod/${id}`)).code).toBe(1);
});

test('removed EBS volume: blocks (orphaned under Retain, destroyed otherwise)', async () => {
  let id = '';
  let policy: string | undefined;
  const dir = mutated((t) => {
    const [name, logicalId, vol] = first(t, 'AWS::EC2::Volume');
    id = logicalId;
    policy = vol.DeletionPolicy;
    delete t.get(name)!.Resources![logicalId];
  });
  const r = await diff(base, dir);
  expect(r.code).toBe(1);
  const kind = policy === 'Retain' || policy === 'RetainExceptOnCreate' ? 'orphaned' : 'destroyed';
  expect(r.stdout).toMatch(new RegExp(`\`${id}\` \\| \`AWS::EC2::Volume\` \\| \`[^\`]+\` \\| \\*\\*${kind}\\*\\* \\| .*EBS volume`));
});

test('changed alarm threshold: safe, exit 0, shown as an update', async () => {
  let id = '';
  const dir = mutated((t) => {
    const [, logicalId, alarm] = first(t, 'AWS::CloudWatch::Alarm');
    id = logicalId;
    alarm.Properties!.Threshold = Number(alarm.Properties!.Threshold) + 5;
  });
  const r = await diff(base, dir);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('No stateful resource is replaced, destroyed or orphaned.');
  expect(r.stdout).toMatch(/\| \w+ \| \w+ \| 0 \| 1 \| 0 \| 0 \| 0 \|/);
  expect(r.stdout).toContain(`[~] AWS::CloudWatch::Alarm`);
  expect(r.stdout).toContain(id);
});

test('a new Lambda bundle (asset hash only) is counted, not listed, and passes', async () => {
  let id = '';
  const dir = mutated((t) => {
    const [name, logicalId, fn] = findAll(t, 'AWS::Lambda::Function', (r) => /[0-9a-f]{64}\.zip/.test(JSON.stringify(r.Properties?.Code ?? {})))[0];
    id = logicalId;
    const text = JSON.stringify(fn).replace(/[0-9a-f]{64}/g, '0123456789abcdef'.repeat(4));
    t.get(name)!.Resources![logicalId] = JSON.parse(text);
  });
  const r = await diff(base, dir);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`Asset-hash-only changes (not shown): \`${id}\``);
  expect(r.stdout).not.toContain('[~] AWS::Lambda::Function');
});

test('a diff larger than a GitHub comment is cut to fit by dropping details, and says so', async () => {
  const dir = mutated((t) => {
    for (const tpl of t.values()) {
      // A changed value is printed old and new, so each resource adds ~600 characters of details.
      for (const r of Object.values(tpl.Resources ?? {})) r.Metadata = { ...(r.Metadata ?? {}), 'aws:cdk:path': `${String(r.Metadata?.['aws:cdk:path'])}/${'x'.repeat(300)}` };
    }
  });
  const r = await diff(base, dir, '--max-chars', String(GITHUB_COMMENT_LIMIT));
  expect(r.code).toBe(0);
  expect(r.stdout.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
  expect(r.stdout.startsWith(REPORT_MARKER)).toBe(true);
  expect(r.stdout).toMatch(/Details of \d+ stacks? \(.*\) were left out to keep this comment under GitHub's 65,536-character limit/);
  // Every stack with resources still has its summary row.
  for (const [name, t] of baseTemplates()) {
    if (!Object.values(t.Resources ?? {}).some((x) => x.Type !== 'AWS::CDK::Metadata')) continue;
    const [env, stack] = name.split('/');
    expect(r.stdout).toContain(`| ${env} | ${stack} |`);
  }
});
