import { evaluateGate } from '../../../scripts/diff/gate';
import { GITHUB_COMMENT_LIMIT, REPORT_MARKER, renderReport } from '../../../scripts/diff/report';
import { diffStack, type StackDiff } from '../../../scripts/diff/template-diff';
import { dataResources, stack } from './fixtures';
import type { TemplateResource } from '../../../scripts/diff/assembly';

const labels = { oldLabel: 'origin/main', newLabel: 'working tree' };

function report(stacks: StackDiff[], allow: string[] = [], maxChars?: number): string {
  return renderReport(stacks, evaluateGate(stacks, allow), { ...labels, maxChars });
}

/** A stack with `n` topics whose display names change, each producing some lines of details. */
function noisyStack(name: string, n: number, width = 200): StackDiff {
  const res = (v: string) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`Topic${i}`, { Type: 'AWS::SNS::Topic', Properties: { DisplayName: `${v}${i}`.padEnd(width, v) } } as TemplateResource]));
  return diffStack(stack(name, res('a')), stack(name, res('b')));
}

describe('renderReport', () => {
  test('starts with the hidden marker; no changes says so', () => {
    const out = report([diffStack(stack('dev/Data', dataResources()), stack('dev/Data', dataResources()))]);
    expect(out.startsWith(`${REPORT_MARKER}\n`)).toBe(true);
    expect(out).toContain('**No infrastructure changes.**');
    expect(out).not.toContain('### Summary');
    expect(out).not.toContain('<details>');
  });

  test('summary table per environment and stack with counts; blocking findings highlighted first', () => {
    const after = dataResources();
    after.DatabaseInstance.Properties!.DBName = 'renamed';
    delete after.Cache;
    delete after.WorkerVolume;
    after.CpuAlarm.Properties!.Threshold = 90;
    after.NewTopic = { Type: 'AWS::SNS::Topic', Properties: {} };
    const stacks = [
      diffStack(stack('dev/Data', dataResources()), stack('dev/Data', after)),
      diffStack(stack('prod/Data', dataResources()), stack('prod/Data', dataResources())),
    ];
    const out = report(stacks);
    // dev/Data: 1 added (NewTopic), 1 updated (alarm), 2 replaced (instance + replica), 1 destroyed (cache), 1 orphaned (volume).
    expect(out).toContain('| dev | Data | 1 | 1 | **2** | **1** | **1** | ⛔ 4 stateful |');
    expect(out).toContain('Unchanged: prod/Data.');
    expect(out).toContain('**4 stateful resources would be replaced, destroyed or orphaned.**');
    const blocking = out.slice(out.indexOf('### ⛔ Blocking changes'), out.indexOf('### Summary'));
    expect(blocking).toContain('| dev | Data | `DatabaseInstance` | `AWS::RDS::DBInstance` | `dev/Data/Database/Instance/Resource` | **replaced** |');
    expect(blocking).toMatch(/`Cache` .* \*\*destroyed\*\* \| destroyed: removed from the template/);
    expect(out.indexOf('### ⛔ Blocking changes')).toBeLessThan(out.indexOf('### Summary'));
    expect(out).toMatch(/<details><summary><b>dev\/Data<\/b>: 1 added, 1 updated, 2 replaced, 1 destroyed, 1 orphaned<\/summary>/);
    expect(out).toContain('[~] AWS::CloudWatch::Alarm');
  });

  test('accepted findings are listed with the --allow that accepted them', () => {
    const after = dataResources();
    delete after.Cache;
    const out = report([diffStack(stack('dev/Data', dataResources()), stack('dev/Data', after))], ['dev/Cache']);
    expect(out).toContain('No stateful resource is replaced, destroyed or orphaned.');
    expect(out).toContain('### Accepted destructive changes');
    expect(out).toContain('`--allow dev/Cache`');
  });

  test('security changes are highlighted with their statements and rules', () => {
    const before = { Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } }, Sg: { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'g' } } };
    const after = {
      ...before,
      Sg: { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'g', SecurityGroupIngress: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '0.0.0.0/0' }] } },
      P: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'p', Roles: [{ Ref: 'Role' }], PolicyDocument: { Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: '*' }] } } },
    };
    const out = report([diffStack(stack('dev/Workers', before), stack('dev/Workers', after))]);
    expect(out).toContain('### 🔐 Security changes');
    expect(out).toContain('**dev/Workers**: **IAM permissions broadened**, **security group rules added**');
    expect(out).toContain('| + | * | Allow | s3:GetObject<br>s3:PutObject | AWS:${Role} |  |');
    expect(out).toContain('| + | ${Sg.GroupId} | In | TCP 22 | Everyone (IPv4) |');
    expect(out).toContain('🔐 IAM broadened, 🛡️ SG rules added');
  });

  test('an RDS setting the spec calls "may replace" is reported as an in-place update that may interrupt', () => {
    const after = dataResources();
    after.DatabaseInstance.Properties!.BackupRetentionPeriod = 30;
    const out = report([diffStack(stack('prod/Data', dataResources()), stack('prod/Data', after))]);
    expect(out).toContain('| prod | Data | 0 | 1 | 0 | 0 | 0 | ⚠️ 1 in-place update that may interrupt |');
    expect(out).toContain('`DatabaseInstance`: the resource spec says `BackupRetentionPeriod` "may be replaced"; `AWS::RDS::DBInstance` applies it in place');
    expect(out).not.toContain('Blocking changes');
  });

  test('asset-hash-only changes are counted, not listed', () => {
    const fn = (h: string) => ({ F: { Type: 'AWS::Lambda::Function', Properties: { Code: { S3Bucket: 'b', S3Key: `${h}.zip` } } } });
    const out = report([diffStack(stack('dev/Obs', fn('1'.repeat(64))), stack('dev/Obs', fn('2'.repeat(64))))]);
    expect(out).toContain('1 resource changed only by an asset hash');
    expect(out).toContain('Asset-hash-only changes (not shown): `F`.');
    expect(out).not.toContain('[~] AWS::Lambda::Function');
  });

  test('table cells and summaries are escaped', () => {
    const before = { 'T': { Type: 'AWS::SNS::Topic', Properties: {} } };
    const d = diffStack(stack('dev/A', before), stack('dev/A', {}));
    const weird = { ...d, stackId: 'A|<b>x</b>', displayName: 'dev/A|<b>' };
    const out = report([weird]);
    expect(out).toContain('| dev | A\\|&lt;b&gt;x&lt;/b&gt; |');
    expect(out).toContain('<summary><b>dev/A|&lt;b&gt;</b>');
  });

  test('fits the limit by dropping details per stack, largest non-blocking first, and says so', () => {
    const big = noisyStack('dev/Observability', 300); // ~100k characters of details
    const small = noisyStack('dev/Alerting', 5);
    const after = dataResources();
    delete after.Cache;
    const blocking = diffStack(stack('dev/Data', dataResources()), stack('dev/Data', after));
    const full = report([big, small, blocking], [], 10_000_000);
    expect(full.length).toBeGreaterThan(GITHUB_COMMENT_LIMIT);

    const out = report([big, small, blocking]);
    expect(out.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(out).toContain("were left out to keep this comment under GitHub's 65,536-character limit");
    expect(out).toContain('Details of 1 stack (`dev/Observability`)');
    expect(out).toContain('_Details left out (comment size limit)._');
    // The small stack's and the blocking stack's details survive, and so do the summary rows.
    expect(out).toContain('[~] AWS::SNS::Topic Topic4');
    expect(out).toContain('[-] AWS::ElastiCache::ReplicationGroup Cache destroy');
    expect(out).toContain('| dev | Observability | 0 | 300 |');
    expect(out).toContain('### ⛔ Blocking changes');
  });

  test('blocking stacks lose their details last', () => {
    const after = dataResources();
    delete after.Cache;
    const blocking = diffStack(stack('dev/Data', dataResources()), stack('dev/Data', after));
    const other = noisyStack('dev/Alerting', 3, 50);
    const withAll = report([blocking, other], [], 10_000_000).length;
    // Just enough room for everything but the other stack's details.
    const out = report([blocking, other], [], withAll - 100);
    expect(out.length).toBeLessThanOrEqual(withAll - 100);
    expect(out).toContain('Details of 1 stack (`dev/Alerting`)');
    expect(out).toContain('Cache destroy');
  });

  test('a report that cannot fit even without details is cut, keeping the marker', () => {
    const stacks = Array.from({ length: 400 }, (_, i) => noisyStack(`env${i}/Stack${i}`, 2, 10));
    const out = report(stacks, [], 5000);
    expect(out.length).toBeLessThanOrEqual(5000);
    expect(out.startsWith(REPORT_MARKER)).toBe(true);
    expect(out).toContain('**Report truncated** at 5,000 characters');
  });
});
