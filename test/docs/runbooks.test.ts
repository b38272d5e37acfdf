/**
 * Every CloudWatch alarm of every environment links a runbook section that exists.
 *
 * The alarms are read from the shared assembly (the real templates of dev, staging and prod), the
 * link from the end of each AlarmDescription (`Runbook: …docs/runbooks/<file>.md#<anchor>`, added by
 * lib/constructs/alarms/runbook-links.ts), and the anchors are computed with github-slugger, the
 * same algorithm GitHub uses for heading anchors (https://github.com/Flet/github-slugger), so a
 * link that passes here lands on its heading on GitHub.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import GithubSlugger from 'github-slugger';
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { REPO, stacksOf, templateJson } from '../support/assembly';
import { RUNBOOK_FILES, RUNBOOKS, RunbookLinks, runbookKey, runbookUrl } from '../../lib/constructs/alarms/runbook-links';

const RUNBOOK_DIR = path.join(REPO, 'docs', 'runbooks');
const CATALOGUE = 'lib/constructs/alarms/runbook-links.ts';

/** GitHub anchors of a Markdown file's headings (fenced code skipped; repeated headings get -1, -2). */
function headingAnchors(markdown: string): Set<string> {
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const f = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (f) {
      if (!fence) fence = f[1][0];
      else if (f[1][0] === fence) fence = undefined;
      continue;
    }
    if (fence) continue;
    const h = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) anchors.add(slugger.slug(h[1]));
  }
  return anchors;
}

const anchorsByFile = new Map<string, Set<string>>();
function anchorsOf(file: string): Set<string> | undefined {
  if (!anchorsByFile.has(file)) {
    const p = path.join(RUNBOOK_DIR, file);
    anchorsByFile.set(file, fs.existsSync(p) ? headingAnchors(fs.readFileSync(p, 'utf8')) : new Set());
    if (!fs.existsSync(p)) return undefined;
  }
  return anchorsByFile.get(file);
}

interface FoundAlarm {
  env: string;
  stack: string;
  logicalId: string;
  name: string;
  description: string;
}

function alarmsOf(env: string): FoundAlarm[] {
  const out: FoundAlarm[] = [];
  for (const s of stacksOf(env)) {
    const t = templateJson(env, s.displayName.slice(env.length + 1));
    for (const [logicalId, r] of Object.entries<any>(t.Resources ?? {})) {
      if (r.Type !== 'AWS::CloudWatch::Alarm' && r.Type !== 'AWS::CloudWatch::CompositeAlarm') continue;
      const name = typeof r.Properties?.AlarmName === 'string' ? r.Properties.AlarmName : `(unnamed ${logicalId})`;
      const description = typeof r.Properties?.AlarmDescription === 'string' ? r.Properties.AlarmDescription : '';
      out.push({ env, stack: s.displayName, logicalId, name, description });
    }
  }
  return out;
}

/** What is wrong with one alarm's runbook link, as an instruction to whoever added the alarm; undefined when fine. */
function runbookProblem(a: FoundAlarm): string | undefined {
  const key = runbookKey(a.env, a.name);
  const link = /Runbook:\s*(\S*?)docs\/runbooks\/([\w.-]+)#([\w-]+)\s*$/.exec(a.description);
  if (!link) {
    return (
      `${a.name} (${a.stack}, ${a.logicalId}) has no runbook link. Add a line to RUNBOOKS in ${CATALOGUE}:\n` +
      `      '${key}': '<${RUNBOOK_FILES.join('|')}>#<anchor>',\n` +
      `    and a heading in docs/runbooks/<file>.md whose GitHub anchor is <anchor> (e.g. "## ${key}: what it means" → #${new GithubSlugger().slug(`${key}: what it means`)}), ` +
      'saying what to look at first, the commands, and when to escalate.'
    );
  }
  const [, , file, anchor] = link;
  const anchors = anchorsOf(file);
  if (!anchors) return `${a.name} (${a.stack}) links docs/runbooks/${file}, which does not exist; use one of ${RUNBOOK_FILES.map((f) => `${f}.md`).join(', ')} in ${CATALOGUE} ('${key}').`;
  if (!anchors.has(anchor)) {
    return `${a.name} (${a.stack}) links docs/runbooks/${file}#${anchor}, but no heading there has that anchor. Add a heading whose GitHub anchor is "${anchor}" to docs/runbooks/${file}, or fix '${key}' in ${CATALOGUE}; anchors there now: ${[...anchors].join(', ')}`;
  }
  return undefined;
}

