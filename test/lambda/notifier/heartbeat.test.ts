/**
 * The dead man's switch, notifier side (lambda/notifier/heartbeat.ts), against the Slack stand-ins
 * on 127.0.0.1: the webhook stand-in answers the way Slack's incoming webhooks document their
 * errors (https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks:
 * 400 invalid_payload, 403 action_prohibited, 404 channel_not_found, 410 channel_is_archived; a
 * message without text is refused with 400 no_text, and a deleted webhook answers 404 no_service),
 * and the Web API stand-in answers auth.test (https://docs.slack.dev/reference/methods/auth.test).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SlackPoster } from '../../../lambda/notifier/deliver';
import { secretsManagerResolver } from '../../../lambda/notifier/webhooks';
import { HEARTBEAT_KIND, type HeartbeatMessage } from '../../../lambda/notifier/heartbeat-contract';
import { webhookCheckVerdict } from '../../../lambda/notifier/heartbeat';
import { processEvent, type NotifierDeps } from '../../../lambda/notifier/notify';
import { SlackWeb } from '../../../lambda/notifier/app/slack-web';
import type { Severity } from '../../../lambda/notifier/types';
import { SlackStandin } from '../../support/slack-standin';
import { FakeClock, startSlackStub, type SlackStub } from './support';

const QUEUES: Record<Severity, string> = {
  critical: 'arn:aws:sqs:ap-northeast-2:123456789012:prod-Alerting-CriticalQueue',
  warning: 'arn:aws:sqs:ap-northeast-2:123456789012:prod-Alerting-WarningQueue',
  info: 'arn:aws:sqs:ap-northeast-2:123456789012:prod-Alerting-InfoQueue',
};
const TOPIC = 'arn:aws:sns:ap-northeast-2:123456789012:prod-alerts-info';
let seq = 0;

/** An SQS record as the severity queue delivers the schedule's message (inside SNS's envelope). */
function record(severity: Severity, body: unknown) {
  const id = `msg-${severity}-${++seq}`;
  return {
    messageId: id,
    eventSource: 'aws:sqs',
    eventSourceARN: QUEUES[severity],
    attributes: { SentTimestamp: '1796500000000' },
    body: JSON.stringify({ Type: 'Notification', TopicArn: TOPIC, Message: JSON.stringify(body), Timestamp: '2026-12-06T00:00:00.000Z' }),
  };
}
const beat = (mode: 'check' | 'post'): HeartbeatMessage => ({ kind: HEARTBEAT_KIND, mode, environment: 'prod', time: '2026-12-06T00:00:00Z' });

/** Slack's incoming webhooks, as documented: live hooks take text, refuse none; others by path. */
let slack: SlackStub;
const HOOK_STATE: Record<string, { status: number; body: string }> = {
  '/services/T0TESTTEAM/B0DELETED0/xoxSecretDeleted000000000': { status: 404, body: 'no_service' },
  '/services/T0TESTTEAM/B0ARCHIVED/xoxSecretArchived00000000': { status: 410, body: 'channel_is_archived' },
  '/services/T0TESTTEAM/B0DOWN0000/xoxSecretDown000000000000': { status: 500, body: 'rollup_error' },
};
beforeAll(async () => {
  slack = await startSlackStub((_n, body) => {
    const path = slack.requests[slack.requests.length - 1].path;
    const state = HOOK_STATE[path];
    if (state) return state;
    if (typeof body !== 'object' || (!body.text && !body.blocks && !body.attachments)) return { status: 400, body: 'no_text' };
    return { status: 200, body: 'ok' };
  });
});
afterAll(() => slack.close());
beforeEach(() => slack.requests.splice(0));

const base = () => slack.url.replace(/\/services\/.*$/, '');
function deps(hooks: Partial<Record<Severity, string>> = {}, extra: Partial<NotifierDeps> = {}) {
  const metrics: string[] = [];
  const errors: string[] = [];
  const d: NotifierDeps = {
    config: { environment: 'prod', severityBySource: Object.fromEntries(Object.entries(QUEUES).map(([s, q]) => [q, s])) as Record<string, Severity>, criticalMention: 'here' },
    webhook: async (s) => {
      const h = hooks[s] ?? slack.url;
      if (h === 'missing') throw new Error(`cannot read webhook secret platform/prod/slack/${s} for ${s}: ResourceNotFoundException`);
      return h;
    },
    poster: new SlackPoster({ clock: new FakeClock() }),
    metric: (name, severity, value) => metrics.push(`${name}/${severity}=${value}`),
    logger: { debug() {}, info() {}, warn() {}, error: (m, ...x) => errors.push(`${m} ${JSON.stringify(x)}`) },
    ...extra,
  };
  return { d, metrics, errors };
}

