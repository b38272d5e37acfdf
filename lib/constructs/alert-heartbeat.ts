import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  ALERTING_DIMENSIONS,
  ALERTING_METRIC,
  ALERTING_METRICS_NAMESPACE,
  HEARTBEAT_KIND,
  type AlertingMetric,
  type HeartbeatMode,
} from '../../lambda/notifier/heartbeat-contract';
import { SEVERITIES, type AlertTopicMap, type Severity } from './alert-topics';
import { notifyOnAlarmAndOk } from './alarms/alarm-actions';

export interface AlertHeartbeatProps {
  /** Environment name: the heartbeat's `environment`, the metrics' `Environment` dimension, the alarm-name prefix. */
  readonly envName: string;
  /** The alert topics; a heartbeat goes through each (and so through each queue and webhook). */
  readonly topics: AlertTopicMap;
  /** Where the heartbeat alarms go: the independent path (AlertPathHealth's email topic), never the notifier. */
  readonly healthTopic: sns.ITopic;
  /** How often each severity is checked without posting. At least 1 minute, at most 15. @default Duration.minutes(5) */
  readonly checkEvery?: Duration;
  /** Checks in a row without a success before `alerting-heartbeat-missing` fires. @default 3 (15 minutes at the default rate) */
  readonly missingChecks?: number;
  /** When the one quiet message a day is posted (info channel). @default - every day at 00:00 UTC (09:00 in Seoul) */
  readonly dailyPost?: events.Schedule;
}

/**
 * The alert path's dead man's switch: a schedule sends a heartbeat through every severity's whole
 * path (topic → queue → notifier → Slack). The notifier proves each destination without posting
 * and records `SlackCheckSucceeded` or `SlackCheckFailed` (lambda/notifier/heartbeat.ts); once a day
 * it posts one quiet message to the info channel, which only a real delivery can prove. Two alarms
 * watch the metrics and go to the independent health topic (email):
 *
 * - `<env>-alerting-heartbeat-missing`: a severity had no successful check for `missingChecks`
 *   periods (anything on the path broken: schedule, topic or key policy, queue, function, Slack).
 * - `<env>-alerting-slack-check-failed`: checks fail in 2 of 3 periods (a missing or wrong webhook
 *   secret or bot token, a deleted webhook, an archived channel) — within about 10 minutes of a
 *   deploy, not at the first incident.
 */
export class AlertHeartbeat extends Construct {
  /** The schedule of the checks (every severity). */
  public readonly checkRule: events.Rule;
  /** The schedule of the daily quiet post (info). */
  public readonly postRule: events.Rule;
  /** `heartbeat-missing` and `slack-check-failed`. */
  public readonly alarms: Readonly<Record<'heartbeat-missing' | 'slack-check-failed', cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: AlertHeartbeatProps) {
    super(scope, id);
    const every = props.checkEvery ?? Duration.minutes(5);
    const minutes = every.toMinutes({ integral: false });
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 15) {
      throw new Error(`AlertHeartbeat checkEvery must be a whole number of minutes from 1 to 15, got ${every.toHumanString()}`);
    }
    const missingChecks = props.missingChecks ?? 3;
    if (!Number.isInteger(missingChecks) || missingChecks < 2 || missingChecks * minutes > 60) {
      throw new Error(`AlertHeartbeat missingChecks must be an integer of at least 2 and at most one hour of checks, got ${missingChecks}`);
    }

    const target = (severity: Severity, mode: HeartbeatMode): events.IRuleTarget => ({
      // Not targets.SnsTopic: it would add a second, account-wide publish grant to the topic policy;
      // AlertTopics already lets events.amazonaws.com publish, limited to this account.
      bind: () => ({
        arn: props.topics[severity].topicArn,
        input: events.RuleTargetInput.fromObject({ kind: HEARTBEAT_KIND, mode, environment: props.envName, time: events.EventField.time }),
      }),
    });
    this.checkRule = new events.Rule(this, 'CheckSchedule', {
      description: `${props.envName}: alert-path heartbeat check through every severity, every ${minutes} minute(s)`,
      schedule: events.Schedule.rate(every),
      targets: SEVERITIES.map((s) => target(s, 'check')),
    });
    this.postRule = new events.Rule(this, 'DailyPost', {
      description: `${props.envName}: the alert path's one quiet Slack message a day (info)`,
      schedule: props.dailyPost ?? events.Schedule.cron({ minute: '0', hour: '0' }),
      targets: [target('info', 'post')],
    });

    const period = every;
    const perSeverity = (name: AlertingMetric) =>
      Object.fromEntries(
        SEVERITIES.map((s) => [
          s[0],
          new cloudwatch.Metric({
            namespace: ALERTING_METRICS_NAMESPACE,
            metricName: name,
            dimensionsMap: { [ALERTING_DIMENSIONS.environment]: props.envName, [ALERTING_DIMENSIONS.severity]: s },
            statistic: 'Sum',
            period,
          }),
        ]),
      );
    const filled = SEVERITIES.map((s) => `FILL(${s[0]}, 0)`).join(', ');
    const name = (key: string) => `${props.envName}-alerting-${key}`;
    const missing = new cloudwatch.Alarm(this, 'MissingAlarm', {
      alarmName: name('heartbeat-missing'),
      alarmDescription: `${props.envName}: for ${missingChecks * minutes} minutes, at least one severity's heartbeat did not make it through topic → queue → notifier → Slack check. Alerts of that severity may not reach Slack.`,
      metric: new cloudwatch.MathExpression({ expression: `MIN([${filled}])`, usingMetrics: perSeverity(ALERTING_METRIC.checkSucceeded), label: 'Checks passed, worst severity', period }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: missingChecks,
      datapointsToAlarm: missingChecks,
      // No data at all is the loudest silence.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const failed = new cloudwatch.Alarm(this, 'CheckFailedAlarm', {
      alarmName: name('slack-check-failed'),
      alarmDescription: `${props.envName}: Slack refused the notifier's heartbeat check, or its webhook secret or bot token could not be read, in 2 of the last 3 checks. The notifier's log says which severity and why.`,
      metric: new cloudwatch.MathExpression({ expression: `SUM([${filled}])`, usingMetrics: perSeverity(ALERTING_METRIC.checkFailed), label: 'Checks failed', period }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    notifyOnAlarmAndOk(props.healthTopic, missing, failed);
    this.alarms = { 'heartbeat-missing': missing, 'slack-check-failed': failed };
  }
}
