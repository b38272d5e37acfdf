import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SEVERITIES, type AlertTopicMap, type Severity } from './alert-topics';
import { notifyOnAlarmAndOk } from './alarms/alarm-actions';
import { APP_ENV } from '../../lambda/notifier/app/contract';
import type { AlertThreads } from './alert-threads';
import { PlatformFunction } from './platform-function';
import { nagArn } from './nag-ids';

export interface SlackNotifierProps {
  /** Environment name, shown on every message and used in alarm names. */
  readonly envName: string;
  /** The alert topics; each feeds its own queue. */
  readonly topics: AlertTopicMap;
  /** Secrets Manager secret names holding each severity's Slack webhook URL. */
  readonly webhookSecretNames: Readonly<Record<Severity, string>>;
  /** Who critical problems @-mention: `none`, `here`, `channel` or a user-group ID. @default 'none' */
  readonly criticalMention?: string;
  /**
   * Where the notifier's own alarms go (dead letters, errors, throttles, backlog): a topic that
   * does not depend on this notifier, e.g. AlertPathHealth's email topic.
   */
  readonly healthTopic: sns.ITopic;
  /** Retention of the notifier's logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Messages per SQS batch; a storm arriving together becomes a handful of digest posts. @default 100 */
  readonly batchSize?: number;
  /** How long SQS gathers a batch; the price of storm digests is this much latency. @default Duration.seconds(5) */
  readonly maxBatchingWindow?: Duration;
  /** Receives before a message goes to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /** Slack app mode (a thread per alarm, graphs) instead of the webhooks. @default - webhook mode */
  readonly app?: SlackAppSettings;
  /**
   * Further topics that feed a severity's queue, for publishers that cannot use the encrypted
   * alert topics (ElastiCache). Their messages take the same queue, retries and dead-letter path.
   * @default - none
   */
  readonly extraTopics?: Readonly<Partial<Record<Severity, readonly sns.ITopic[]>>>;
}

/** Slack app mode: the bot token, the channels and the thread table. */
export interface SlackAppSettings {
  /** The thread table (lib/constructs/alert-threads.ts). */
  readonly threads: AlertThreads;
  /** Secrets Manager secret name holding the bot token (`xoxb-…`). */
  readonly botTokenSecretName: string;
  /** Channel ID per severity. */
  readonly channels: Readonly<Record<Severity, string>>;
  /** An ALARM this long after a resolution opens a new thread. @default 360 */
  readonly rethreadAfterMinutes?: number;
}

/** Function timeout: room for ~40 paced posts and a Retry-After or two per batch. */
const TIMEOUT = Duration.seconds(90);

/**
 * The path from the alert topics to Slack: per severity, the topic feeds an encrypted SQS queue
 * (dead-letter queue behind it) that the notifier Lambda consumes in batches, reporting partial
 * batch failures so that only undelivered notifications are retried. Its own failures (dead
 * letters, errors, throttles, a growing backlog) alarm to `healthTopic`, which does not pass
 * through the notifier, so a broken Slack path is still heard.
 */
