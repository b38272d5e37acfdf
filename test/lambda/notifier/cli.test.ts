import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../lambda/notifier/cli';
import { cleanEnv, spawnCli, STACK_FRAME } from '../../support/cli';
import { SlackPoster } from '../../../lambda/notifier/deliver';
import { FakeClock, FIXTURES, startSlackStub, type SlackStub } from './support';

function io(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env }, out, err };
}
const f = (name: string) => path.join(FIXTURES, name);

describe('npm run notify', () => {
  let stub: SlackStub | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  test('--dry-run prints one payload per post and sends nothing', async () => {
    const t = io();
    const code = await runCli([f('cloudwatch-alarm-rds-cpu.sns-lambda.json'), f('plain-text.txt'), '--text', '--dry-run', '--mention', 'here'], t.io);
    expect(code).toBe(0);
    expect(t.out).toHaveLength(2);
    const first = JSON.parse(t.out[0]);
    expect(first).toMatchObject({ severity: 'critical', digest: false, notifications: 1 });
    expect(first.payload.text).toMatch(/^<!here> 🚨 ALARM: prod-db-cpu/);
    expect(t.err.join('\n')).toContain('2 notification(s) → 2 post(s) (dry run, nothing sent)');
  });

  test('posts to SLACK_WEBHOOK_URL and exits 0 when everything was delivered', async () => {
    stub = await startSlackStub();
    const t = io({ SLACK_WEBHOOK_URL: stub.url });
    const code = await runCli([f('eventbridge-ec2-state-change.json'), f('rds-event-failover.sns-envelope.json')], t.io, { poster: new SlackPoster({ clock: new FakeClock() }) });
    expect(code).toBe(0);
    expect(stub.requests).toHaveLength(2);
  });

  test('--text sends invalid JSON and plain text as plain-text messages', async () => {
    stub = await startSlackStub();
    const t = io({ SLACK_WEBHOOK_URL: stub.url });
    const code = await runCli([f('malformed.json'), f('plain-text.txt'), '--text'], t.io, { poster: new SlackPoster({ clock: new FakeClock() }) });
    expect(code).toBe(0);
    expect(stub.requests.map((r) => r.body.text).join('\n')).toMatch(/prod-db-cpu[\s\S]*수동 테스트 메시지/);
  });

  test('exits 1 when a post could not be delivered, without printing the webhook', async () => {
    stub = await startSlackStub(() => ({ status: 404, body: 'no_service' }));
    const t = io({ SLACK_WEBHOOK_URL: stub.url });
    const code = await runCli([f('rds-event-failover.sns-envelope.json')], t.io, { poster: new SlackPoster({ clock: new FakeClock() }) });
    expect(code).toBe(1);
    const printed = [...t.out, ...t.err].join('\n');
    expect(printed).toContain('FAILED');
    expect(printed).not.toContain('xoxSecretToken1234567890');
  });

  describe('refuses, with exit 2 and one line naming the problem, before anything is sent', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notify-cli-'));
    const write = (name: string, text: string) => {
      fs.writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const empty = write('empty.json', '  \n');
    const unknownShape = write('unknown.json', JSON.stringify({ hello: 'world', count: 3 }));
    const sqsOfUnknown = write('sqs-unknown.json', JSON.stringify({ Records: [{ eventSource: 'aws:sqs', messageId: 'm1', body: '{"deploy":"done"}' }] }));
    const good = f('rds-event-failover.sns-envelope.json');
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test.each([
      ['no file', [], {}, /^notify: give at least one event file/],
      ['unknown option', ['--bogus', good], {}, /unknown option --bogus/],
      ['bad severity', ['--severity', 'loud', good], {}, /--severity must be critical, warning or info \(got "loud"\)/],
      ['unreadable file', ['/nonexistent/event.json', '--dry-run'], {}, /cannot read \/nonexistent\/event\.json: ENOENT/],
      ['empty file', [empty], { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' }, /empty\.json is empty; there is nothing to send/],
      ['empty file, even with --text', [empty, '--text', '--dry-run'], {}, /is empty/],
      ['invalid JSON', [f('malformed.json')], { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' }, /malformed\.json is not valid JSON \(.*position \d+\); fix it, or pass --text/],
      ['plain text', [f('plain-text.txt'), '--dry-run'], {}, /plain-text\.txt is not JSON .*; pass --text/],
      ['an unknown JSON shape', [unknownShape], { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' }, /unknown\.json: 1 notification\(s\) are not a shape the notifier recognizes/],
      ['an unknown shape inside SQS', [sqsOfUnknown, '--dry-run'], {}, /sqs-unknown\.json: 1 notification\(s\) are not a shape/],
      ['invalid --mention', [good, '--mention', 'everyone', '--dry-run'], {}, /--mention must be none, here, channel or a Slack user-group ID like S0123ABCD \(got "everyone"\)/],
      ['invalid CRITICAL_MENTION', [good, '--dry-run'], { CRITICAL_MENTION: '@oncall' }, /CRITICAL_MENTION must be .* \(got "@oncall"\)/],
      ['no webhook', [good], {}, /SLACK_WEBHOOK_URL is not set/],
      ['a webhook that is not a URL', [good], { SLACK_WEBHOOK_URL: 'hooks.slack.com/services/T/B/xoxSecretToken' }, /SLACK_WEBHOOK_URL is not a valid URL \(got \d+ characters/],
      ['a webhook with a bad port', [good], { SLACK_WEBHOOK_URL: 'https://hooks.slack.com:99999/services/T/B/xoxSecretToken' }, /the port in SLACK_WEBHOOK_URL must be a port from 1 to 65535 \(got "99999"\)/],
      ['a webhook over plain http', [good], { SLACK_WEBHOOK_URL: 'http://hooks.slack.com/services/T/B/xoxSecretToken' }, /SLACK_WEBHOOK_URL must use https, not http \(host hooks\.slack\.com\)/],
    ])('%s', async (_what, argv, env, re) => {
      stub = await startSlackStub();
      const t = io(env as NodeJS.ProcessEnv);
      // Any post would reach the stand-in through the poster; none may happen.
      let posts = 0;
      const poster = { post: async () => ((posts += 1), { ok: true as const, attempts: 1, status: 200, degraded: false }) };
      expect(await runCli(argv as string[], t.io, { poster })).toBe(2);
      expect(posts).toBe(0);
      expect(t.out).toEqual([]);
      expect(t.err).toHaveLength(1);
      expect(t.err[0]).toMatch(re);
      expect(t.err[0]).not.toContain('xoxSecretToken');
    });

    test('a valid mention passes, in each spelling the notifier renders', async () => {
      for (const m of ['none', 'here', 'channel', 'S0123ABCD']) expect(await runCli([good, '--dry-run', '--mention', m], io().io)).toBe(0);
    });
  });

  describe('as a process (tsx, like npm run notify)', () => {
    test('--help exits 0 with the usage; a bad option exits 2 with one line and no stack trace', async () => {
      const help = await spawnCli('notify', ['--help']);
      expect(help).toMatchObject({ code: 0, stderr: '' });
      expect(help.stdout).toMatch(/^usage: npm run notify/);
      expect(help.stdout).toMatch(/--text/);
      const bad = await spawnCli('notify', [f('malformed.json')], { env: cleanEnv({ SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/xoxSecretToken' }) });
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).not.toMatch(STACK_FRAME);
    });

    test('--enrich says when there are no AWS credentials (exit 2, nothing sent)', async () => {
      // An empty HOME (no ~/.aws), no AWS_* credentials, and the EC2 metadata service switched off,
      // so that the SDK's default chain finds nothing and no request leaves the machine.
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'notify-home-'));
      try {
        const env = cleanEnv({ HOME: home, AWS_REGION: 'ap-northeast-2', AWS_EC2_METADATA_DISABLED: 'true' });
        const r = await spawnCli('notify', [f('cloudwatch-alarm-rds-cpu.sns-lambda.json'), '--enrich', '--dry-run'], { env });
        expect(r.code).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr.trim()).toMatch(/^notify: --enrich found no AWS credentials \(.+\); set AWS_PROFILE or run `aws sso login`, or drop --enrich/);
        expect(r.stderr).not.toMatch(STACK_FRAME);
        const noRegion = await spawnCli('notify', [f('cloudwatch-alarm-rds-cpu.sns-lambda.json'), '--enrich', '--dry-run'], { env: cleanEnv({ HOME: home, AWS_EC2_METADATA_DISABLED: 'true' }) });
        expect(noRegion.code).toBe(2);
        expect(noRegion.stderr).toMatch(/--enrich needs an AWS region/);
      } finally {
        fs.rmSync(home, { recursive: true, force: true });
      }
    });
  });
});
