import { SlackPoster, retryAfterMs } from '../../../lambda/notifier/deliver';
import { processEvent } from '../../../lambda/notifier/notify';
import { staticResolver } from '../../../lambda/notifier/webhooks';
import { FakeClock, fixture, startSlackStub, type SlackStub } from './support';

const MESSAGE = { text: 'hello', blocks: [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'hello' } }] };

describe('SlackPoster against a real HTTP server on 127.0.0.1', () => {
  let stub: SlackStub;
  afterEach(() => stub.close());

  test('200: delivered on the first attempt', async () => {
    stub = await startSlackStub();
    const clock = new FakeClock();
    const out = await new SlackPoster({ clock }).post(stub.url, MESSAGE);
    expect(out).toEqual({ ok: true, attempts: 1, status: 200, degraded: false });
    expect(stub.requests[0].body).toEqual(MESSAGE);
    expect(clock.slept).toEqual([]);
  });

  test('429 honours Retry-After before trying again', async () => {
    stub = await startSlackStub((n) => (n === 0 ? { status: 429, headers: { 'retry-after': '7' }, body: 'rate_limited' } : { status: 200 }));
    const clock = new FakeClock();
    const out = await new SlackPoster({ clock }).post(stub.url, MESSAGE);
    expect(out.ok).toBe(true);
    expect(out.attempts).toBe(2);
    expect(clock.slept).toEqual([7000]);
    expect(stub.requests).toHaveLength(2);
  });

  test('a 429 also holds back the next post to the same webhook', async () => {
    stub = await startSlackStub((n) => (n === 0 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 200 }));
    const clock = new FakeClock();
    const poster = new SlackPoster({ clock, burst: 5 });
    await poster.post(stub.url, MESSAGE);
    const before = clock.t;
    await poster.post(stub.url, MESSAGE);
    // The second post waits for a token even though the burst would have allowed it.
    expect(clock.t - before).toBeGreaterThanOrEqual(1000);
  });

  test('5xx retries with growing backoff, then succeeds', async () => {
    stub = await startSlackStub((n) => (n < 3 ? { status: 500, body: 'oops' } : { status: 200 }));
    const clock = new FakeClock();
    const retries: number[] = [];
    const out = await new SlackPoster({ clock, random: () => 0.5, onRetry: (r) => retries.push(r.status ?? 0) }).post(stub.url, MESSAGE);
    expect(out).toMatchObject({ ok: true, attempts: 4 });
    expect(retries).toEqual([500, 500, 500]);
    const backoffs = clock.slept.filter((ms) => ms !== 0);
    // 500·2^n with jitter in [cap/2, cap]; random 0.5 → 0.75·cap; the pacing waits (≤1000) may interleave.
    expect(backoffs.filter((ms) => [375, 750, 1500].includes(ms))).toEqual([375, 750, 1500]);
  });

  test('5xx forever: gives up after maxAttempts, not permanent (SQS will retry)', async () => {
    stub = await startSlackStub(() => ({ status: 503, body: 'service unavailable' }));
    const out = await new SlackPoster({ clock: new FakeClock(), maxAttempts: 3 }).post(stub.url, MESSAGE);
    expect(out).toMatchObject({ ok: false, attempts: 3, status: 503, permanent: false });
    expect(stub.requests).toHaveLength(3);
  });

  test('404 no_service is permanent: no retry', async () => {
    stub = await startSlackStub(() => ({ status: 404, body: 'no_service' }));
    const out = await new SlackPoster({ clock: new FakeClock() }).post(stub.url, MESSAGE);
    expect(out).toMatchObject({ ok: false, attempts: 1, status: 404, permanent: true, error: 'HTTP 404 no_service' });
    expect(stub.requests).toHaveLength(1);
  });

  test('400 invalid_blocks: retried once as plain text, so the alert still arrives', async () => {
    stub = await startSlackStub((n) => (n === 0 ? { status: 400, body: 'invalid_blocks' } : { status: 200 }));
    const out = await new SlackPoster({ clock: new FakeClock() }).post(stub.url, MESSAGE);
    expect(out).toMatchObject({ ok: true, attempts: 2, degraded: true });
    expect(stub.requests[1].body).toEqual({ text: 'hello' });
  });

  test('pacing: a burst, then one post per interval', async () => {
    stub = await startSlackStub();
    const clock = new FakeClock();
    const poster = new SlackPoster({ clock, burst: 2, intervalMs: 1000 });
    const sentAt: number[] = [];
    for (let i = 0; i < 6; i++) {
      await poster.post(stub.url, MESSAGE);
      sentAt.push(clock.t);
    }
    const start = sentAt[0];
    expect(sentAt.map((t) => t - start)).toEqual([0, 0, 1000, 2000, 3000, 4000]);
  });

  test('the deadline stops retries and reports a non-permanent failure', async () => {
    stub = await startSlackStub(() => ({ status: 429, headers: { 'retry-after': '20' } }));
    const clock = new FakeClock();
    const out = await new SlackPoster({ clock, deadline: clock.t + 10_000 }).post(stub.url, MESSAGE);
    expect(out).toMatchObject({ ok: false, permanent: false });
    expect(stub.requests).toHaveLength(1);
  });

  test('a network error never leaks the webhook URL', async () => {
    stub = await startSlackStub();
    await stub.close();
    const dead = stub.url; // the port is closed now
    stub = await startSlackStub();
    const out = await new SlackPoster({ clock: new FakeClock(), maxAttempts: 2 }).post(dead, MESSAGE);
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.error).not.toContain('xoxSecretToken1234567890');
      expect(out.error).toMatch(/fetch failed <- .*ECONNREFUSED/);
    }
  });

  test('Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('2', 0)).toBe(2000);
    expect(retryAfterMs(new Date(5000).toUTCString(), 1000)).toBe(4000);
    expect(retryAfterMs(null, 0)).toBeUndefined();
    expect(retryAfterMs('soon', 0)).toBeUndefined();
  });
});

