import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { notifyOnAlarmAndOk } from './alarms/alarm-actions';
import { alertTopicTarget } from './workers/worker-snapshot-policy';

/** A function that rotates some of the secrets, and the short name of its Errors alarm. */
export interface RotationFunctionRef {
  /** Alarm name segment: the alarm is `<env>-<key>-errors`, e.g. `master-rotation`. */
  readonly key: string;
  /** What it rotates, for the alarm description. */
  readonly rotates: string;
  /** The Lambda function name (a hosted rotation application's `functionName` parameter, or a function of this app). */
  readonly functionName: string;
}

export interface SecretRotationAlertsProps {
  /** Environment name; alarm names start with it. */
  readonly envName: string;
  /**
   * Name prefix of the secrets whose rotation failures are alerted, e.g. `platform/prod/postgres/`
   * (the master secret and every role-schema login secret). Must end with `/`.
   */
  readonly secretNamePrefix: string;
  /** The rotation functions; each gets an Errors alarm. */
  readonly rotationFunctions: readonly RotationFunctionRef[];
  /** Receives the RotationFailed events and the alarms' ALARM and OK. */
  readonly topic: sns.ITopic;
}

/** The CloudTrail event names of a rotation that did not complete (the notifier rates each). */
export const ROTATION_FAILURE_EVENTS = ['RotationFailed', 'RotationAbandoned', 'TestRotationFailed'] as const;

/**
 * Rotation failures of the database secrets reach the alert path twice over:
 *
 * - an Errors alarm on each rotation function: a step that throws or times out (an unreachable
 *   Secrets Manager endpoint ends in a timeout) is a failed rotation. This path needs nothing else.
 * - Secrets Manager's own `RotationFailed` (and abandoned/test-failed) records, which EventBridge
 *   receives from CloudTrail as `AWS Service Event via CloudTrail`. The EventBridge user guide
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html)
 *   says these reach EventBridge only while a CloudTrail trail with logging covers the account and
 *   Region (an organization trail, such as Control Tower's, counts), and AWS delivers them best-effort.
 *   This app creates no trail; the event names the secret and the error, the alarm only the function.
 */
export class SecretRotationAlerts extends Construct {
  /** The EventBridge rule for the rotation-failure events. */
  public readonly rule: events.Rule;
  /** Errors alarms by function key. */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** The rule's pattern (the contract test matches AWS's sample against it). */
  public readonly pattern: events.EventPattern;

  constructor(scope: Construct, id: string, props: SecretRotationAlertsProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9/_+=.@-]+\/$/.test(props.secretNamePrefix)) {
      throw new Error(`SecretRotationAlerts: secretNamePrefix must be a secret-name prefix ending in "/", got ${JSON.stringify(props.secretNamePrefix)}`);
    }
    // https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-eventbridge.html and
    // .../retrieve-ct-entries.html: the record names the secret by ARN in additionalEventData.SecretId.
    this.pattern = {
      source: ['aws.secretsmanager'],
      detailType: ['AWS Service Event via CloudTrail'],
      detail: {
        eventSource: ['secretsmanager.amazonaws.com'],
        eventName: [...ROTATION_FAILURE_EVENTS],
        additionalEventData: { SecretId: [{ wildcard: `arn:*:secretsmanager:*:*:secret:${props.secretNamePrefix}*` }] },
      },
    };
    this.rule = new events.Rule(this, 'RotationFailed', {
      description: `${props.envName}: a rotation of a ${props.secretNamePrefix}* secret failed or was abandoned`,
      eventPattern: this.pattern,
      targets: [alertTopicTarget(props.topic)],
    });

    const alarms: Record<string, cloudwatch.Alarm> = {};
    for (const f of props.rotationFunctions) {
      const alarm = new cloudwatch.Alarm(this, `${f.key}-errors`, {
        alarmName: `${props.envName}-${f.key}-errors`,
        alarmDescription: `${props.envName}: the function that rotates ${f.rotates} failed a step; the secret keeps its current password until a rotation succeeds.`,
        metric: new cloudwatch.Metric({
          namespace: 'AWS/Lambda',
          metricName: 'Errors',
          dimensionsMap: { FunctionName: f.functionName },
          statistic: 'Sum',
          period: Duration.minutes(5),
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // Rotation runs once a month: no invocation is no failure.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      notifyOnAlarmAndOk(props.topic, alarm);
      alarms[f.key] = alarm;
    }
    this.alarms = alarms;
  }
}
