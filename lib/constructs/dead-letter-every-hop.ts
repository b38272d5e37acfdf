import { Duration, Lazy, Stack, Validations, type IAspect, type IResolveContext } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import type { AlertPathHealth } from './alert-path-health';

export interface DeadLetterEveryHopProps {
  /** Environment name, used in queue and alarm names. */
  readonly envName: string;
  /** The independent path: its key encrypts the queues, its topic receives their alarms. */
  readonly health: AlertPathHealth;
  /**
   * How long EventBridge keeps retrying a target before the event goes to the dead-letter queue.
   * An alert an hour late is better in front of a person (the queue's alarm) than retried for
   * EventBridge's default 24 hours. @default Duration.hours(1)
   */
  readonly maxEventAge?: Duration;
  /** EventBridge retry attempts within `maxEventAge` (0–185). @default 185 */
  readonly retryAttempts?: number;
  /** How long undelivered messages wait for a redrive. @default Duration.days(14) (the SQS maximum) */
  readonly retentionPeriod?: Duration;
}

/**
 * Nothing is dropped between AWS and the notifier. Two dead-letter queues per environment, and an
 * aspect that points every hop at them:
 *
 * - every SNS subscription gets a redrive policy to `<env>-alerts-undelivered-by-sns`;
 * - every EventBridge rule target gets `<env>-alerts-undelivered-by-eventbridge` and an explicit
 *   retry policy (targets that already set their own keep theirs).
 *
 * Both queues alarm on the first message, to the independent health topic (email), not through
 * the notifier. Apply `aspect` to the Stage so that subscriptions and rules added anywhere, now or
 * later, are covered without their constructs knowing.
 *
 * The queue and key policies admit the SNS and EventBridge service principals only for sources of
 * this account and region (`aws:SourceArn` ArnLike `arn:…:sns:<region>:<account>:*` and
 * `arn:…:events:<region>:<account>:rule/*`). They cannot list each topic and rule ARN: those live
 * in stacks that depend on this one (for the alert topics), so naming them here would be a
 * dependency cycle.
 */
export class DeadLetterEveryHop extends Construct {
  /** Redrive target of every SNS subscription. */
  public readonly bySns: sqs.Queue;
  /** Dead-letter queue of every EventBridge rule target. */
  public readonly byEventBridge: sqs.Queue;
  /** One alarm per queue, on the first message, to the health topic. */
  public readonly alarms: readonly cloudwatch.Alarm[];
  /** Apply to the Stage: `Aspects.of(stage).add(deadLetters.aspect)`. */
  public readonly aspect: IAspect;

  constructor(scope: Construct, id: string, props: DeadLetterEveryHopProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const maxEventAge = props.maxEventAge ?? Duration.hours(1);
    const ageSeconds = maxEventAge.toSeconds();
    if (ageSeconds < 60 || ageSeconds > 86400) throw new Error(`maxEventAge must be between 60 seconds and 24 hours, got ${ageSeconds} seconds`);
    const retryAttempts = props.retryAttempts ?? 185;
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) throw new Error(`retryAttempts must be an integer from 0 to 185, got ${retryAttempts}`);

    const key = props.health.key;
    const snsSources = `arn:${stack.partition}:sns:${stack.region}:${stack.account}:*`;
    const ruleSources = `arn:${stack.partition}:events:${stack.region}:${stack.account}:rule/*`;

    this.bySns = this.queue('BySns', `${props.envName}-alerts-undelivered-by-sns`, key, props.retentionPeriod);
    this.byEventBridge = this.queue('ByEventBridge', `${props.envName}-alerts-undelivered-by-eventbridge`, key, props.retentionPeriod);

