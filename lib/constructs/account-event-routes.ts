import * as events from 'aws-cdk-lib/aws-events';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { alertTopicTarget } from './workers/worker-snapshot-policy';

export interface AccountEventRoutesProps {
  /** Environment name, for the rule descriptions. */
  readonly envName: string;
  /**
   * Route AWS Health events (`AWS Health Event`: scheduled changes, issues and account
   * notifications that affect this account). @default false
   */
  readonly awsHealth?: boolean;
  /** Route GuardDuty findings (`GuardDuty Finding`) of this account and Region. @default false */
  readonly guardDuty?: boolean;
  /**
   * The topic both rules publish to. The notifier rates each event from its content (a Health
   * issue or a GuardDuty severity of 7 and above is critical; see lambda/notifier/families/), so
   * one topic serves every severity.
   */
  readonly topic: sns.ITopic;
}

/**
 * Account-wide event sources that an environment can switch on (`alerting.routes` in config), off
 * by default: AWS Health and GuardDuty belong to the account, so in an account shared by several
 * environments only one of them should route them. Both go through the same DLQ'd target as every
 * other rule (dead-letter-every-hop.ts adds the dead-letter queue and retry policy).
 *
 * Patterns: https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html
 * (source aws.health, detail-type "AWS Health Event") and
 * https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html
 * (source aws.guardduty, detail-type "GuardDuty Finding").
 */
export class AccountEventRoutes extends Construct {
  /** The patterns of the rules created, by route (the contract test matches AWS's samples). */
  public readonly patterns: { readonly awsHealth?: events.EventPattern; readonly guardDuty?: events.EventPattern };
  /** The rules created, by route. */
  public readonly rules: { readonly awsHealth?: events.Rule; readonly guardDuty?: events.Rule };

  constructor(scope: Construct, id: string, props: AccountEventRoutesProps) {
    super(scope, id);
    const patterns: { awsHealth?: events.EventPattern; guardDuty?: events.EventPattern } = {};
    const rules: { awsHealth?: events.Rule; guardDuty?: events.Rule } = {};
    if (props.awsHealth) {
      patterns.awsHealth = { source: ['aws.health'], detailType: ['AWS Health Event'] };
      rules.awsHealth = new events.Rule(this, 'AwsHealth', {
        description: `${props.envName}: AWS Health events of this account (issues, scheduled changes, notifications)`,
        eventPattern: patterns.awsHealth,
        targets: [alertTopicTarget(props.topic)],
      });
    }
    if (props.guardDuty) {
      patterns.guardDuty = { source: ['aws.guardduty'], detailType: ['GuardDuty Finding'] };
      rules.guardDuty = new events.Rule(this, 'GuardDuty', {
        description: `${props.envName}: GuardDuty findings of this account and Region`,
        eventPattern: patterns.guardDuty,
        targets: [alertTopicTarget(props.topic)],
      });
    }
    this.patterns = patterns;
    this.rules = rules;
  }
}
