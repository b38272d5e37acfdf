import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';

/**
 * Sends both ALARM and OK of every given alarm to `topic`: people must hear when something
 * recovers as well as when it breaks. The one way alarms in this app reach the alert topics; the
 * worker and db-health constructs use it too.
 */
export function notifyOnAlarmAndOk(topic: sns.ITopic, ...alarms: cloudwatch.AlarmBase[]): void {
  const action = new cwActions.SnsAction(topic);
  for (const alarm of alarms) {
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
  }
}
