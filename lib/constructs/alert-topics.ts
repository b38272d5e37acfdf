import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** Alert severities; each has its own topic and Slack channel. */
export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What alarm-bearing constructs receive: one topic per severity. */
export type AlertTopicMap = Readonly<Record<Severity, sns.ITopic>>;

export interface AlertTopicsProps {
  /** Environment name, used in topic names. */
  readonly envName: string;
}

/**
 * Services that publish to the alert topics and so need to use the topics' KMS key. ElastiCache is
 * not one: it cannot publish to an encrypted topic and has its own (ElastiCacheEventTopic).
 */
const PUBLISHERS = [
  'cloudwatch.amazonaws.com',
  'events.amazonaws.com',
  'backup.amazonaws.com',
  'events.rds.amazonaws.com',
];

/**
 * One KMS-encrypted SNS topic per severity. Topics are encrypted with a customer-managed key
 * because the AWS-managed SNS key cannot be used by CloudWatch, EventBridge or AWS Backup.
 */
export class AlertTopics extends Construct {
  /** The topics by severity. */
  public readonly topics: AlertTopicMap;
  /** The key encrypting them. */
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AlertTopicsProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the ${props.envName} alert topics and queues`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAwsServicesToPublishAlerts',
        principals: PUBLISHERS.map((p) => new iam.ServicePrincipal(p)),
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    const topics = {} as Record<Severity, sns.Topic>;
    for (const severity of SEVERITIES) {
      const topic = new sns.Topic(this, severity[0].toUpperCase() + severity.slice(1), {
        topicName: `${props.envName}-alerts-${severity}`,
        displayName: `${props.envName} ${severity} alerts`,
        masterKey: this.key,
        enforceSSL: true,
      });
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowAwsServicesToPublish',
          principals: PUBLISHERS.map((p) => new iam.ServicePrincipal(p)),
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: { StringEquals: { 'aws:SourceAccount': topic.stack.account } },
        }),
      );
      topics[severity] = topic;
    }
    this.topics = topics;
  }
}
