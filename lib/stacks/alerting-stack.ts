import { Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import { AlertTopics, type AlertTopicMap } from '../constructs/alert-topics';
import { SlackNotifier } from '../constructs/slack-notifier';

export interface AlertingStackProps extends StackProps {
  /** The environment's validated config. */
  readonly config: EnvironmentConfig;
}

/**
 * The alert path: topics per severity (and, from the alerting issue, the queues and the Slack
 * notifier). Deployed before the stacks whose alarms publish to it.
 */
export class AlertingStack extends Stack {
  /** Topics by severity, for every alarm in the environment. */
  public readonly alertTopics: AlertTopicMap;
  /** The construct, for the notifier wiring. */
  public readonly topics: AlertTopics;
  /** Topic → queue → Lambda → Slack, with its dead-letter queue and health alarms. */
  public readonly notifier: SlackNotifier;

  constructor(scope: Construct, id: string, props: AlertingStackProps) {
    super(scope, id, props);
    this.topics = new AlertTopics(this, 'Topics', { envName: props.config.name });
    this.alertTopics = this.topics.topics;
    this.notifier = new SlackNotifier(this, 'SlackNotifier', {
      envName: props.config.name,
      topics: this.alertTopics,
      webhookSecretNames: props.config.alerting.slackWebhookSecrets,
      criticalMention: props.config.alerting.criticalMention,
      alertEmail: props.config.alerting.alertEmail,
    });
  }
}