describe('check heartbeats: every severity, nothing posted', () => {
  test('live webhooks: one text-less request each, SlackCheckSucceeded per severity, no message, no retry', async () => {
    const { d, metrics } = deps();
    const event = { Records: [record('critical', beat('check')), record('warning', beat('check')), record('info', beat('check')), record('info', beat('check'))] };
    const result = await processEvent(event, d);
    expect(result.failedItemIds).toEqual([]);
    expect(result.posts).toEqual([]);
    // Two info heartbeats in one batch: one check.
    expect(slack.requests.map((r) => r.body)).toEqual([{}, {}, {}]);
    expect(metrics.sort()).toEqual(['SlackCheckSucceeded/critical=1', 'SlackCheckSucceeded/info=1', 'SlackCheckSucceeded/warning=1']);
  });

  test.each([
    ['deleted webhook (404 no_service)', '/services/T0TESTTEAM/B0DELETED0/xoxSecretDeleted000000000', /HTTP 404 no_service/],
    ['archived channel (410)', '/services/T0TESTTEAM/B0ARCHIVED/xoxSecretArchived00000000', /HTTP 410 channel_is_archived/],
    ['Slack failing (500)', '/services/T0TESTTEAM/B0DOWN0000/xoxSecretDown000000000000', /HTTP 500 rollup_error/],
  ])('%s: SlackCheckFailed for that severity only, the item is not retried, the URL never logged', async (_n, path, re) => {
    const { d, metrics, errors } = deps({ warning: `${base()}${path}` });
    const result = await processEvent({ Records: [record('critical', beat('check')), record('warning', beat('check'))] }, d);
    expect(result.failedItemIds).toEqual([]);
    expect(metrics.sort()).toEqual(['SlackCheckFailed/warning=1', 'SlackCheckSucceeded/critical=1']);
    expect(errors.join('\n')).toMatch(re);
    expect(errors.join('\n')).not.toMatch(/xoxSecret/);
  });

  test('a missing webhook secret fails the check, naming the secret', async () => {
    const { d, metrics, errors } = deps({ critical: 'missing' });
    await processEvent({ Records: [record('critical', beat('check'))] }, d);
    expect(metrics).toEqual(['SlackCheckFailed/critical=1']);
    expect(errors.join('\n')).toMatch(/platform\/prod\/slack\/critical.*ResourceNotFoundException/);
    expect(slack.requests).toEqual([]);
  });

  test('a webhook replaced in its secret after a failed check is read again at the next check (no restart)', async () => {
    const sm = mockClient(SecretsManagerClient);
    try {
      const deleted = `${base()}/services/T0TESTTEAM/B0DELETED0/xoxSecretDeleted000000000`;
      sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: deleted.replace('http:', 'https:') }).resolves({ SecretString: slack.url.replace('http:', 'https:') });
      const resolver = secretsManagerResolver(new SecretsManagerClient({ region: 'ap-northeast-2' }), { info: 'platform/prod/slack/info' });
      // The secret must hold https; the stand-in speaks http on 127.0.0.1.
      const webhook = Object.assign((s: Severity) => resolver(s).then((u) => u.replace('https:', 'http:')), { forget: resolver.forget });
      const { d, metrics } = deps({}, { webhook });
      await processEvent({ Records: [record('info', beat('check'))] }, d);
      await processEvent({ Records: [record('info', beat('check'))] }, d);
      expect(metrics).toEqual(['SlackCheckFailed/info=1', 'SlackCheckSucceeded/info=1']);
      expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    } finally {
      sm.restore();
    }
  });

  test('Slack unreachable fails the check', async () => {
    const { d, metrics } = deps({ info: 'http://127.0.0.1:1/services/T0TESTTEAM/B0NOWHERE0/xoxSecretNowhere0000000' });
    await processEvent({ Records: [record('info', beat('check'))] }, d);
    expect(metrics).toEqual(['SlackCheckFailed/info=1']);
  });

  test('a check beside real alerts: the alerts are posted, the check posts nothing', async () => {
    const { d, metrics } = deps();
    const result = await processEvent({ Records: [record('info', beat('check')), record('info', { text: 'hello' })] }, d);
    expect(result.items).toBe(2);
    expect(result.posts).toHaveLength(1);
    expect(slack.requests.filter((r) => r.body.text).map((r) => r.body.text)).toEqual([expect.stringContaining('hello')]);
    expect(metrics.sort()).toEqual(['Delivered/info=1', 'SlackCheckSucceeded/info=1']);
  });

  test('a dry run (the CLI) checks nothing', async () => {
    const { d, metrics } = deps({}, { dryRun: () => {} });
    await processEvent({ Records: [record('info', beat('check'))] }, d);
    expect(slack.requests).toEqual([]);
    expect(metrics).toEqual([]);
  });
});

