import { alarmResources, alarmThreadKey, applyTransition, arnResource, decide, eventResource, humanDuration, newThread, parentStatus, type ThreadRecord } from '../../../../lambda/notifier/app/threads';

const T0 = Date.parse('2026-11-23T01:15:42Z');
const min = 60_000;
const opened = (): ThreadRecord => ({ ...newThread('alarm:1:r:prod-db-cpu', 'C1', 'prod-db-cpu', 'ALARM', T0, ['rds:prod-postgres'], T0), ts: '1.1' });

describe('decide', () => {
  test('the first ALARM opens a thread; an OK or INSUFFICIENT_DATA without a thread is a post of its own', () => {
    expect(decide(undefined, 'ALARM', T0)).toEqual({ action: 'open' });
    expect(decide(undefined, 'OK', T0)).toEqual({ action: 'post' });
    expect(decide(undefined, 'INSUFFICIENT_DATA', T0)).toEqual({ action: 'post' });
  });

  test('every later transition replies in the open thread and updates the parent', () => {
    const r = opened();
    expect(decide(r, 'OK', T0 + 14 * min)).toMatchObject({ action: 'reply', updateParent: true });
    expect(decide(r, 'INSUFFICIENT_DATA', T0 + min)).toMatchObject({ action: 'reply', updateParent: true });
  });

  test('the same transition delivered twice is a duplicate; an older one arriving late replies without touching the parent', () => {
    const r = applyTransition(opened(), 'OK', T0 + 14 * min);
    expect(decide(r, 'OK', T0 + 14 * min).action).toBe('duplicate');
    expect(decide(r, 'INSUFFICIENT_DATA', T0 + 5 * min)).toMatchObject({ action: 'reply', updateParent: false });
  });

  test('ALARM after a resolution: same thread within rethreadAfterMinutes, a new one after', () => {
    const resolved = applyTransition(opened(), 'OK', T0 + 14 * min);
    expect(decide(resolved, 'ALARM', T0 + 14 * min + 359 * min)).toMatchObject({ action: 'reply' });
    expect(decide(resolved, 'ALARM', T0 + 14 * min + 361 * min)).toEqual({ action: 'open' });
    expect(decide(resolved, 'ALARM', T0 + 14 * min + 31 * min, { rethreadAfterMinutes: 30 })).toEqual({ action: 'open' });
  });

  test('a claimed thread without a parent ts yet is not a thread to reply in', () => {
    const claimed = newThread('k', 'C1', 'x', 'ALARM', T0, [], T0);
    expect(decide(claimed, 'ALARM', T0 + min)).toEqual({ action: 'open' });
  });
});

describe('parent status', () => {
  test('ALARM → OK reads "resolved after 14 min"', () => {
    const r = applyTransition(opened(), 'OK', T0 + 14 * min);
    expect(parentStatus(r)).toBe('🔴 ALARM → ✅ resolved after 14 min (01:15–01:29 UTC) · 2 transitions in this thread');
  });

  test('ALARM → INSUFFICIENT_DATA → ALARM is one episode; OK → ALARM starts a new one', () => {
    let r = applyTransition(opened(), 'INSUFFICIENT_DATA', T0 + 2 * min);
    expect(parentStatus(r)).toMatch(/^⚪ INSUFFICIENT_DATA since 01:17 UTC \(🔴 ALARM from 01:15\)/);
    r = applyTransition(r, 'ALARM', T0 + 3 * min);
    expect(parentStatus(r)).toMatch(/^🔴 ALARM since 01:15 UTC/);
    r = applyTransition(applyTransition(r, 'OK', T0 + 10 * min), 'ALARM', T0 + 40 * min);
    expect(parentStatus(r)).toMatch(/^🔴 ALARM since 01:55 UTC · 5 transitions/);
    expect(parentStatus(applyTransition(r, 'OK', T0 + 45 * min))).toMatch(/resolved after 5 min/);
  });

  test('durations read like people write them', () => {
    expect([humanDuration(45_000), humanDuration(14 * min), humanDuration(125 * min), humanDuration(50 * 60 * min)]).toEqual(['45 s', '14 min', '2 h 5 min', '2 d 2 h']);
  });
});

describe('keys and resources', () => {
  test('alarm key from account, region and name (or the ARN)', () => {
    expect(alarmThreadKey({ name: 'prod-db-cpu', arn: 'arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:prod-db-cpu' })).toBe('alarm:123456789012:ap-northeast-2:prod-db-cpu');
  });

  test('resources from dimensions, events and ARNs meet in one form', () => {
    expect(alarmResources({ metrics: [{ dimensions: { DBInstanceIdentifier: 'prod-postgres' } }, { dimensions: { CacheClusterId: 'rg-001' } }] })).toEqual(['rds:prod-postgres', 'elasticache:rg-001']);
    expect(eventResource({ kind: 'rds-event', event: { via: 'sns', sourceId: 'prod-postgres', message: 'failover' } })).toBe('rds:prod-postgres');
    expect(eventResource({ kind: 'elasticache', events: [{ name: 'ElastiCache:FailoverComplete', value: 'rg-001' }] })).toBe('elasticache:rg-001');
    expect(eventResource({ kind: 'backup', job: { via: 'sns', job: 'backup', message: 'x', resourceArn: 'arn:aws:rds:ap-northeast-2:123456789012:db:prod-postgres' } })).toBe('rds:prod-postgres');
    expect(arnResource('arn:aws:ec2:ap-northeast-2:123456789012:volume/vol-0abc')).toBe('ebs:vol-0abc');
  });
});
