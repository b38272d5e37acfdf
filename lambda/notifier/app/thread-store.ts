/**
 * Thread state in DynamoDB: one item per alarm (`alarm:<account>:<region>:<name>`) with its channel,
 * parent `ts` and last state, and one pointer item per watched resource (`resource:rds:prod-postgres`)
 * so that service events can find the alarm thread of their resource.
 *
 * Every write is conditional on the version read (optimistic locking), so two notifier invocations
 * that see the same ALARM at once cannot both open a thread: one claim wins, the other re-reads.
 * Items expire through the table's TTL attribute (`expiresAt`, epoch seconds) some days after their
 * last change. The table only ever holds threading state: callers treat any error here as "no
 * thread" and post anyway.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ThreadRecord } from './threads';

import { THREAD_TABLE_KEY, THREAD_TABLE_TTL } from './contract';

export { THREAD_TABLE_KEY, THREAD_TABLE_TTL };

export interface ThreadStore {
  /** The alarm's thread record, or undefined. Throws when the table cannot be read. */
  get(key: string): Promise<ThreadRecord | undefined>;
  /**
   * Writes `record` if the stored version is still `expectedVersion` (undefined: no item yet).
   * Returns false when someone else wrote first; throws on other errors.
   */
  put(record: ThreadRecord, expectedVersion: number | undefined): Promise<boolean>;
  /** The alarm thread key a resource's events should join, or undefined. */
  resourceThread(resource: string): Promise<string | undefined>;
  /** Points a resource at an alarm thread (last writer wins: the newest thread of the resource). */
  pointResource(resource: string, alarmKey: string): Promise<void>;
}

export interface DynamoThreadStoreOptions {
  /** Days after its last change that an item expires. @default 30 */
  readonly ttlDays?: number;
  /** @default () => Date.now() */
  readonly now?: () => number;
}

type Item = Record<string, unknown>;

function toItem(r: ThreadRecord, expiresAt: number): Item {
  const item: Item = { [THREAD_TABLE_KEY]: r.key, [THREAD_TABLE_TTL]: expiresAt, ...r };
  delete item.key;
  for (const k of Object.keys(item)) if (item[k] === undefined) delete item[k];
  return item;
}

function fromItem(item: Item): ThreadRecord {
  const { [THREAD_TABLE_KEY]: key, [THREAD_TABLE_TTL]: _ttl, ...rest } = item;
  return { ...(rest as Omit<ThreadRecord, 'key'>), key: String(key), resources: Array.isArray(rest.resources) ? (rest.resources as string[]) : [] };
}

export class DynamoThreadStore implements ThreadStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly ttlSeconds: number;
  private readonly now: () => number;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    options: DynamoThreadStoreOptions = {},
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.ttlSeconds = (options.ttlDays ?? 30) * 86_400;
    this.now = options.now ?? (() => Date.now());
  }

  private expiresAt(): number {
    return Math.floor(this.now() / 1000) + this.ttlSeconds;
  }

  async get(key: string): Promise<ThreadRecord | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { [THREAD_TABLE_KEY]: key }, ConsistentRead: true }));
    return res.Item ? fromItem(res.Item) : undefined;
  }

  async put(record: ThreadRecord, expectedVersion: number | undefined): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(record, this.expiresAt()),
          ...(expectedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': THREAD_TABLE_KEY } }
            : { ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as { name?: string })?.name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  async resourceThread(resource: string): Promise<string | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { [THREAD_TABLE_KEY]: `resource:${resource}` }, ConsistentRead: true }));
    return typeof res.Item?.alarmKey === 'string' ? res.Item.alarmKey : undefined;
  }

  async pointResource(resource: string, alarmKey: string): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { [THREAD_TABLE_KEY]: `resource:${resource}`, alarmKey, [THREAD_TABLE_TTL]: this.expiresAt() } }));
  }
}
