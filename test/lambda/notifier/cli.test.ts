import * as path from 'node:path';
import { runCli } from '../../../lambda/notifier/cli';
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
    const code = await runCli([f('cloudwatch-alarm-rds-cpu.sns-lambda.json'), f('plain-text.txt'), '--dry-run', '--mention', 'here'], t.io);
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
    const code = await runCli([f('eventbridge-ec2-state-change.json'), f('malformed.json')], t.io, { poster: new SlackPoster({ clock: new FakeClock() }) });
    expect(code).toBe(0);
    expect(stub.requests).toHaveLength(2);
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

  test.each([
    [[], /usage/],
    [['--bogus', 'x.json'], /unknown option --bogus/],
    [['--severity', 'loud', 'x.json'], /--severity must be/],
    [['/nonexistent/event.json', '--dry-run'], /cannot read/],
    [[path.join(FIXTURES, 'plain-text.txt')], /SLACK_WEBHOOK_URL is not set/],
  ])('bad usage %# exits 2', async (argv, re) => {
    const t = io();
    expect(await runCli(argv as string[], t.io)).toBe(2);
    expect(t.err.join('\n')).toMatch(re);
  });
});