export class SlackNotifier extends Construct {
  /** The notifier function. */
  public readonly function: PlatformFunction;
  /** Queues by severity. */
  public readonly queues: Readonly<Record<Severity, sqs.Queue>>;
  /** Where notifications go after `maxReceiveCount` failed deliveries. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The notifier's health alarms (`dead-letters`, `errors`, `throttles`, `backlog`). */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: SlackNotifierProps) {
    super(scope, id);
    const batchSize = props.batchSize ?? 100;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10000) throw new Error(`batchSize must be an integer from 1 to 10000, got ${batchSize}`);
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1) throw new Error(`maxReceiveCount must be a positive integer, got ${maxReceiveCount}`);
    for (const s of SEVERITIES) {
      if (!props.webhookSecretNames[s]) throw new Error(`webhookSecretNames.${s} is empty: every severity needs a Slack webhook secret`);
    }
    const stack = Stack.of(this);
    const topicsOf = (s: Severity): sns.ITopic[] => [props.topics[s], ...(props.extraTopics?.[s] ?? [])];

    // SNS must encrypt into the queues, so their key lets SNS use it for these topics only.
    const key = new kms.Key(this, 'QueueKey', {
      description: `Encrypts the ${props.envName} alert queues`,
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAlertTopicsToEncryptIntoQueues',
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { ArnEquals: { 'aws:SourceArn': SEVERITIES.flatMap((s) => topicsOf(s).map((t) => t.topicArn)) } },
      }),
    );

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue itself; its depth alarms to the health topic (email).',
    });

    const queues = {} as Record<Severity, sqs.Queue>;
    for (const s of SEVERITIES) {
      const queue = new sqs.Queue(this, `${s[0].toUpperCase()}${s.slice(1)}Queue`, {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: key,
        enforceSSL: true,
        // AWS's guidance for Lambda consumers: at least six times the function timeout.
        visibilityTimeout: Duration.seconds(TIMEOUT.toSeconds() * 6),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
      });
      // Not raw: the SNS envelope keeps TopicArn, Subject and MessageAttributes (AWS Backup's job state).
      for (const topic of topicsOf(s)) topic.addSubscription(new subs.SqsSubscription(queue, { rawMessageDelivery: false }));
      queues[s] = queue;
    }
    this.queues = queues;

    const severitySources = SEVERITIES.map((s) => ({ severity: s, arns: [queues[s].queueArn, ...topicsOf(s).map((t) => t.topicArn)] }));
    this.function = new PlatformFunction(this, 'Function', {
      entry: 'lambda/notifier/handler.ts',
      description: `${props.envName}: alert topics → Slack (Block Kit, storm digests, RDS enrichment)`,
      memorySize: 256,
      timeout: TIMEOUT,
      logRetention: props.logRetention,
      environment: {
        ENVIRONMENT_NAME: props.envName,
        CRITICAL_MENTION: props.criticalMention ?? 'none',
        WEBHOOK_SECRETS: JSON.stringify(props.webhookSecretNames),
        SEVERITY_SOURCES: stack.toJsonString(severitySources),
        POWERTOOLS_SERVICE_NAME: 'notifier',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...(props.app
          ? {
              [APP_ENV.mode]: 'app',
              [APP_ENV.table]: props.app.threads.table.tableName,
              [APP_ENV.botTokenSecret]: props.app.botTokenSecretName,
              [APP_ENV.channels]: JSON.stringify(props.app.channels),
              [APP_ENV.rethreadAfterMinutes]: String(props.app.rethreadAfterMinutes ?? 360),
            }
          : {}),
      },
    });
    const fn = this.function.function;
    if (props.app) this.grantAppMode(props.app);

    for (const s of SEVERITIES) {
      secretsmanager.Secret.fromSecretNameV2(this, `${s}Webhook`, props.webhookSecretNames[s]).grantRead(fn);
      fn.addEventSource(
        new lambdaEvents.SqsEventSource(queues[s], {
          batchSize,
          maxBatchingWindow: batchSize > 10 ? props.maxBatchingWindow ?? Duration.seconds(5) : props.maxBatchingWindow,
          reportBatchItemFailures: true,
          // Pacing is per container; two per webhook keeps bursts near Slack's limit (2 is the minimum).
          maxConcurrency: 2,
        }),
      );
    }

    // Only SQS event source mappings invoke the notifier (synchronously): Lambda's async DLQ and
    // an ESM on-failure destination do not apply; the queues' redrive to the dead-letter queue is
    // the failure path (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
    Validations.of(fn).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'Invoked only by SQS event source mappings (synchronous); an async DLQ would never receive anything. Failed messages go to the queues\' dead-letter queue, alarmed on the health topic.',
    });
    for (const child of fn.node.children) {
      if (child.node.id.startsWith('SqsEventSource:')) {
        Validations.of(child).acknowledge({
          id: 'Serverless-LambdaEventSourceMappingDestination',
          reason: 'SQS event source mappings have no on-failure destination; the source queue\'s redrive policy (maxReceiveCount) moves failed messages to the dead-letter queue, which alarms on the health topic.',
        });
      }
    }
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This is the dead-letter queue of the notifier queues; its depth alarms to the health topic (email).',
    });

    // Best-effort enrichment: read-only calls, scoped to this account and region.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'EnrichRdsAlarms',
        actions: ['rds:DescribeDBInstances'],
        resources: [stack.formatArn({ service: 'rds', resource: 'db', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadPerformanceInsights',
        actions: ['pi:GetResourceMetrics'],
        resources: [stack.formatArn({ service: 'pi', resource: 'metrics', resourceName: 'rds/*' })],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadAlarmHistory',
        actions: ['cloudwatch:DescribeAlarmHistory'],
        resources: [stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }),
    );
    Validations.of(fn).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${nagArn(fn, 'rds', 'db:*')}]`,
        reason: 'Read-only DescribeDBInstances for whichever instance an alarm names; the notifier cannot know every instance ID of the account in advance.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${nagArn(fn, 'pi', 'metrics/rds/*')}]`,
        reason: 'Performance Insights metrics are addressed by DbiResourceId, which is only known at run time from DescribeDBInstances; read-only.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${nagArn(fn, 'cloudwatch', 'alarm:*')}]`,
        reason: 'Read-only DescribeAlarmHistory for whichever alarm recovered, to say how long it was in ALARM.',
      },
    );

    // The notifier's own health never goes through the notifier: it goes to the health topic (email).
    const alarms: Record<string, cloudwatch.Alarm> = {};
    const name = (s: string) => `${props.envName}-notifier-${s}`;
    alarms['dead-letters'] = new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
      alarmName: name('dead-letters'),
      alarmDescription: `${props.envName}: alert notifications could not be delivered to Slack after ${maxReceiveCount} tries and are in the dead-letter queue. Check the notifier's logs and the webhook secrets, then redrive the queue.`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarms.errors = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmName: name('errors'),
      alarmDescription: `${props.envName}: the Slack notifier Lambda failed (crashed or timed out) in 3 of the last 5 minutes; alerts may be delayed.`,
      metric: fn.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarms.throttles = new cloudwatch.Alarm(this, 'ThrottlesAlarm', {
      alarmName: name('throttles'),
      alarmDescription: `${props.envName}: the Slack notifier Lambda is being throttled; alerts queue up.`,
      metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarms.backlog = new cloudwatch.Alarm(this, 'BacklogAlarm', {
      alarmName: name('backlog'),
      alarmDescription: `${props.envName}: an alert has waited more than 10 minutes in a notifier queue; Slack delivery is stuck.`,
      metric: new cloudwatch.MathExpression({
        expression: 'MAX([c, w, i])',
        usingMetrics: {
          c: queues.critical.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum' }),
          w: queues.warning.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum' }),
          i: queues.info.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum' }),
        },
        label: 'Oldest alert waiting (s)',
        period: Duration.minutes(1),
      }),
      threshold: 600,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    notifyOnAlarmAndOk(props.healthTopic, ...Object.values(alarms));
    this.alarms = alarms;
  }

  /** App mode: the token secret, the thread table, and the graph image call. */
  private grantAppMode(app: SlackAppSettings): void {
    const fn = this.function.function;
    for (const s of SEVERITIES) {
      if (!/^[CG][A-Z0-9]{8,}$/.test(app.channels[s] ?? '')) throw new Error(`app.channels.${s} must be a Slack channel ID like "C0123ABCDE", got "${app.channels[s] ?? ''}"`);
    }
    secretsmanager.Secret.fromSecretNameV2(this, 'BotToken', app.botTokenSecretName).grantRead(fn);
    app.threads.grantThreading(fn);
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'RenderAlarmGraphs', actions: ['cloudwatch:GetMetricWidgetImage'], resources: ['*'] }));
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:GetMetricWidgetImage supports no resource-level permissions (the Service Authorization Reference lists no resource type for it); it only renders metrics the account can already read.',
    });
  }
}
