/**
 * The thread store against a real DynamoDB implementation (dynalite). Conditional writes are
 * DynamoDB's documented way to make concurrent writers safe:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
 */
import { DynamoThreadStore } from '../../../../lambda/notifier/app/thread-store';
import { applyTransition, newThread } from '../../../../lambda/notifier/app/threads';
import { startDynalite, type TestDynamo } from '../../../support/dynalite';

let dynamo: TestDynamo;
let store: DynamoThreadStore;
const NOW = Date.parse('2026-11-23T01:15:42Z');

beforeAll(async () => {
  dynamo = await startDynalite();
  await dynamo.createThreadTable('threads');
  store = new DynamoThreadStore(dynamo.client(), 'threads', { now: () => NOW, ttlDays: 30 });
});
afterAll(() => dynamo.close());

test('a record round-trips, with its TTL attribute set 30 days ahead', async () => {
  const r = { ...newThread('alarm:1:r:a', 'C1', 'a', 'ALARM', NOW, ['rds:db'], NOW), ts: '1700000000.000100', parent: '{"text":"x"}' };
  expect(await store.put(r, undefined)).toBe(true);
  expect(await store.get('alarm:1:r:a')).toEqual(r);
  const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
  const raw = await dynamo.client().send(new GetItemCommand({ TableName: 'threads', Key: { pk: { S: 'alarm:1:r:a' } } }));
  expect(Number(raw.Item!.expiresAt.N)).toBe(Math.floor(NOW / 1000) + 30 * 86400);
});

test('of two claims for the same alarm at once, exactly one wins', async () => {
  const claim = () => store.put(newThread('alarm:1:r:race', 'C1', 'race', 'ALARM', NOW, [], NOW), undefined);
  const results = await Promise.all([claim(), claim(), claim()]);
  expect(results.filter(Boolean)).toHaveLength(1);
});

test('an update on a stale version is refused; on the current version it applies', async () => {
  const r = { ...newThread('alarm:1:r:v', 'C1', 'v', 'ALARM', NOW, [], NOW), ts: '1.1' };
  await store.put(r, undefined);
  const next = applyTransition(r, 'OK', NOW + 60_000);
  expect(await store.put(next, r.version)).toBe(true);
  expect(await store.put(applyTransition(r, 'INSUFFICIENT_DATA', NOW + 1000), r.version)).toBe(false);
  expect((await store.get('alarm:1:r:v'))!.state).toBe('OK');
});

test('resource pointers lead to the newest alarm thread of the resource', async () => {
  expect(await store.resourceThread('rds:prod-postgres')).toBeUndefined();
  await store.pointResource('rds:prod-postgres', 'alarm:1:r:a');
  await store.pointResource('rds:prod-postgres', 'alarm:1:r:b');
  expect(await store.resourceThread('rds:prod-postgres')).toBe('alarm:1:r:b');
});

test('a missing table is an error the caller sees (and then posts without threading)', async () => {
  const lost = new DynamoThreadStore(dynamo.client(), 'no-such-table');
  await expect(lost.get('x')).rejects.toThrow(/ResourceNotFound|non-existent table|not found/i);
  await expect(lost.put(newThread('x', 'C', 'x', 'ALARM', NOW, [], NOW), undefined)).rejects.toThrow();
});