describe('runbooks', () => {
  test.each(['dev', 'staging', 'prod'])('every alarm in %s links an existing runbook section', (env) => {
    const alarms = alarmsOf(env);
    expect(alarms.length).toBeGreaterThan(20);
    const problems = alarms.map(runbookProblem).filter((p): p is string => !!p);
    if (problems.length) throw new Error(`${problems.length} alarm(s) in ${env} without a working runbook link:\n\n  ${problems.join('\n\n  ')}\n`);
  });

  test('every catalogue entry points at an existing section (also entries no environment uses today)', () => {
    const broken = Object.entries(RUNBOOKS).filter(([, ref]) => {
      const [file, anchor] = ref.split('#');
      return !anchorsOf(`${file}.md`)?.has(anchor);
    });
    expect(broken).toEqual([]);
  });

  test('one runbook file per area exists, each with a section on when to escalate', () => {
    for (const f of RUNBOOK_FILES) {
      const p = path.join(RUNBOOK_DIR, `${f}.md`);
      expect(fs.existsSync(p)).toBe(true);
      expect(fs.readFileSync(p, 'utf8')).toMatch(/escalat/i);
    }
  });

  test('the check fails for an alarm without a link, a missing file and a missing anchor', () => {
    const a = { env: 'prod', stack: 'prod/Data', logicalId: 'X', name: 'prod-cache-003-new-thing', description: 'Something broke.' };
    expect(runbookProblem(a)).toMatch(/'cache-\{n\}-new-thing': '<database\|cache\|workers\|backups\|alerting>#<anchor>'/);
    expect(runbookProblem({ ...a, description: 'x Runbook: docs/runbooks/nope.md#a' })).toMatch(/does not exist/);
    expect(runbookProblem({ ...a, description: 'x Runbook: https://example.com/r/docs/runbooks/cache.md#no-such-heading' })).toMatch(/no heading there has that anchor/);
    expect(runbookProblem({ ...a, description: `x Runbook: ${runbookUrl(RUNBOOKS['cache-{n}-cpu'], 'https://example.com/r')}` })).toBeUndefined();
  });

  test('links between the runbooks land on existing files and headings', () => {
    const broken: string[] = [];
    for (const f of fs.readdirSync(RUNBOOK_DIR).filter((x) => x.endsWith('.md'))) {
      const md = fs.readFileSync(path.join(RUNBOOK_DIR, f), 'utf8');
      for (const [, target, anchor] of md.matchAll(/\]\((?!https?:)([\w.-]*\.md)?(?:#([\w-]+))?\)/g)) {
        const file = target ?? f;
        const anchors = anchorsOf(file);
        if (!anchors || (anchor && !anchors.has(anchor))) broken.push(`${f}: (${target ?? ''}#${anchor ?? ''})`);
      }
    }
    expect(broken).toEqual([]);
  });

  test('anchors follow GitHub: punctuation dropped, code fences skipped, repeats numbered', () => {
    const md = '# Title\n## db-cpu: CPU high\n```bash\n# not a heading\n```\n### `worker-{n}-memory-used`\n## Title\n';
    expect([...headingAnchors(md)]).toEqual(['title', 'db-cpu-cpu-high', 'worker-n-memory-used', 'title-1']);
  });
});

describe('RunbookLinks aspect', () => {
  const build = (urlBase?: string, description = 'CPU is high.') => {
    const app = new App();
    const stack = new Stack(app, 'S');
    const metric = new cloudwatch.Metric({ namespace: 'AWS/RDS', metricName: 'CPUUtilization' });
    new cloudwatch.Alarm(stack, 'Cpu', { alarmName: 'prod-db-cpu', alarmDescription: description, metric, threshold: 80, evaluationPeriods: 1 });
    new cloudwatch.Alarm(stack, 'Unknown', { alarmName: 'prod-something-new', metric, threshold: 1, evaluationPeriods: 1 });
    Aspects.of(stack).add(new RunbookLinks({ envName: 'prod', urlBase }));
    return Template.fromStack(stack);
  };

  test('appends the link under the URL base, or the repository path without one', () => {
    build('https://github.com/acme/platform-infra/blob/main/').hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'prod-db-cpu',
      AlarmDescription: 'CPU is high. Runbook: https://github.com/acme/platform-infra/blob/main/docs/runbooks/database.md#db-cpu-cpu-high',
    });
    build().hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'prod-db-cpu', AlarmDescription: 'CPU is high. Runbook: docs/runbooks/database.md#db-cpu-cpu-high' });
  });

  test('an alarm missing from the catalogue gets a synth warning naming the line to add', () => {
    const app = new App();
    const stack = new Stack(app, 'S');
    new cloudwatch.Alarm(stack, 'Unknown', { alarmName: 'prod-something-new', metric: new cloudwatch.Metric({ namespace: 'N', metricName: 'M' }), threshold: 1, evaluationPeriods: 1 });
    Aspects.of(stack).add(new RunbookLinks({ envName: 'prod' }));
    Annotations.fromStack(stack).hasWarning('/S/Unknown/Resource', Match.stringLikeRegexp("'something-new': '<file>#<anchor>'"));
  });

  test('keys: env prefix dropped, number segments generalised', () => {
    expect(runbookKey('prod', 'prod-cache-002-cpu')).toBe('cache-{n}-cpu');
    expect(runbookKey('staging', 'staging-worker-0-memory-used')).toBe('worker-{n}-memory-used');
    expect(runbookKey('prod', 'prod-db-p99-latency')).toBe('db-p99-latency');
  });

  test('a bad URL base or a description pushed over 1024 characters fails at synth, naming the value', () => {
    expect(() => build('http://insecure.example')).toThrow(/runbookUrlBase must be an https URL.*http:\/\/insecure\.example/);
    expect(() => build(undefined, 'x'.repeat(1000))).toThrow(/Alarm prod-db-cpu: .* over CloudWatch's 1024/);
  });
});
