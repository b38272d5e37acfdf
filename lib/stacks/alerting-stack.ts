import { Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import { AlertHeartbeat } from '../constructs/alert-heartbeat';
import { AlertPathHealth } from '../constructs/alert-path-health';
import { AlertThreads } from '../constructs/alert-threads';
import { AlertTopics, type AlertTopicMap } from '../constructs/alert-topics';
import { DeadLetterEveryHop } from '../constructs/dead-letter-every-hop';
import { ElastiCacheEventTopic } from '../constructs/elasticache-event-topic';
import { SlackNotifier } from '../constructs/slack-notifier';

export interface AlertingStackProps extends StackProps {
  /** The environment's validated config. */
  readonly config: EnvironmentConfig;
}

/**
 * The alert path: topics per severity, the queues and the Slack notifier, and the independent
 * path (health topic → email, dead-letter queues of every hop) that reports when that path fails.
 * Deployed before the stacks whose alarms publish to it.
 */
export class AlertingStack extends Stack {
  /** Topics by severity, for every alarm in the environment. */
  public readonly alertTopics: AlertTopicMap;
  /** The construct, for the notifier wiring. */
  public readonly topics: AlertTopics;
  /** Topic → queue → Lambda → Slack, with its dead-letter queue and health alarms. */
  public readonly notifier: SlackNotifier;
  /** The independent path (`<env>-alerting-health` → email) for failures of the alert path itself. */
  public readonly health: AlertPathHealth;
  /** Dead-letter queues for every SNS subscription and EventBridge target; apply `.aspect` to the Stage. */
  public readonly deadLetters: DeadLetterEveryHop;
  /** The unencrypted topic ElastiCache publishes its events to; it feeds the warning queue. */
  public readonly cacheEvents: ElastiCacheEventTopic;
  /** The dead man's switch: heartbeats through every severity's path, alarmed on the health topic. */
  public readonly heartbeat: AlertHeartbeat;

  constructor(scope: Construct, id: string, props: AlertingStackProps) {
    super(scope, id, props);
    this.topics = new AlertTopics(this, 'Topics', { envName: props.config.name });
    this.alertTopics = this.topics.topics;
    this.health = new AlertPathHealth(this, 'Health', { envName: props.config.name, alertEmail: props.config.alerting.alertEmail });
    this.deadLetters = new DeadLetterEveryHop(this, 'DeadLetters', { envName: props.config.name, health: this.health });
    this.cacheEvents = new ElastiCacheEventTopic(this, 'CacheEvents', { envName: props.config.name, severity: 'warning' });
    this.notifier = new SlackNotifier(this, 'SlackNotifier', {
      envName: props.config.name,
      topics: this.alertTopics,
      webhookSecretNames: props.config.alerting.slackWebhookSecrets,
      criticalMention: props.config.alerting.criticalMention,
      healthTopic: this.health.topic,
      app: this.appMode(props.config),
      extraTopics: { [this.cacheEvents.severity]: [this.cacheEvents.topic] },
    });
    this.heartbeat = new AlertHeartbeat(this, 'Heartbeat', { envName: props.config.name, topics: this.alertTopics, healthTopic: this.health.topic });
  }

  /** Slack app mode's settings and thread table, when `alerting.slack.mode` is `app`. */
  private appMode(config: EnvironmentConfig) {
    const slack = config.alerting.slack;
    if (slack.mode !== 'app') return undefined;
    // The schema already requires both in app mode; this only narrows the types.
    if (!slack.botTokenSecret || !slack.channels) throw new Error(`${config.name}: alerting.slack.mode is "app" but botTokenSecret or channels is missing`);
    const threads = new AlertThreads(this, 'AlertThreads', { envName: config.name });
    return { threads, botTokenSecretName: slack.botTokenSecret, channels: slack.channels, rethreadAfterMinutes: slack.rethreadAfterMinutes };
  }
}
