/**
 * A real DynamoDB implementation in-process (dynalite, on an in-memory LevelDB), listening on
 * 127.0.0.1 at a free port, with the notifier's thread table created as the construct creates it
 * (string partition key `pk`, on demand).
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { THREAD_TABLE_KEY } from '../../lambda/notifier/app/thread-store';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (o: Record<string, unknown>) => import('node:http').Server;

export interface TestDynamo {
  readonly endpoint: string;
  client(): DynamoDBClient;
  createThreadTable(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<TestDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: DynamoDBClient[] = [];
  const client = () => {
    const c = new DynamoDBClient({ endpoint, region: 'ap-northeast-2', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  return {
    endpoint,
    client,
    async createThreadTable(name) {
      await client().send(
        new CreateTableCommand({
          TableName: name,
          KeySchema: [{ AttributeName: THREAD_TABLE_KEY, KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: THREAD_TABLE_KEY, AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    },
    async close() {
      for (const c of clients) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
