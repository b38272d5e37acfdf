import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ENVIRONMENTS, loadEnvironment } from '../../lib/config';
import { DbHealth, LAMBDA_RUNTIME_CA_BUNDLE, type DbHealthProps } from '../../lib/constructs/db-health';
import { METRICS_NAMESPACE, METRIC_NAMES } from '../../lambda/db-health/contract';
import { synthResult, template as appTemplate } from '../support/assembly';

const prod = loadEnvironment('prod', ENVIRONMENTS.prod);

type BuildOptions = Omit<Partial<DbHealthProps>, 'settings'> & { settings?: Partial<DbHealthProps['settings']> };

interface Built {
  stack: Stack;
  t: Template;
  health: DbHealth;
  topics: Record<'critical' | 'warning' | 'info', sns.Topic>;
}

/** A fresh stack per test; bundling is skipped (the app-level tests below bundle for real). */
function build(o: BuildOptions = {}): Built {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'ap-northeast-2' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  const securityGroup = new ec2.SecurityGroup(stack, 'DbClients', { vpc });
  const key = new kms.Key(stack, 'TopicKey');
  const topics = {
    critical: new sns.Topic(stack, 'Critical', { masterKey: key }),
    warning: new sns.Topic(stack, 'Warning', { masterKey: key }),
    info: new sns.Topic(stack, 'Info', { masterKey: key }),
  };
  const secretKey = new kms.Key(stack, 'SecretKey');
  const monitoringSecret = new secretsmanager.Secret(stack, 'MonitorSecret', { encryptionKey: secretKey });
  const { settings, ...rest } = o;
  const health = new DbHealth(stack, 'DbHealth', {
    envName: 'prod',
    vpc,
    securityGroup,
    monitoringSecret,
    databaseHost: 'db.example.internal',
    databasePort: 6432,
    databaseName: 'platform',
    settings: { ...prod.dbHealth, ...settings },
    appSchema: 'public',
    servicePrefixes: ['gt_', 'ag_'],
    alertTopics: topics,
    ...rest,
  });
  let t: Template | undefined;
  return {
    stack,
    health,
    topics,
    // Synthesized on first use, so a test can still add to the stack (the dashboard test).
    get t() {
      t ??= Template.fromStack(stack);
      return t;
    },
  };
}

const ref = (stack: Stack, c: { node: { defaultChild?: unknown } }) => ({ Ref: stack.getLogicalId(c.node.defaultChild as never) });

describe('function', () => {
  test('Node.js 24 on arm64, in the app subnets with the db-client security group, configured by environment', () => {
    const { stack, t } = build();
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 30,
      VpcConfig: { SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^DbClients'), 'GroupId'] }] },
      Environment: {
        Variables: Match.objectLike({
          ENVIRONMENT_NAME: 'prod',
          METRICS_NAMESPACE: 'Platform/DbHealth',
          DB_SECRET_ARN: { Ref: Match.stringLikeRegexp('^MonitorSecret') },
          DB_HOST: 'db.example.internal',
          DB_PORT: '6432',
          DB_NAME: 'platform',
          DB_CA_PATH: LAMBDA_RUNTIME_CA_BUNDLE,
          LONG_QUERY_SECONDS: '300',
          APP_SCHEMA: 'public',
          SERVICE_PREFIXES: 'gt_,ag_',
          UNUSED_INDEX_MIN_BYTES: '1048576',
          DIGEST_TOPIC_ARN: { Ref: Match.stringLikeRegexp('^Info') },
        }),
      },
    });
    const subnets = t.findResources('AWS::EC2::Subnet');
    const fn = Object.values(t.findResources('AWS::Lambda::Function'))[0];
    for (const s of fn.Properties.VpcConfig.SubnetIds as { Ref: string }[]) {
      expect(JSON.stringify(subnets[s.Ref].Properties.Tags)).toContain('"aws-cdk:subnet-name","Value":"app"');
    }
    void stack;
  });

  test('the CA bundle path is configurable (e.g. an RDS bundle shipped with the function)', () => {
    const { t } = build({ caBundlePath: '/var/task/rds-global-bundle.pem' });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DB_CA_PATH: '/var/task/rds-global-bundle.pem' }) },
    });
  });

  test('may read the monitoring secret (and decrypt it only through Secrets Manager) and publish to the info topic only', () => {
    const { t } = build();
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: Match.stringLikeRegexp('^MonitorSecret') } }),
          Match.objectLike({
            Action: 'kms:Decrypt',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SecretKey'), 'Arn'] },
            Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.ap-northeast-2.amazonaws.com' } },
          }),
          Match.objectLike({ Action: 'sns:Publish', Resource: { Ref: Match.stringLikeRegexp('^Info') } }),
        ]),
      },
    });
    const policies = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    expect(policies).not.toMatch(/"Ref":"(Critical|Warning)[A-Z0-9]+"/);
    expect(policies).not.toContain('cloudwatch:PutMetricData'); // EMF needs no API permission
  });
});

