/**
 * AWS Backup failures reach people only through events AWS still sends.
 *
 * - https://docs.aws.amazon.com/aws-backup/latest/devguide/API_PutBackupVaultNotifications.html
 *   lists the vault events; BACKUP_JOB_FAILED, BACKUP_JOB_EXPIRED, RESTORE_JOB_FAILED (and the
 *   other names below) are deprecated: "Deprecated events do not return statuses or notifications."
 * - https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html
 *   AWS Backup sends `Backup Job State Change`, `Copy Job State Change` and `Restore Job State
 *   Change` to EventBridge; test/contracts/event-rules.test.ts matches the rules against the
 *   samples printed there.
 */
import { resources, target, ENVS } from './support';

/** The vault events the notification options page lists as supported. */
const SUPPORTED_VAULT_EVENTS = [
  'BACKUP_JOB_STARTED', 'BACKUP_JOB_COMPLETED',
  'COPY_JOB_STARTED', 'COPY_JOB_SUCCESSFUL', 'COPY_JOB_FAILED',
  'RESTORE_JOB_STARTED', 'RESTORE_JOB_COMPLETED', 'RECOVERY_POINT_MODIFIED',
  'S3_BACKUP_OBJECT_FAILED', 'S3_RESTORE_OBJECT_FAILED',
];

describe.each(ENVS)('%s: AWS Backup failure alerts', (env) => {
  test('no vault subscribes to a deprecated notification event', () => {
    const vaults = resources(env, 'AWS::Backup::BackupVault');
    expect(vaults.length).toBeGreaterThan(0);
    for (const v of vaults) {
      for (const e of v.Properties.Notifications?.BackupVaultEvents ?? []) expect(SUPPORTED_VAULT_EVENTS).toContain(e);
    }
  });

  test('backup, copy and restore job failures each have a rule to the warning alert topic', () => {
    const rules = resources(env, 'AWS::Events::Rule').filter((r) => r.Properties.EventPattern?.source?.includes('aws.backup'));
    const byType = Object.fromEntries(rules.map((r) => [r.Properties.EventPattern['detail-type'][0], r]));
    expect(Object.keys(byType).sort()).toEqual(['Backup Job State Change', 'Copy Job State Change', 'Restore Job State Change']);
    for (const r of rules) {
      expect(r.Properties.State ?? 'ENABLED').toBe('ENABLED');
      const topics = (r.Properties.Targets as Record<string, any>[]).map((t) => target(env, r.stack, t.Arn));
      expect(topics.map((t) => t?.Properties.TopicName)).toEqual([`${env}-alerts-warning`]);
    }
  });
});
