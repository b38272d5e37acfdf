/**
 * One real redis-server per test file (Debian's `redis-server` 7.0, installed by .ci/run), on a
 * random free 127.0.0.1 port, no persistence. ACL users can be loaded from an ACL file at start,
 * the way ElastiCache creates each user fresh from its access string:
 *
 *   const redis = await startRedis({ users: [{ name: 'dev-sc-app', rules: 'on ~sc:* +@all' }] });
 *   const c = await redis.connect({ username: 'dev-sc-app' });   // every test user's password is redis.password
 *   await redis.stop();
 *
 * `admin` (password `redis.password`, `on ~* &* +@all`) is always added unless a user of that
 * name is given, so tests can seed keys whatever the ACLs under test say.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from '@redis/client';
import { freePort } from './postgres';
import { makeTestCerts } from './test-certs';

export interface TestRedisUser {
  /** User name. */
  readonly name: string;
  /** ACL rules, without a password: the harness adds `>password`. */
  readonly rules: string;
}

function makeClient(port: number, username: string, password: string) {
  const c = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, username, password, disableClientInfo: true });
  c.on('error', () => undefined);
  return c;
}

export type RedisClient = ReturnType<typeof makeClient>;

/** The TLS listener of a server started with `tls: true`. */
export interface TestRedisTls {
  /** Port of the TLS listener (the plain port stays open for seeding). */
  readonly port: number;
  /** The test CA that signed the server certificate (DNS:localhost only). */
  readonly caFile: string;
  /** An unrelated CA, for the tests that must refuse the certificate. */
  readonly otherCaFile: string;
}

export interface TestRedis {
  readonly host: string;
  readonly port: number;
  /** Set when started with `tls: true`. */
  readonly tls?: TestRedisTls;
  /** Password of every user loaded from `users` (and of `admin`). */
  readonly password: string;
  /** Name of the seeding user (`admin` unless the test passes its own). */
  readonly adminUser: string;
  /** `redis://user:password@127.0.0.1:port` */
  url(user?: string, password?: string): string;
  /** A connected client; `username` defaults to the admin user. */
  connect(opts?: { username?: string; password?: string }): Promise<RedisClient>;
  stop(): Promise<void>;
}

/** Path of redis-server, or undefined when it is not installed (then the tests say how to install it). */
export function redisServerPath(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return p === '' ? undefined : p;
}

export async function startRedis(opts: { users?: readonly TestRedisUser[]; adminUser?: string; extraArgs?: string[]; tls?: boolean } = {}): Promise<TestRedis> {
  const bin = redisServerPath();
  if (!bin) throw new Error('redis-server is not installed: `apt-get install -y redis-server` (.ci/run does this)');
  const port = await freePort();
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-test-'));
  const adminUser = opts.adminUser ?? 'admin';
  const users = [...(opts.users ?? [])];
  if (!users.some((u) => u.name === adminUser)) users.push({ name: adminUser, rules: 'on ~* &* +@all' });
  // Each line starts from a fresh user, as ElastiCache's CreateUser does; `default` too.
  const lines = users.map((u) => `user ${u.name} reset ${u.rules} >${password}`);
  if (!users.some((u) => u.name === 'default')) lines.push(`user default on nopass ~* &* +@all`);
  const aclFile = path.join(dir, 'users.acl');
  fs.writeFileSync(aclFile, `${lines.join('\n')}\n`);
  let tls: TestRedisTls | undefined;
  const tlsArgs: string[] = [];
  if (opts.tls) {
    const c = makeTestCerts(dir, 'redis test CA');
    tls = { port: await freePort(), caFile: c.caFile, otherCaFile: c.otherCaFile };
    tlsArgs.push('--tls-port', String(tls.port), '--tls-cert-file', c.certFile, '--tls-key-file', c.keyFile, '--tls-ca-cert-file', c.caFile, '--tls-auth-clients', 'no');
  }

  const child: ChildProcess = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--aclfile', aclFile, '--daemonize', 'no',
      // DEBUG is allowed by the server so that only the ACLs under test can refuse it.
      '--enable-debug-command', 'yes', ...tlsArgs, ...(opts.extraArgs ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start in 20 s\n${output}`)), 20_000);
    const check = (): void => {
      if (/Ready to accept connections/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}\n${output}`));
    });
  });
  child.removeAllListeners('exit');

  const self: TestRedis = {
    host: '127.0.0.1',
    port,
    tls,
    password,
    adminUser,
    url: (user = adminUser, pw = password) => `redis://${encodeURIComponent(user)}:${encodeURIComponent(pw)}@127.0.0.1:${port}`,
    async connect(o = {}) {
      const c = makeClient(port, o.username ?? adminUser, o.password ?? password);
      await c.connect();
      return c;
    },
    async stop() {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
        });
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}
