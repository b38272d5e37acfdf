import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as sns from 'aws-cdk-lib/aws-sns';
import { BackupPlan, type BackupPlanProps } from '../../lib/constructs/backup-plan';

const DB_ARN = 'arn:aws:rds:ap-northeast-2:111111111111:db:prod-postgres';
const VOL_ARN = 'arn:aws:ec2:ap-northeast-2:111111111111:volume/vol-0123456789abcdef0';

function build(overrides: Partial<BackupPlanProps> = {}, withTopic = true) {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'ap-northeast-2' } });
  const topic = withTopic ? new sns.Topic(stack, 'Alerts') : undefined;
  const plan = new BackupPlan(stack, 'Backup', {
    envName: 'prod',
    resources: [backup.BackupResource.fromArn(DB_ARN), backup.BackupResource.fromArn(VOL_ARN)],
    retentionDays: 30,
    timezone: 'Asia/Seoul',
    alertTopic: topic,
    ...overrides,
  });
  return { stack, plan, t: Template.fromStack(stack) };
}

describe('BackupPlan', () => {
  test('daily 02:00, weekly on Sunday and monthly on the 1st, in Asia/Seoul, each kept 30 days', () => {
    const { t } = build();
    const rules = Object.values(t.findResources('AWS::Backup::BackupPlan'))[0].Properties.BackupPlan.BackupPlanRule as Record<string, any>[];
    const byName = Object.fromEntries(rules.map((r) => [r.RuleName, r]));
    expect(Object.keys(byName).sort()).toEqual(['daily', 'monthly', 'weekly']);
    expect(byName.daily.ScheduleExpression).toBe('cron(0 2 * * ? *)');
    expect(byName.weekly.ScheduleExpression).toBe('cron(0 3 ? * SUN *)');
    expect(byName.monthly.ScheduleExpression).toBe('cron(0 4 1 * ? *)');
    for (const r of rules) {
      expect(r.ScheduleExpressionTimezone).toBe('Asia/Seoul');
      expect(r.Lifecycle).toEqual({ DeleteAfterDays: 30 });
      expect(r.TargetBackupVault).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^BackupVault/), 'BackupVaultName'] });
    }
  });

  test.each([7, 30, 90])('retentionDays %i applies to every rule', (days) => {
    const { t } = build({ retentionDays: days });
    const rules = Object.values(t.findResources('AWS::Backup::BackupPlan'))[0].Properties.BackupPlan.BackupPlanRule as Record<string, any>[];
    expect(rules.map((r) => r.Lifecycle.DeleteAfterDays)).toEqual([days, days, days]);
  });

  test('the vault is encrypted with its own rotating customer-managed key and retained', () => {
    const { t } = build();
    t.hasResource('AWS::Backup::BackupVault', {
      Properties: { EncryptionKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BackupKey'), 'Arn'] } },
      DeletionPolicy: 'Retain',
    });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('selects the database and the volumes', () => {
    const { t } = build();
    t.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: Match.objectLike({ Resources: Match.arrayWith([DB_ARN, VOL_ARN]) }),
    });
  });

  test('failed backup, copy and restore jobs reach the alert topic by EventBridge, not by vault notifications', () => {
    const { t, plan } = build();
    expect(Object.values(t.findResources('AWS::Backup::BackupVault'))[0].Properties.Notifications).toBeUndefined();
    const rules = Object.values(t.findResources('AWS::Events::Rule')).map((r) => r.Properties);
    expect(rules.map((r) => r.EventPattern['detail-type'][0]).sort()).toEqual(['Backup Job State Change', 'Copy Job State Change', 'Restore Job State Change']);
    for (const r of rules) expect(r.Targets).toEqual([expect.objectContaining({ Arn: { Ref: expect.stringMatching(/^Alerts/) } })]);
    expect(plan.failurePatterns.backupJob).toMatchObject({ detail: { state: ['FAILED', 'ABORTED', 'EXPIRED'], backupVaultName: ['prod-platform'] } });
    expect(plan.failurePatterns.restoreJob).toMatchObject({ detail: { status: ['FAILED'] } });
  });

  test('without a topic there are no rules and no notifications', () => {
    const { t, plan } = build({}, false);
    expect(Object.values(t.findResources('AWS::Backup::BackupVault'))[0].Properties.Notifications).toBeUndefined();
    t.resourceCountIs('AWS::Events::Rule', 0);
    expect(plan.failureRules).toHaveLength(0);
  });

  test('vault lock is off by default and compliance-mode at the retention when on', () => {
    expect(Object.values(build().t.findResources('AWS::Backup::BackupVault'))[0].Properties.LockConfiguration).toBeUndefined();
    build({ vaultLock: true }).t.hasResourceProperties('AWS::Backup::BackupVault', {
      LockConfiguration: { MinRetentionDays: 30, ChangeableForDays: 3 },
    });
  });

  test.each([
    [{ retentionDays: 0 }, /retentionDays must be a positive integer, got 0/],
    [{ timezone: 'Seoul' }, /timezone "Seoul" is not an IANA time zone/],
    [{ resources: [] }, /at least one resource/],
    [{ schedules: [{ name: 'a', cron: { hour: '1' } }, { name: 'a', cron: { hour: '2' } }] }, /unique names, got \[a, a\]/],
  ] as [Partial<BackupPlanProps>, RegExp][])('rejects %j', (overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
  });
});

test('jobs get a start window long enough to wait out an RDS maintenance or backup window', () => {
  const { t } = build();
  const rules = Object.values(t.findResources('AWS::Backup::BackupPlan'))[0].Properties.BackupPlan.BackupPlanRule as Record<string, any>[];
  for (const r of rules) {
    expect(r.StartWindowMinutes).toBe(8 * 60);
    expect(r.CompletionWindowMinutes).toBe(24 * 60);
  }
});
