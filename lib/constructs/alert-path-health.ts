import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { notifyOnAlarmAndOk } from './alarms/alarm-actions';

export interface AlertPathHealthProps {
  /** Environment name, used in the topic name (`<env>-alerting-health`). */
  readonly envName: string;
  /**
   * Mailbox subscribed to the topic: the channel that still works when Slack, the webhook secrets
   * or the notifier do not. @default - no subscription (only allowed outside production; the
   * config schema enforces it)
   */
  readonly alertEmail?: string;
}

/**
 * The independent alert path: failures of the alerting path itself (dead letters anywhere, the
 * notifier's errors and throttles, a missing heartbeat) go to the `<env>-alerting-health` topic
 * and from there by email, never through the notifier or Slack.
 *
 * It has its own KMS key so that a mistake in the alert topics' key policy cannot silence the
 * path that would report it. The dead-letter queues of every hop (DeadLetterEveryHop) share this
 * key.
 */
export class AlertPathHealth extends Construct {
  /** `<env>-alerting-health`. */
  public readonly topic: sns.Topic;
  /** Encrypts the topic and the dead-letter queues of the independent path. */
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AlertPathHealthProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the ${props.envName} alert-path health topic and the undelivered-alert queues`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
    // CloudWatch alarms publish to the encrypted topic; CloudWatch needs the key for that.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: `${props.envName}-alerting-health`,
      displayName: `${props.envName} alert path health`,
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': this.topic.stack.account } },
      }),
    );
    if (props.alertEmail) this.topic.addSubscription(new subs.EmailSubscription(props.alertEmail));
  }

  /** Sends ALARM and OK of each alarm to the health topic (and so by email). */
  public notify(...alarms: cloudwatch.AlarmBase[]): void {
    notifyOnAlarmAndOk(this.topic, ...alarms);
  }
}
