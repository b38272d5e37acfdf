/**
 * The derived cache users, loaded into a real redis-server 7.0 (Debian) exactly as derived, then
 * attacked: each service tries the other's keys, the dangerous commands, script and rename tricks.
 *
 * Access-string rules ElastiCache accepts: https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html
 * (no passwords, no `reset`, `on`/`off`; the group needs a user named "default").
 */
import { deriveCacheUsers, ENVIRONMENTS, loadEnvironment, MONITOR_ACCESS_STRING, type CacheUserSpec } from '../../lib/config';
import net from 'node:net';
import { startRedis, type RedisClient, type TestRedis } from '../support/redis';

const dev = loadEnvironment('dev', ENVIRONMENTS.dev);
const users = deriveCacheUsers('dev', dev.cache, dev.roles.services);
const byId = (id: string): CacheUserSpec => {
  const u = users.find((x) => x.userId === id);
  if (!u) throw new Error(`no user ${id}`);
  return u;
};

let redis: TestRedis;
const clients: RedisClient[] = [];
async function as(userName: string): Promise<RedisClient> {
  const c = await redis.connect({ username: userName });
  clients.push(c);
  return c;
}
/** The server's reply, or its error text (NOPERM …) when it refuses. */
async function run(c: RedisClient, ...args: string[]): Promise<unknown> {
  try {
    return await c.sendCommand(args);
  } catch (e) {
    return `ERR: ${(e as Error).message}`;
  }
}

/** Sends inline commands on a plain TCP connection and returns the first line of each reply. */
function rawCommands(port: number, commands: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    sock.on('data', (d) => {
      buf += d;
      const lines = buf.split('\r\n').filter((l) => l !== '');
      if (lines.length >= commands.length) {
        sock.destroy();
        resolve(lines.slice(0, commands.length));
      }
    });
    sock.on('error', reject);
    sock.write(commands.map((c) => `${c}\r\n`).join(''));
  });
}

beforeAll(async () => {
  redis = await startRedis({
    adminUser: 'dev-cache-admin',
    // The harness adds a test password to each user; in AWS these users log in with IAM tokens.
    users: users.map((u) => ({ name: u.userName, rules: u.accessString })),
  });
  const admin = await as('dev-cache-admin');
  await admin.sendCommand(['SET', 'sc:job:1', 'scheduler-secret']);
  await admin.sendCommand(['SET', 'progress:video:123:tenant:1', '42', 'EX', '600']);
  await admin.sendCommand(['SET', 'job:status:9', 'running', 'EX', '600']);
  await admin.sendCommand(['SET', 'rq:session:1', 'requester-secret']);
  await admin.sendCommand(['HSET', 'rq:user:1', 'email', 'a@example.com']);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => undefined)));
  await redis?.stop();
});

