import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { parseSeveritySources, settingsFromEnv } from '../../../lambda/notifier/config';
import { handler, resetForTests } from '../../../lambda/notifier/handler';
import { redact, registerSecret } from '../../../lambda/notifier/redact';
import { secretsManagerResolver, webhookFromSecret } from '../../../lambda/notifier/webhooks';
import { fixture } from './support';

const sm = mockClient(SecretsManagerClient);
const HOOK = 'https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/cccccccccccccccccccccccc';

describe('webhook secrets', () => {
  beforeEach(() => sm.reset());

  test('read once per container, whatever the number of batches', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'platform/prod/slack/critical' }).resolves({ SecretString: HOOK });
    const resolve = secretsManagerResolver(new SecretsManagerClient({ region: 'ap-northeast-2' }), { critical: 'platform/prod/slack/critical' });
    expect(await resolve('critical')).toBe(HOOK);
    expect(await resolve('critical')).toBe(HOOK);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  test('a failed read is retried next time, and its error names the secret, not its value', async () => {
    sm.on(GetSecretValueCommand).rejectsOnce(new Error('ResourceNotFoundException')).resolves({ SecretString: JSON.stringify({ url: HOOK }) });
    const resolve = secretsManagerResolver(new SecretsManagerClient({ region: 'ap-northeast-2' }), { warning: 'platform/prod/slack/warning' });
    await expect(resolve('warning')).rejects.toThrow(/cannot read webhook secret platform\/prod\/slack\/warning for warning: .*ResourceNotFoundException/);
    expect(await resolve('warning')).toBe(HOOK);
  });

  test.each([
    ['a plain URL', HOOK, HOOK],
    ['JSON with url', JSON.stringify({ url: HOOK }), HOOK],
    ['JSON with webhookUrl', JSON.stringify({ webhookUrl: HOOK }), HOOK],
  ])('secret shapes: %s', (_n, secret, url) => {
    expect(webhookFromSecret(secret)).toBe(url);
  });

  test.each([
    ['http is refused', 'http://hooks.slack.com/services/T/B/x', /https/],
    ['not a URL', 'hello', /does not hold a URL/],
    ['JSON without a url', '{"token":"x"}', /no "url"/],
  ])('bad secrets: %s (and the message never repeats the value)', (_n, secret, re) => {
    expect(() => webhookFromSecret(secret)).toThrow(re);
    try {
      webhookFromSecret(secret);
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
    }
  });

  test('redact removes registered URLs, their paths, and anything shaped like a Slack webhook', () => {
    registerSecret('https://example.internal/hook/abcdefgh12345678');
    expect(redact('failed to POST https://example.internal/hook/abcdefgh12345678 (path /hook/abcdefgh12345678)')).toBe('failed to POST [redacted] (path [redacted])');
    expect(redact('Failed to parse URL from https://hooks.slack.com/services/T0ZZZZZZZ/B0YYYYYYY/unregistered99')).toBe('Failed to parse URL from https://hooks.slack.com/[redacted]');
    expect(redact('POST /services/T0AAAAAAA/B0BBBBBBB/cccc')).toBe('POST /services/[redacted]');
  });
});

describe('settingsFromEnv', () => {
  const env = { WEBHOOK_SECRETS: JSON.stringify({ critical: 'a', warning: 'b', info: 'c' }), ENVIRONMENT_NAME: 'prod', CRITICAL_MENTION: 'here', SEVERITY_SOURCES: JSON.stringify([{ severity: 'critical', arns: ['arn:q1', 'arn:t1'] }]), AWS_REGION: 'ap-northeast-2' };

  test('reads every setting', () => {
    const s = settingsFromEnv(env);
    expect(s.webhookSecrets).toEqual({ critical: 'a', warning: 'b', info: 'c' });
    expect(s.notifier).toMatchObject({ environment: 'prod', criticalMention: 'here', severityBySource: { 'arn:q1': 'critical', 'arn:t1': 'critical' }, defaultRegion: 'ap-northeast-2', stormThreshold: 5 });
    expect(s.enrichBudgetMs).toBe(3000);
  });

  test.each([
    [{ ...env, WEBHOOK_SECRETS: undefined }, /WEBHOOK_SECRETS/],
    [{ ...env, WEBHOOK_SECRETS: '{nope' }, /not valid JSON/],
    [{ ...env, STORM_THRESHOLD: '0' }, /STORM_THRESHOLD must be an integer from 1/],
    [{ ...env, SEVERITY_SOURCES: JSON.stringify({ 'arn:x': 'loud' }) }, /not a severity/],
  ])('rejects bad settings %#', (bad, re) => {
    expect(() => settingsFromEnv(bad as NodeJS.ProcessEnv)).toThrow(re);
  });

  test('SEVERITY_SOURCES as a plain object', () => {
    expect(parseSeveritySources({ 'arn:a': 'info' })).toEqual({ 'arn:a': 'info' });
  });
});

describe('handler', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    resetForTests();
    sm.reset();
  });

  test('an SQS batch whose webhook cannot be read reports every item as a batch item failure, without leaking', async () => {
    process.env.WEBHOOK_SECRETS = JSON.stringify({ critical: 'platform/prod/slack/critical' });
    process.env.ENRICH_BUDGET_MS = '0';
    process.env.AWS_REGION = 'ap-northeast-2';
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'not-a-url ' + HOOK });
    const event = fixture('cloudwatch-alarm-composite.sqs.json') as any;
    const res = await handler(event, { getRemainingTimeInMillis: () => 60_000, awsRequestId: 'req-1' });
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] });
  });

  test('a direct (non-SQS) invocation throws when undelivered, so Lambda retries, and the error is redacted', async () => {
    process.env.WEBHOOK_SECRETS = JSON.stringify({ critical: 'platform/prod/slack/critical' });
    process.env.ENRICH_BUDGET_MS = '0';
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'https://127.0.0.1:1/services/T0AAAAAAA/B0BBBBBBB/secretsecretsecret' });
    const p = handler(fixture('backup-job-failed.sns-lambda.json'), { getRemainingTimeInMillis: () => 7_000, awsRequestId: 'req-2' });
    await expect(p).rejects.toThrow(/undelivered/);
    await p.catch((err: Error) => expect(err.message).not.toContain('secretsecretsecret'));
  });
});