    // https://docs.aws.amazon.com/sns/latest/dg/sns-configure-dead-letter-queue.html
    this.bySns.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SnsRedrivesUndeliveredMessagesOfThisAccount',
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.bySns.queueArn],
        conditions: { ArnLike: { 'aws:SourceArn': snsSources } },
      }),
    );
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/rule-dlq.html
    this.byEventBridge.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeSendsUndeliveredEventsOfThisAccount',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.byEventBridge.queueArn],
        conditions: { ArnLike: { 'aws:SourceArn': ruleSources } },
      }),
    );
    // An encrypted DLQ needs a customer-managed key whose policy lets the service use it
    // (https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html; for EventBridge the
    // page above and https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html).
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SnsEncryptsIntoUndeliveredQueue',
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { ArnLike: { 'aws:SourceArn': snsSources } },
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeEncryptsIntoUndeliveredQueue',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { ArnLike: { 'aws:SourceArn': ruleSources } },
      }),
    );

    const alarm = (idPart: string, queue: sqs.Queue, hop: 'sns' | 'eventbridge', what: string, attributes: string) =>
      new cloudwatch.Alarm(this, `${idPart}Alarm`, {
        alarmName: `${props.envName}-alerts-undelivered-by-${hop}`,
        alarmDescription:
          `${props.envName}: ${what}; the message is in the ${props.envName}-alerts-undelivered-by-${hop} queue and its alert never reached Slack. ` +
          `Read it (${attributes}) for the source and the error, fix the permission or the target, then redrive the queue or act on the alert by hand.`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.alarms = [
      alarm('BySns', this.bySns, 'sns', 'SNS could not deliver a message to a subscriber (a notifier queue or the email)', 'the SNS envelope names the topic'),
      alarm('ByEventBridge', this.byEventBridge, 'eventbridge', 'EventBridge could not deliver an event to a rule target (an alert topic or a function)', 'attributes RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE'),
    ];
    props.health.notify(...this.alarms);

    this.aspect = new DeadLetterEveryHopAspect({
      snsDeadLetterQueueArn: this.bySns.queueArn,
      eventBridgeDeadLetterQueueArn: this.byEventBridge.queueArn,
      retryPolicy: { MaximumRetryAttempts: retryAttempts, MaximumEventAgeInSeconds: ageSeconds },
    });
  }

  private queue(id: string, queueName: string, key: kms.IKey, retention?: Duration): sqs.Queue {
    const queue = new sqs.Queue(this, id, {
      queueName,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: retention ?? Duration.days(14),
    });
    const reason = 'This queue is itself a dead-letter queue (of SNS subscriptions or EventBridge targets, which cdk-nag does not recognise as sources); its first message alarms by email.';
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason }, { id: 'Serverless-SQSRedrivePolicy', reason });
    return queue;
  }
}

interface DeadLetterEveryHopAspectProps {
  readonly snsDeadLetterQueueArn: string;
  readonly eventBridgeDeadLetterQueueArn: string;
  readonly retryPolicy: { readonly MaximumRetryAttempts: number; readonly MaximumEventAgeInSeconds: number };
}

/**
 * Gives every `AWS::SNS::Subscription` without a redrive policy, and every EventBridge rule target
 * without a dead-letter config or retry policy, the ones of DeadLetterEveryHop. Works on the L1
 * resources, so it covers L2 constructs, L1 constructs and third-party ones alike.
 */
class DeadLetterEveryHopAspect implements IAspect {
  constructor(private readonly props: DeadLetterEveryHopAspectProps) {}

  public visit(node: IConstruct): void {
    if (node instanceof sns.CfnSubscription) {
      if (node.redrivePolicy === undefined) node.redrivePolicy = { deadLetterTargetArn: this.props.snsDeadLetterQueueArn };
      return;
    }
    if (node instanceof events.CfnRule) {
      // Wrap the targets (the L2 Rule renders them lazily, and other aspects may still add some)
      // so that each gets the dead-letter queue and retry policy when it is rendered. Setting the
      // L1 property, rather than a raw override, lets cdk-nag (Serverless-EventBusDLQ) see them,
      // and keeps the cross-stack references inside the targets intact.
      const original = node.targets;
      const { eventBridgeDeadLetterQueueArn: arn, retryPolicy } = this.props;
      node.targets = Lazy.uncachedAny({
        produce: (context: IResolveContext) => {
          const targets = context.resolve(original) as Record<string, unknown>[] | undefined;
          return targets?.map((t) => ({
            ...t,
            deadLetterConfig: t.deadLetterConfig ?? { arn },
            retryPolicy: t.retryPolicy ?? { maximumRetryAttempts: retryPolicy.MaximumRetryAttempts, maximumEventAgeInSeconds: retryPolicy.MaximumEventAgeInSeconds },
          }));
        },
      });
    }
  }
}