describe('derived users (pure)', () => {
  test('dev has default-off, admin, monitor and an app + read-only user per cache service', () => {
    expect(users.map((u) => [u.userId, u.userName, u.kind])).toEqual([
      ['dev-default-off', 'default', 'default'],
      ['dev-cache-admin', 'dev-cache-admin', 'admin'],
      ['dev-cache-monitor', 'dev-cache-monitor', 'monitor'],
      ['dev-sc-app', 'dev-sc-app', 'app'],
      ['dev-sc-ro', 'dev-sc-ro', 'readonly'],
      ['dev-rq-app', 'dev-rq-app', 'app'],
      ['dev-rq-ro', 'dev-rq-ro', 'readonly'],
    ]);
  });

  test('IAM users have user id == user name (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html)', () => {
    for (const u of users.filter((x) => x.authentication === 'iam')) expect(u.userName).toBe(u.userId);
    expect(byId('dev-default-off')).toMatchObject({ userName: 'default', authentication: 'none' });
    expect(byId('dev-default-off').accessString).toMatch(/^off /);
  });

  test('no access string carries what ElastiCache refuses (passwords, nopass, reset)', () => {
    for (const u of users) expect(u.accessString.split(' ').filter((t) => /^[<>#]/.test(t) || ['nopass', 'reset', 'resetpass'].includes(t))).toEqual([]);
  });

  test('the seed-000 namespaces belong to the scheduler, and the requester reads them', () => {
    expect(byId('dev-sc-app').accessString).toContain('~progress:*');
    expect(byId('dev-sc-app').accessString).toContain('~job:status:*');
    expect(byId('dev-rq-app').accessString).toContain('%R~progress:*');
    expect(byId('dev-rq-app').accessString).not.toMatch(/(^| )~progress:\*/);
  });
});

describe('on a real redis-server', () => {
  test('the server accepted every derived user, with the rules it was given', async () => {
    const admin = await as('dev-cache-admin');
    const listed = (await admin.sendCommand(['ACL', 'USERS'])) as string[];
    expect([...listed].sort()).toEqual(users.map((u) => u.userName).sort());
    const monitor = (await admin.sendCommand(['ACL', 'GETUSER', 'dev-cache-monitor'])) as unknown[];
    expect(JSON.stringify(monitor)).toContain('+memory|usage');
    expect(MONITOR_ACCESS_STRING).toContain('%R~*');
  });

  test('"default" is off: an unauthenticated connection can run nothing, and AUTH as default fails', async () => {
    await expect(redis.connect({ username: 'default', password: redis.password })).rejects.toThrow(/WRONGPASS|disabled|invalid/i);
    // A bare connection (no client library handshake): what any unauthenticated caller gets.
    const replies = await rawCommands(redis.port, ['PING', 'GET sc:job:1', 'AUTH default anything']);
    expect(replies).toEqual([expect.stringMatching(/^-NOAUTH/), expect.stringMatching(/^-NOAUTH/), expect.stringMatching(/^-WRONGPASS/)]);
  });

  test('a service reads and writes its own namespace', async () => {
    const sc = await as('dev-sc-app');
    expect(await run(sc, 'GET', 'sc:job:1')).toBe('scheduler-secret');
    expect(await run(sc, 'SET', 'sc:job:2', 'x', 'EX', '60')).toBe('OK');
    expect(await run(sc, 'SET', 'progress:video:7:tenant:1', '10', 'EX', '60')).toBe('OK');
    expect(await run(sc, 'DEL', 'sc:job:2')).toBe(1);
  });

  test('a service cannot read or write another service\'s keys', async () => {
    const sc = await as('dev-sc-app');
    expect(await run(sc, 'GET', 'rq:session:1')).toMatch(/NOPERM/);
    expect(await run(sc, 'HGETALL', 'rq:user:1')).toMatch(/NOPERM/);
    expect(await run(sc, 'SET', 'rq:session:1', 'stolen')).toMatch(/NOPERM/);
    expect(await run(sc, 'DEL', 'rq:session:1')).toMatch(/NOPERM/);
    const rq = await as('dev-rq-app');
    expect(await run(rq, 'GET', 'sc:job:1')).toMatch(/NOPERM/);
    // The requester may read progress (seed 000 polling) but not write it.
    expect(await run(rq, 'GET', 'progress:video:123:tenant:1')).toBe('42');
    expect(await run(rq, 'SET', 'progress:video:123:tenant:1', '99')).toMatch(/NOPERM/);
    expect(await run(rq, 'EXPIRE', 'progress:video:123:tenant:1', '1')).toMatch(/NOPERM/);
    expect(await run(rq, 'SET', 'rq:session:2', 'mine')).toBe('OK');
  });

  test('attacks through scripts, renames, copies and Pub/Sub stay inside the namespace', async () => {
    const sc = await as('dev-sc-app');
    expect(await run(sc, 'EVAL', "return redis.call('GET', KEYS[1])", '1', 'rq:session:1')).toMatch(/NOPERM/);
    expect(await run(sc, 'EVAL', "return redis.call('GET', 'rq:session:1')", '0')).toMatch(/NOPERM|can't access/);
    expect(await run(sc, 'RENAME', 'sc:job:1', 'rq:session:1')).toMatch(/NOPERM/);
    expect(await run(sc, 'COPY', 'rq:session:1', 'sc:loot')).toMatch(/NOPERM/);
    expect(await run(sc, 'PUBLISH', 'sc:events', 'hi')).toBe(0);
    expect(await run(sc, 'PUBLISH', 'rq:events', 'hi')).toMatch(/NOPERM/);
  });

  test.each(['dev-sc-app', 'dev-rq-app', 'dev-sc-ro'])('%s cannot run FLUSHALL, FLUSHDB, KEYS, CONFIG, DEBUG, SCAN, MONITOR, ACL', async (user) => {
    const c = await as(user);
    for (const cmd of [['FLUSHALL'], ['FLUSHDB'], ['KEYS', '*'], ['CONFIG', 'GET', 'maxmemory'], ['DEBUG', 'SLEEP', '0'], ['SCAN', '0'], ['RANDOMKEY'], ['ACL', 'LIST'], ['SHUTDOWN', 'NOSAVE']]) {
      expect({ cmd, reply: await run(c, ...cmd) }).toEqual({ cmd, reply: expect.stringMatching(/NOPERM/) });
    }
    const admin = await as('dev-cache-admin');
    expect(await run(admin, 'EXISTS', 'sc:job:1', 'rq:session:1')).toBe(2);
  });

  test('the read-only user reads its namespaces and cannot write anything', async () => {
    const ro = await as('dev-rq-ro');
    expect(await run(ro, 'GET', 'rq:session:1')).toBe('requester-secret');
    expect(await run(ro, 'GET', 'job:status:9')).toBe('running');
    expect(await run(ro, 'SET', 'rq:session:1', 'x')).toMatch(/NOPERM/);
    expect(await run(ro, 'DEL', 'rq:session:1')).toMatch(/NOPERM/);
    expect(await run(ro, 'HSET', 'rq:user:1', 'email', 'x')).toMatch(/NOPERM/);
    expect(await run(ro, 'GET', 'sc:job:1')).toMatch(/NOPERM/);
    expect(await run(ro, 'EVAL', "return redis.call('SET', KEYS[1], 'x')", '1', 'rq:session:1')).toMatch(/NOPERM/);
  });

  test('the monitor reads statistics and key metadata, never a value, and cannot flush', async () => {
    const m = await as('dev-cache-monitor');
    expect(await run(m, 'PING')).toBe('PONG');
    expect(String(await run(m, 'INFO', 'memory'))).toContain('used_memory:');
    expect(await run(m, 'SCAN', '0', 'COUNT', '100')).toEqual(['0', expect.arrayContaining(['sc:job:1', 'rq:session:1'])]);
    expect(await run(m, 'TYPE', 'rq:user:1')).toBe('hash');
    expect(await run(m, 'TTL', 'rq:session:1')).toBe(-1);
    expect(typeof (await run(m, 'MEMORY', 'USAGE', 'rq:session:1'))).toBe('number');
    for (const cmd of [['GET', 'rq:session:1'], ['HGETALL', 'rq:user:1'], ['DUMP', 'sc:job:1'], ['GETRANGE', 'sc:job:1', '0', '-1'], ['SET', 'x:y', '1'], ['FLUSHALL'], ['KEYS', '*'], ['CONFIG', 'GET', '*'], ['MEMORY', 'DOCTOR'], ['EVAL', "return redis.call('GET', KEYS[1])", '1', 'sc:job:1']]) {
      expect({ cmd, reply: await run(m, ...cmd) }).toEqual({ cmd, reply: expect.stringMatching(/NOPERM/) });
    }
  });
});