describe('processEvent: failures come back as SQS batch item failures', () => {
  let stub: SlackStub;
  afterEach(() => stub.close());

  test('a permanently failing post fails exactly its SQS items; the others succeed', async () => {
    // critical is posted first; make that fail.
    stub = await startSlackStub((_n, body) => (JSON.stringify(body).includes('prod-db-overloaded') ? { status: 404, body: 'channel_not_found' } : { status: 200 }));
    const composite = fixture('cloudwatch-alarm-composite.sqs.json') as any;
    const mathBody = JSON.stringify(fixture('cloudwatch-alarm-metric-math.sns-envelope.json'));
    const event = { Records: [...composite.Records, { ...composite.Records[0], messageId: 'warn-1', body: mathBody, eventSourceARN: 'arn:aws:sqs:ap-northeast-2:123456789012:prod-Alerting-WarningQueue' }] };
    const result = await processEvent(event, { config: { environment: 'prod' }, webhook: staticResolver(stub.url), poster: new SlackPoster({ clock: new FakeClock() }) });
    expect(result.failedItemIds).toEqual([composite.Records[0].messageId]);
    expect(result.posts.filter((p) => p.outcome.ok)).toHaveLength(1);
  });

  test('an unreadable webhook secret fails the items of that severity, with the reason logged', async () => {
    stub = await startSlackStub();
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (m: string, e?: Record<string, unknown>) => errors.push(`${m} ${JSON.stringify(e)}`) };
    const result = await processEvent(fixture('cloudwatch-alarm-rds-cpu-ok.sqs.json'), {
      config: {},
      webhook: () => Promise.reject(new Error('AccessDeniedException')),
      poster: new SlackPoster({ clock: new FakeClock() }),
      logger,
    });
    expect(result.failedItemIds).toEqual(['0c1d2e3f-0000-4b5c-8d9e-crit00000000']);
    expect(errors.join()).toContain('AccessDeniedException');
    expect(stub.requests).toHaveLength(0);
  });
});
