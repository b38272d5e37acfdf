import { Duration, RemovalPolicy, TimeZone, Token, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { alertTopicTarget } from './workers/worker-snapshot-policy';

/** Backup job states EventBridge reports that mean no recovery point was made. */
export const BACKUP_JOB_FAILURE_STATES = ['FAILED', 'ABORTED', 'EXPIRED'] as const;

/**
 * The AWS Backup job events that carry failures, and the field that holds each one's state. The
 * vault notifications BACKUP_JOB_FAILED, BACKUP_JOB_EXPIRED and RESTORE_JOB_FAILED are deprecated
 * and send nothing (PutBackupVaultNotifications API reference), so failures come from these
 * EventBridge events (https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html).
 * Restore jobs report `status`, the others `state`, as in AWS's own sample events.
 */
export const BACKUP_FAILURE_EVENTS = {
  backupJob: { detailType: 'Backup Job State Change', field: 'state', values: BACKUP_JOB_FAILURE_STATES },
  copyJob: { detailType: 'Copy Job State Change', field: 'state', values: ['FAILED'] },
  restoreJob: { detailType: 'Restore Job State Change', field: 'status', values: ['FAILED'] },
} as const;

export type BackupFailureKind = keyof typeof BACKUP_FAILURE_EVENTS;

/** One schedule of the plan (all at minute 0, in the plan's time zone). */
export interface BackupSchedule {
  /** Rule name, e.g. `daily`. */
  readonly name: string;
  /** The cron fields (EventBridge syntax) of the rule, without minute. */
  readonly cron: Pick<events.CronOptions, 'hour' | 'day' | 'weekDay' | 'month'>;
}

/**
 * Seed 004: daily at 02:00, weekly on Sunday, monthly on the 1st. The weekly and monthly runs
 * start an hour and two hours after the daily one: AWS Backup runs one job per resource at a time,
 * so three jobs for the same database at the same minute would fail each other.
 */
export const SEED_004_SCHEDULES: readonly BackupSchedule[] = [
  { name: 'daily', cron: { hour: '2' } },
  { name: 'weekly', cron: { hour: '3', weekDay: 'SUN' } },
  { name: 'monthly', cron: { hour: '4', day: '1' } },
];

export interface BackupPlanProps {
  /** Environment name, used in the vault and plan names. */
  readonly envName: string;
  /** ARNs (or constructs, via `backup.BackupResource`) to back up: the RDS instance, the worker volumes. */
  readonly resources: readonly backup.BackupResource[];
  /** Days each recovery point is kept (seed 004: 30). */
  readonly retentionDays: number;
  /** IANA time zone of the schedules (seed 004: Asia/Seoul). */
  readonly timezone: string;
  /**
   * Vault lock in compliance mode: recovery points cannot be deleted before `retentionDays`, by
   * anyone, once the 3-day grace period has passed. @default false
   */
  readonly vaultLock?: boolean;
  /** Where failed backup, copy and restore jobs are reported (EventBridge rules). @default no rules */
  readonly alertTopic?: sns.ITopic;
  /** Schedules of the plan. @default SEED_004_SCHEDULES */
  readonly schedules?: readonly BackupSchedule[];
  /**
   * How long a job may wait to start before it expires. AWS Backup does not start an RDS backup
   * during, or in the hour before, the instance's maintenance window, nor while RDS takes its own
   * automated backup; a long window lets such a job start afterwards instead of expiring.
   * @default 8 hours
   */
  readonly startWindow?: Duration;
  /** How long a started job may run. @default 24 hours */
  readonly completionWindow?: Duration;
}

/**
 * An AWS Backup vault encrypted with a customer-managed key, a plan with the seed 004 schedules,
 * a selection of the resources, and the failure path: EventBridge rules for failed, aborted and
 * expired backup jobs of this vault, failed copy jobs out of it and failed restore jobs, each to
 * the alert topic.
 */
export class BackupPlan extends Construct {
  public readonly vault: backup.BackupVault;
  public readonly plan: backup.BackupPlan;
  public readonly key: kms.Key;
  /**
   * The failure patterns by kind. Backup jobs are those of this vault; copy jobs those out of it.
   * Restore job events name no vault (AWS's FAILED sample has none), so that rule takes every
   * failed restore of the account and region: restores are rare, manual and always worth a message.
   */
  public readonly failurePatterns: Readonly<Record<BackupFailureKind, events.EventPattern>>;
  /** The rules, when an alert topic was given. */
  public readonly failureRules: readonly events.Rule[];

  constructor(scope: Construct, id: string, props: BackupPlanProps) {
    super(scope, id);
    if (!Number.isInteger(props.retentionDays) || props.retentionDays < 1) {
      throw new Error(`BackupPlan retentionDays must be a positive integer, got ${props.retentionDays}`);
    }
    if (props.resources.length === 0) {
      throw new Error('BackupPlan needs at least one resource to back up');
    }
    if (!Token.isUnresolved(props.timezone) && !isIanaTimeZone(props.timezone)) {
      throw new Error(`BackupPlan timezone "${props.timezone}" is not an IANA time zone such as "Asia/Seoul"`);
    }
    const schedules = props.schedules ?? SEED_004_SCHEDULES;
    const names = new Set(schedules.map((s) => s.name));
    if (schedules.length === 0 || names.size !== schedules.length) {
      throw new Error(`BackupPlan schedules must be non-empty with unique names, got [${schedules.map((s) => s.name).join(', ')}]`);
    }

    this.key = new kms.Key(this, 'Key', {
      description: `${props.envName} AWS Backup vault`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });

    // Known at synth (no token), so the failure patterns below stay literal and testable.
    const vaultName = `${props.envName}-platform`;
    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: vaultName,
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN,
      lockConfiguration: props.vaultLock
        ? { minRetention: Duration.days(props.retentionDays), changeableFor: Duration.days(3) }
        : undefined,
    });

    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupPlanName: `${props.envName}-platform`,
      backupVault: this.vault,
    });
    const timeZone = TimeZone.of(props.timezone);
    for (const s of schedules) {
      this.plan.addRule(
        new backup.BackupPlanRule({
          ruleName: s.name,
          scheduleExpression: events.Schedule.cron({ minute: '0', ...s.cron }),
          scheduleExpressionTimezone: timeZone,
          startWindow: props.startWindow ?? Duration.hours(8),
          completionWindow: props.completionWindow ?? Duration.hours(24),
          deleteAfter: Duration.days(props.retentionDays),
          recoveryPointTags: { 'platform:backup-rule': s.name },
        }),
      );
    }
    const selection = this.plan.addSelection('Selection', {
      backupSelectionName: `${props.envName}-platform`,
      resources: [...props.resources],
      // The same role can then be named in a restore job (docs/workers.md).
      allowRestores: true,
    });
    Validations.of(selection).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
        reason: 'The AWS Backup service role policy AWS maintains for backup jobs across resource types (RDS, EBS with their KMS grants); a hand-written copy would drift as the service changes.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores]',
        reason: 'The AWS Backup service role policy AWS maintains for restore jobs, so that the runbook can restore with this role instead of creating one during an incident.',
      },
    );

    const pattern = (kind: BackupFailureKind, extra: Record<string, unknown> = {}): events.EventPattern => {
      const e = BACKUP_FAILURE_EVENTS[kind];
      return { source: ['aws.backup'], detailType: [e.detailType], detail: { [e.field]: [...e.values], ...extra } };
    };
    this.failurePatterns = {
      backupJob: pattern('backupJob', { backupVaultName: [vaultName] }),
      copyJob: pattern('copyJob', { sourceBackupVaultArn: events.Match.suffix(`:backup-vault:${vaultName}`) }),
      restoreJob: pattern('restoreJob'),
    };
    const descriptions: Record<BackupFailureKind, string> = {
      backupJob: `${props.envName}: an AWS Backup job of vault ${vaultName} failed, was aborted or expired`,
      copyJob: `${props.envName}: an AWS Backup copy job out of vault ${vaultName} failed`,
      restoreJob: `${props.envName}: an AWS Backup restore job failed`,
    };
    const rules: events.Rule[] = [];
    if (props.alertTopic) {
      const target = alertTopicTarget(props.alertTopic);
      for (const kind of Object.keys(BACKUP_FAILURE_EVENTS) as BackupFailureKind[]) {
        const id = `${kind[0].toUpperCase()}${kind.slice(1)}Failed`;
        rules.push(new events.Rule(this, id, { description: descriptions[kind], eventPattern: this.failurePatterns[kind], targets: [target] }));
      }
    }
    this.failureRules = rules;
  }
}

function isIanaTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz.includes('/') || tz === 'UTC';
  } catch {
    return false;
  }
}
