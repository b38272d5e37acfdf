/**
 * EC2 status checks on every worker, as CloudWatch documents the alarm actions:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/UsingAlarmActions.html
 * - the recover action belongs on StatusCheckFailed_System (a host problem: move to other hardware);
 * - the reboot action on StatusCheckFailed_Instance (the instance's own OS: a hung or broken system).
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-system-instance-status-check.html
 * Both checks exist per instance; without the second, a hung OS or a full root disk reaches nobody.
 */
import { ENVS, resources } from './support';

const actionsOf = (a: { Properties: Record<string, any> }) => JSON.stringify(a.Properties.AlarmActions ?? []);

describe.each(ENVS)('%s: worker status checks', (env) => {
  const workers = () => resources(env, 'AWS::EC2::Instance').filter((r) => r.stack.endsWith('/Workers') && /Worker\d/.test(r.logicalId));
  const alarmsOn = (metric: string) =>
    resources(env, 'AWS::CloudWatch::Alarm').filter((a) => a.Properties.Namespace === 'AWS/EC2' && a.Properties.MetricName === metric);
  const instanceOf = (a: { Properties: Record<string, any> }) => a.Properties.Dimensions.find((d: any) => d.Name === 'InstanceId').Value.Ref;

  test('every worker has a system check alarm that recovers it, and an instance check alarm that reboots it', () => {
    const ids = workers().map((w) => w.logicalId).sort();
    expect(ids.length).toBeGreaterThan(0);
    const system = alarmsOn('StatusCheckFailed_System');
    const instance = alarmsOn('StatusCheckFailed_Instance');
    expect(system.map(instanceOf).sort()).toEqual(ids);
    expect(instance.map(instanceOf).sort()).toEqual(ids);
    for (const a of system) expect(actionsOf(a)).toMatch(/:ec2:recover/);
    for (const a of instance) {
      expect(actionsOf(a)).toMatch(/:ec2:reboot/);
      expect(actionsOf(a)).not.toMatch(/:ec2:(recover|stop|terminate)/);
    }
  });

  test('both reach people: ALARM and OK go to the critical topic, and the runbook is linked', () => {
    for (const a of [...alarmsOn('StatusCheckFailed_System'), ...alarmsOn('StatusCheckFailed_Instance')]) {
      expect(actionsOf(a)).toMatch(/[Cc]ritical/);
      expect(JSON.stringify(a.Properties.OKActions)).toMatch(/[Cc]ritical/);
      expect(a.Properties.AlarmDescription).toMatch(/Runbook: .*docs\/runbooks\/workers\.md#/);
    }
  });
});