describe('the daily post heartbeat', () => {
  test('one quiet message, no mention even on a critical queue, then Delivered', async () => {
    const { d, metrics } = deps();
    const result = await processEvent({ Records: [record('critical', beat('post'))] }, d);
    expect(result.failedItemIds).toEqual([]);
    expect(slack.requests).toHaveLength(1);
    const posted = slack.requests[0].body;
    expect(posted.text).toMatch(/^💚 prod alerting heartbeat: .*No action needed\.$/);
    expect(JSON.stringify(posted)).not.toMatch(/<!here>|<!channel>/);
    expect(posted.blocks).toEqual([{ type: 'context', elements: [{ type: 'mrkdwn', text: expect.stringContaining('<!date^1796515200^') }] }]);
    expect(metrics).toEqual(['Delivered/critical=1']);
  });

  test('undelivered, it is retried like an alert (and so dead-lettered in the end)', async () => {
    const { d, metrics } = deps({ info: `${base()}/services/T0TESTTEAM/B0DELETED0/xoxSecretDeleted000000000` });
    const r = record('info', beat('post'));
    const result = await processEvent({ Records: [r] }, d);
    expect(result.failedItemIds).toEqual([r.messageId]);
    expect(metrics).toEqual([]);
  });

  test('an unknown mode is not a heartbeat: shown as text, not swallowed', async () => {
    const { d } = deps();
    const result = await processEvent({ Records: [record('info', { kind: HEARTBEAT_KIND, mode: 'silence' })] }, d);
    expect(result.posts).toHaveLength(1);
  });
});

test.each([
  [400, 'no_text', true],
  [400, 'invalid_payload', true],
  [429, '', true],
  [200, 'ok', false],
  [403, 'invalid_token', false],
  [403, 'action_prohibited', false],
  [404, 'channel_not_found', false],
  [400, 'user_not_found', false],
  [302, '<html>login</html>', false],
])('webhookCheckVerdict(%i %s) → ok=%s', (status, body, ok) => {
  expect(webhookCheckVerdict(status, body).ok).toBe(ok);
});

describe('app mode: auth.test on the Web API stand-in', () => {
  let standin: SlackStandin;
  beforeAll(async () => {
    standin = await new SlackStandin().start();
  });
  afterAll(() => standin.stop());

  test('the bot token is accepted, and nothing is posted', async () => {
    const r = await new SlackWeb(standin.token, { slackApiUrl: standin.apiUrl }).authTest();
    expect(r).toEqual({ ok: true, attempts: 1 });
    expect(standin.count('auth.test')).toBe(1);
    expect(standin.messages.size).toBe(0);
  });

  test('a revoked or wrong token fails, and the error does not carry it', async () => {
    const wrong = 'xoxb-9999-8888-wrongtokenSECRET';
    const r = await new SlackWeb(wrong, { slackApiUrl: standin.apiUrl }).authTest();
    expect(r).toMatchObject({ ok: false, permanent: true, error: expect.stringContaining('invalid_auth') });
    expect(JSON.stringify(r)).not.toContain('wrongtokenSECRET');
  });
});
