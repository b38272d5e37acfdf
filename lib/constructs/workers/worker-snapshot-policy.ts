import { Validations } from 'aws-cdk-lib';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { SNAPSHOT_POLICY_TAG, snapshotPolicyTagValue } from './naming';

/** The interval hours DLM accepts. */
export const DLM_INTERVAL_HOURS = [1, 2, 3, 4, 6, 8, 12, 24] as const;

export interface WorkerSnapshotSchedule {
  /** Hours between interval snapshots (1, 2, 3, 4, 6, 8, 12 or 24). */
  readonly intervalHours: number;
  /** Interval snapshots kept (24 hourly = a day's worth). */
  readonly retained: number;
  /** Daily snapshots kept; 0 for no daily schedule. */
  readonly dailyRetained: number;
  /** UTC time of the daily snapshot, `HH:MM`. @default '17:00' (02:00 in Seoul) */
  readonly dailyAtUtc?: string;
}

export interface WorkerSnapshotPolicyProps {
  /** Environment name; the policy targets volumes tagged for this environment. */
  readonly envName: string;
  /** The schedule. */
  readonly schedule: WorkerSnapshotSchedule;
  /**
   * Topic that receives snapshot failures (EBS `createSnapshot` failed, DLM policy in error).
   * @default none: only the event patterns are exposed
   */
  readonly alertTopic?: sns.ITopic;
}

/**
 * A Data Lifecycle Manager policy that snapshots every volume tagged
 * `platform:snapshot-policy=<env>-worker-data`: every `intervalHours` (keeping `retained`) and
 * daily (keeping `dailyRetained`). Snapshots are incremental and copy the volume's tags, so a
 * snapshot names its worker slot.
 *
 * Failure alerting: `snapshotFailurePattern` matches EBS `createSnapshot` failures and
 * `policyErrorPattern` the policy going into error; both go to `alertTopic` when given.
 */
export class WorkerSnapshotPolicy extends Construct {
  public readonly policy: dlm.CfnLifecyclePolicy;
  public readonly role: iam.Role;
  /** EventBridge pattern of failed EBS snapshots, single-volume and multi-volume sets (result failed). */
  public readonly snapshotFailurePattern: events.EventPattern;
  /** EventBridge pattern of this DLM policy entering the ERROR state. */
  public readonly policyErrorPattern: events.EventPattern;
  /** The rules, when an alert topic was given. */
  public readonly rules: readonly events.Rule[];

  constructor(scope: Construct, id: string, props: WorkerSnapshotPolicyProps) {
    super(scope, id);
    const s = props.schedule;
    if (!(DLM_INTERVAL_HOURS as readonly number[]).includes(s.intervalHours)) {
      throw new Error(`snapshot intervalHours must be one of ${DLM_INTERVAL_HOURS.join(', ')}, got ${s.intervalHours}`);
    }
    if (!Number.isInteger(s.retained) || s.retained < 1 || s.retained > 1000) {
      throw new Error(`snapshot retained must be an integer from 1 to 1000, got ${s.retained}`);
    }
    if (!Number.isInteger(s.dailyRetained) || s.dailyRetained < 0 || s.dailyRetained > 1000) {
      throw new Error(`snapshot dailyRetained must be an integer from 0 to 1000, got ${s.dailyRetained}`);
    }
    const dailyAt = s.dailyAtUtc ?? '17:00';
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(dailyAt)) throw new Error(`snapshot dailyAtUtc must be HH:MM, got "${dailyAt}"`);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com'),
      description: `${props.envName}: Data Lifecycle Manager snapshots of the worker data volumes`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSDataLifecycleManagerServiceRole')],
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole]',
      reason: "This is the service role policy AWS documents for DLM snapshot policies; DLM's needs (create, tag and delete snapshots) change with the service and AWS maintains the list.",
    });

    const tagValue = snapshotPolicyTagValue(props.envName);
    const schedules: dlm.CfnLifecyclePolicy.ScheduleProperty[] = [
      {
        name: `every-${s.intervalHours}h`,
        createRule: { interval: s.intervalHours, intervalUnit: 'HOURS' },
        retainRule: { count: s.retained },
        copyTags: true,
        tagsToAdd: [{ key: 'platform:snapshot-schedule', value: 'interval' }],
      },
    ];
    if (s.dailyRetained > 0) {
      schedules.push({
        name: 'daily',
        createRule: { interval: 24, intervalUnit: 'HOURS', times: [dailyAt] },
        retainRule: { count: s.dailyRetained },
        copyTags: true,
        tagsToAdd: [{ key: 'platform:snapshot-schedule', value: 'daily' }],
      });
    }

    this.policy = new dlm.CfnLifecyclePolicy(this, 'Policy', {
      // DLM descriptions allow only letters, digits, spaces, '_' and '-'.
      description: `${props.envName} worker data volumes - every ${s.intervalHours} h keep ${s.retained} - daily keep ${s.dailyRetained}`,
      state: 'ENABLED',
      executionRoleArn: this.role.roleArn,
      policyDetails: {
        policyType: 'EBS_SNAPSHOT_MANAGEMENT',
        resourceTypes: ['VOLUME'],
        targetTags: [{ key: SNAPSHOT_POLICY_TAG, value: tagValue }],
        schedules,
      },
    });

    // A failed single-volume snapshot arrives as `EBS Snapshot Notification`, a failed multi-volume
    // set (createSnapshots) as `EBS Multi-Volume Snapshots Completion Status`
    // (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-cloud-watch-events.html).
    this.snapshotFailurePattern = {
      source: ['aws.ec2'],
      detailType: ['EBS Snapshot Notification', 'EBS Multi-Volume Snapshots Completion Status'],
      detail: { event: ['createSnapshot', 'createSnapshots'], result: ['failed'] },
    };
    this.policyErrorPattern = {
      source: ['aws.dlm'],
      detailType: ['DLM Policy State Change'],
      resources: [this.policy.attrArn],
      detail: { state: ['ERROR'] },
    };

    const rules: events.Rule[] = [];
    if (props.alertTopic) {
      const target = alertTopicTarget(props.alertTopic);
      rules.push(
        new events.Rule(this, 'SnapshotFailed', {
          description: `${props.envName}: an EBS snapshot failed`,
          eventPattern: this.snapshotFailurePattern,
          targets: [target],
        }),
        new events.Rule(this, 'PolicyError', {
          description: `${props.envName}: the worker snapshot policy is in error`,
          eventPattern: this.policyErrorPattern,
          targets: [target],
        }),
      );
    }
    this.rules = rules;
  }
}

/**
 * An EventBridge target that publishes to an alert topic without editing the topic's policy:
 * the AlertTopics construct already lets events.amazonaws.com publish and use the topic key, and
 * a grant from here would write into the Alerting stack from another stack.
 */
export function alertTopicTarget(topic: sns.ITopic): events.IRuleTarget {
  return { bind: () => ({ arn: topic.topicArn }) };
}