describe('schedules', () => {
  test.each([
    [1, 'rate(1 minute)'],
    [5, 'rate(5 minutes)'],
    [15, 'rate(15 minutes)'],
  ])('scheduleMinutes %d runs the probe on %s with {"mode":"probe"}', (minutes, expression) => {
    const { t } = build({ settings: { scheduleMinutes: minutes } });
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: expression,
      Targets: [Match.objectLike({ Input: '{"mode":"probe"}', RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
  });

  test('the digest runs daily at 00:00 UTC (09:00 in Seoul) with {"mode":"digest"}, or on the given schedule', () => {
    build().t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 0 * * ? *)',
      Targets: [Match.objectLike({ Input: '{"mode":"digest"}' })],
    });
    build({ digestSchedule: events.Schedule.cron({ minute: '30', hour: '23', weekDay: 'SUN' }) }).t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(30 23 ? * SUN *)',
      Targets: [Match.objectLike({ Input: '{"mode":"digest"}' })],
    });
  });
});

describe('alarms', () => {
  const expected: [string, 'critical' | 'warning'][] = [
    ['connections', 'critical'],
    ['xid-age', 'critical'],
    ['buffer-hit-ratio', 'warning'],
    ['long-running-queries', 'warning'],
    ['idle-in-transaction', 'warning'],
    ['database-size', 'warning'],
    ['unprefixed-tables', 'warning'],
    ['probe-missing', 'warning'],
  ];

  test('eight alarms, each sending ALARM and OK to its severity topic', () => {
    const { stack, t, topics } = build();
    t.resourceCountIs('AWS::CloudWatch::Alarm', expected.length);
    for (const [key, severity] of expected) {
      const topic = ref(stack, topics[severity]);
      t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `prod-db-health-${key}`, AlarmActions: [topic], OKActions: [topic] });
    }
  });

  test.each<[string, Record<string, unknown>]>([
    ['xid-age', { MetricName: 'xid_age', Statistic: 'Maximum', Threshold: 1_000_000_000, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 }],
    ['buffer-hit-ratio', { MetricName: 'buffer_hit_ratio', Statistic: 'Average', Threshold: 0.95, ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 3 }],
    ['long-running-queries', { MetricName: 'long_running_queries', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 5, DatapointsToAlarm: 5 }],
    ['idle-in-transaction', { MetricName: 'connections_idle_in_transaction', Statistic: 'Minimum', Threshold: 0, EvaluationPeriods: 5, DatapointsToAlarm: 5 }],
    ['database-size', { MetricName: 'database_size_bytes', Threshold: 10 * 1024 ** 3, ComparisonOperator: 'GreaterThanThreshold' }],
    ['unprefixed-tables', { MetricName: 'tables_without_service_prefix', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 }],
  ])('%s watches the contract metric with the config threshold', (key, props) => {
    build().t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `prod-db-health-${key}`,
      Namespace: METRICS_NAMESPACE,
      Dimensions: [{ Name: 'Environment', Value: 'prod' }],
      Period: 60,
      TreatMissingData: 'notBreaching',
      ...props,
    });
  });

  test('connections: metric math connections_total / connections_max above 0.8 for 5 minutes', () => {
    const { t } = build();
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'prod-db-health-connections',
      Threshold: 0.8,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'total / maxconn', ReturnData: true }),
        Match.objectLike({ Id: 'total', ReturnData: false, MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'connections_total', Namespace: METRICS_NAMESPACE, Dimensions: [{ Name: 'Environment', Value: 'prod' }] }) }) }),
        Match.objectLike({ Id: 'maxconn', ReturnData: false, MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'connections_max' }) }) }),
      ]),
    });
  });

  test('the connections ratio and buffer-hit floor are options', () => {
    const t = build({ connectionsRatio: 0.7, bufferHitRatioMin: 0.99 }).t;
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'prod-db-health-connections', Threshold: 0.7 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'prod-db-health-buffer-hit-ratio', Threshold: 0.99 });
  });

  test('a probe that stops reporting alarms: missing data is breaching on the heartbeat, and only there', () => {
    const { t } = build();
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'prod-db-health-probe-missing',
      MetricName: 'connections_max',
      Statistic: 'SampleCount',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 5,
      TreatMissingData: 'breaching',
    });
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.filter((a) => a.Properties.TreatMissingData === 'breaching').map((a) => a.Properties.AlarmName)).toEqual(['prod-db-health-probe-missing']);
  });

  test('at a 5-minute schedule, "5 minutes" is one period of 300 s and the heartbeat waits 3 periods', () => {
    const { t } = build({ settings: { scheduleMinutes: 5 } });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'prod-db-health-long-running-queries', Period: 300, EvaluationPeriods: 1 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'prod-db-health-probe-missing', Period: 300, EvaluationPeriods: 3 });
  });

  test('every metric an alarm watches is a contract metric in the namespace', () => {
    const alarms = Object.values(build().t.findResources('AWS::CloudWatch::Alarm'));
    const names = new Set<string>();
    for (const a of alarms) {
      if (a.Properties.MetricName) names.add(a.Properties.MetricName);
      for (const m of a.Properties.Metrics ?? []) if (m.MetricStat) names.add(m.MetricStat.Metric.MetricName);
    }
    for (const n of names) expect(METRIC_NAMES).toContain(n);
    expect(names.size).toBeGreaterThanOrEqual(8);
  });
});

