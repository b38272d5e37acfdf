import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { Severity } from './alert-topics';

export interface ElastiCacheEventTopicProps {
  /** Environment name, used in the topic name. */
  readonly envName: string;
  /**
   * The severity its messages carry in the alert path; it is part of the topic name
   * (`<env>-elasticache-events-<severity>`), which the notifier maps to a channel.
   * @default 'warning'
   */
  readonly severity?: Severity;
}

/**
 * The SNS topic an ElastiCache replication group publishes its own events to (failover, node
 * replacement, …), built to the rules ElastiCache documents, which differ from every other
 * publisher of this app:
 *
 * - it is **not** KMS-encrypted: ElastiCache cannot publish to an encrypted topic; the topic shows
 *   as inactive and is in effect detached from the cluster
 *   (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ElastiCacheSNS.html);
 * - its policy admits publishers by `aws:SourceOwner`, not `aws:SourceAccount`, which ElastiCache
 *   does not support for event notifications
 *   (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ECEvents.SNS.html).
 *
 * The messages join the normal alert path through the Slack notifier's queue of the same severity
 * (`SlackNotifierProps.extraTopics`). They are ElastiCache event names, a replication group or
 * node ID and a time: nothing secret travels unencrypted.
 */
export class ElastiCacheEventTopic extends Construct {
  /** The topic; set it as the replication group's `NotificationTopicArn`. */
  public readonly topic: sns.Topic;
  /** The severity its messages carry. */
  public readonly severity: Severity;

  constructor(scope: Construct, id: string, props: ElastiCacheEventTopicProps) {
    super(scope, id);
    this.severity = props.severity ?? 'warning';
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: `${props.envName}-elasticache-events-${this.severity}`,
      displayName: `${props.envName} ElastiCache events`,
    });
    // The statement ElastiCache's user guide asks for: any principal, but only on behalf of a
    // resource this account owns. A direct Publish by another account carries no SourceOwner and
    // a cluster in another account carries its own, so both are refused.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowElastiCachePublish',
        principals: [new iam.AnyPrincipal()],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceOwner': Stack.of(this).account } },
      }),
    );
    Validations.of(this.topic).acknowledge(
      {
        id: 'AwsSolutions-SNS2',
        reason: 'ElastiCache cannot publish to a KMS-encrypted topic (ElastiCache user guide, "Event Notifications and Amazon SNS"): an encrypted topic goes inactive and failover events never arrive. The messages are event names and node IDs only.',
      },
      {
        id: 'AwsSolutions-SNS3',
        reason: 'ElastiCache documents only the SourceOwner publish statement for its topic; a deny on aws:SecureTransport is not part of it, and this topic must deliver for certain. Subscribers receive over HTTPS/AWS-internal delivery either way.',
      },
    );
  }
}
