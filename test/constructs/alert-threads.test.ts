/**
 * App mode's infrastructure: the thread table (on demand, its own KMS key, TTL, PITR — the
 * properties of AWS::DynamoDB::Table:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html)
 * and the notifier's wiring to it. Webhook mode (the default) creates none of it.
 */
import { Template, Match } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AlertThreads } from '../../lib/constructs/alert-threads';
import { SlackNotifier } from '../../lib/constructs/slack-notifier';
import { THREAD_TABLE_KEY, THREAD_TABLE_TTL } from '../../lambda/notifier/app/contract';
import { templateJson } from '../support/assembly';
import { fixtureStack } from './alarms/support';

const SECRETS = { critical: 'platform/prod/slack/critical', warning: 'platform/prod/slack/warning', info: 'platform/prod/slack/info' };
const CHANNELS = { critical: 'C0CRITICAL1', warning: 'C0WARNING01', info: 'C0INFO00001' };

function build(channels: Record<string, string> = CHANNELS) {
  const f = fixtureStack();
  const threads = new AlertThreads(f.stack, 'Threads', { envName: 'prod' });
  const notifier = new SlackNotifier(f.stack, 'Notifier', {
    envName: 'prod', topics: f.topics, webhookSecretNames: SECRETS, healthTopic: new sns.Topic(f.stack, 'Health'),
    app: { threads, botTokenSecretName: 'platform/prod/slack/bot-token', channels: channels as typeof CHANNELS, rethreadAfterMinutes: 120 },
  });
  return { ...f, threads, notifier, template: Template.fromStack(f.stack) };
}

describe('AlertThreads + SlackNotifier in app mode', () => {
  const { template, stack, threads } = build();

  test('the table: string key, on demand, its own rotating KMS key, TTL on the notifier\'s attribute, PITR', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: THREAD_TABLE_KEY, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      TimeToLiveSpecification: { AttributeName: THREAD_TABLE_TTL, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    template.hasResourceProperties('AWS::KMS::Key', { Description: 'Encrypts the prod Slack alert thread table', EnableKeyRotation: true });
  });

  test('the function gets the mode, table, token secret name and channels — never a token', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((r) => r.Properties.Environment?.Variables?.SLACK_MODE)!;
    const vars = fn.Properties.Environment.Variables;
    expect(vars).toMatchObject({ SLACK_MODE: 'app', SLACK_BOT_TOKEN_SECRET: 'platform/prod/slack/bot-token', SLACK_CHANNELS: JSON.stringify(CHANNELS), RETHREAD_AFTER_MINUTES: '120' });
    expect(vars.THREAD_TABLE).toEqual({ Ref: stack.getLogicalId(threads.table.node.defaultChild as never) });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/xox[bp]-/);
  });

  test('permissions: get/put items only, the key, the token secret, GetMetricWidgetImage', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = (s: { Action: string | string[] }) => [s.Action].flat();
    expect(statements.find((s) => actions(s).includes('dynamodb:PutItem'))).toMatchObject({ Action: ['dynamodb:GetItem', 'dynamodb:PutItem'] });
    expect(statements.some((s) => actions(s).includes('cloudwatch:GetMetricWidgetImage') && s.Resource === '*')).toBe(true);
    expect(statements.some((s) => actions(s).includes('secretsmanager:GetSecretValue') && JSON.stringify(s.Resource).includes('platform/prod/slack/bot-token'))).toBe(true);
  });

  test('a channel name instead of an ID fails at synth, naming it', () => {
    expect(() => build({ ...CHANNELS, critical: '#alerts' })).toThrow(/app\.channels\.critical must be a Slack channel ID like "C0123ABCDE", got "#alerts"/);
  });
});

test('webhook mode (every shipped environment) has no thread table', () => {
  for (const env of ['dev', 'staging', 'prod']) {
    const resources = Object.values(templateJson(env, 'Alerting').Resources) as { Type: string }[];
    expect(resources.filter((r) => r.Type === 'AWS::DynamoDB::Table')).toEqual([]);
  }
});