test('widgets() show every contract metric and the alarms', () => {
  const { stack, health } = build();
  new cloudwatch.Dashboard(stack, 'Board', { widgets: [health.widgets()] });
  const board = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'))[0];
  // The body is an Fn::Join of JSON text and tokens: keep the text.
  const body = (board.Properties.DashboardBody['Fn::Join'][1] as unknown[]).filter((p) => typeof p === 'string').join('');
  for (const n of METRIC_NAMES) expect(body).toContain(`"${n}"`);
  expect(body).toContain('alarm');
  expect(body).toContain('total / maxconn');
});

test.each<[string, BuildOptions, RegExp]>([
  ['a zero schedule', { settings: { scheduleMinutes: 0 } }, /scheduleMinutes must be an integer from 1 to 60 \(got 0\)/],
  ['a fractional schedule', { settings: { scheduleMinutes: 1.5 } }, /scheduleMinutes.*got 1\.5/],
  ['no prefixes', { servicePrefixes: [] }, /servicePrefixes must name at least one prefix/],
  ['an upper-case prefix', { servicePrefixes: ['gt_', 'GT_'] }, /invalid prefix "GT_"/],
  ['a ratio above 1', { connectionsRatio: 1.5 }, /connectionsRatio must be in \(0, 1\] \(got 1\.5\)/],
  ['a zero buffer floor', { bufferHitRatioMin: 0 }, /bufferHitRatioMin.*got 0/],
  ['a bad port', { databasePort: 70000 }, /databasePort must be a TCP port \(got 70000\)/],
])('rejects %s at construct time', (_label, props, message) => {
  expect(() => build(props)).toThrow(message);
});

describe('in the app (shared synth, cdk-nag included)', () => {
  test('synth passes the cdk-nag gate with db-health in every environment', () => {
    expect(synthResult().exitCode).toBe(0);
  });

  test.each([
    ['prod', 'rate(1 minute)'],
    ['dev', 'rate(5 minutes)'],
  ])('%s probes on %s, and its alarms go to its own topics', (env, expression) => {
    const t = appTemplate(env, 'Observability');
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: expression, Targets: [Match.objectLike({ Input: '{"mode":"probe"}' })] });
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter((a) => String(a.Properties.AlarmName).startsWith(`${env}-db-health-`));
    expect(alarms).toHaveLength(8);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toHaveLength(1);
      expect(a.Properties.OKActions).toEqual(a.Properties.AlarmActions);
      expect(JSON.stringify(a.Properties.AlarmActions)).toContain(`${env}-Alerting`);
    }
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Environment: { Variables: Match.objectLike({ ENVIRONMENT_NAME: env, SERVICE_PREFIXES: 'gt_,ag_,sc_,lg_,nf_,ob_,md_,gm_,pm_,rq_,it_,al_' }) },
    });
  });

  test('the db-health widgets are on the environment dashboard', () => {
    const body = JSON.stringify(appTemplate('prod', 'Observability').findResources('AWS::CloudWatch::Dashboard'));
    expect(body).toContain('db-health: connections by state');
    expect(body).toContain('tables_without_service_prefix');
  });
});
