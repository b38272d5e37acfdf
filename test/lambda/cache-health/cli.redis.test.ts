/**
 * The CLI as a person runs it (`npm run cache-health` = `tsx lambda/cache-health/cli.ts`), against
 * a real redis-server 7.0 that speaks TLS with a certificate from a test CA, logged in as the
 * derived monitor user: verified TLS, the JSON and table outputs, one-line errors, exit 0/1/2.
 */
import { monitorUserId, MONITOR_ACCESS_STRING } from '../../../lib/config';
import { METRIC_NAMES } from '../../../lambda/cache-health/contract';
import { main, parseCli } from '../../../lambda/cache-health/cli';
import { spawnCli, STACK_FRAME } from '../../support/cli';
import { startRedis, type TestRedis } from '../../support/redis';

const MONITOR = monitorUserId('dev');
let redis: TestRedis;
let caFile: string;
let otherCaFile: string;
let tlsPort: number;

beforeAll(async () => {
  redis = await startRedis({ users: [{ name: MONITOR, rules: MONITOR_ACCESS_STRING }], tls: true });
  ({ port: tlsPort, caFile, otherCaFile } = redis.tls!);
  const admin = await redis.connect();
  await Promise.all([
    admin.sendCommand(['SET', 'progress:1', 'x']),
    admin.sendCommand(['SET', 'progress:2', 'x', 'EX', '600']),
    admin.sendCommand(['SET', 'stray', 'x']),
  ]);
  await admin.close();
});
afterAll(async () => {
  await redis?.stop();
});

/** The CLI's main in this process (the same code as the spawned script, without tsx's start-up). */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, (s) => out.push(s), (s) => err.push(s));
  return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.map((l) => `${l}\n`).join('') };
}

const tlsUrl = (host = 'localhost', user = MONITOR, pw?: string) => `rediss://${user}:${encodeURIComponent(pw ?? redis.password)}@${host}:${tlsPort}`;

test('--format json over verified TLS as the monitor user: one JSON object with every metric', async () => {
  const r = await spawnCli('cache-health', ['--url', tlsUrl(), '--ca', caFile, '--format', 'json', '--env', 'dev']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const o = JSON.parse(lines[0]) as { metrics: Record<string, number>; patterns: { pattern: string; keys: number }[] };
  expect(Object.keys(o.metrics)).toEqual(METRIC_NAMES.filter((n) => n in o.metrics));
  expect(o.metrics).toMatchObject({ keys_total: 3, keys_sampled: 3, keys_without_ttl: 1, keys_unregistered: 1 });
  expect(o.patterns.find((p) => p.pattern === 'progress:*')?.keys).toBe(2);
});

test('the table goes to stdout and the cost line to stderr', async () => {
  const r = await inProcess( ['--url', tlsUrl(), '--ca', caFile, '--env', 'dev']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^keys_without_ttl\s+1$/m);
  expect(r.stdout).toMatch(/^progress:\*\s+2 \(1\) must expire$/m);
  expect(r.stderr).toMatch(/^\d+ commands \(1 SCAN COUNT 1000\) in [\d.]+ ms · whole keyspace scanned · registry: dev\n$/);
});

test.each([
  ['a certificate from another CA', () => ['--url', tlsUrl(), '--ca', otherCaFile], /self.signed|unable to (get|verify)|certificate/i],
  ['a host name the certificate does not name', () => ['--url', tlsUrl('127.0.0.1'), '--ca', caFile], /IP: 127\.0\.0\.1 is not in the cert's list|altnames/i],
  ['Node\'s bundled roots (the test CA is not one of them)', () => ['--url', tlsUrl()], /self.signed|unable to (get|verify)|certificate/i],
  ['a wrong password', () => ['--url', tlsUrl('localhost', MONITOR, 'nope'), '--ca', caFile], /WRONGPASS/],
])('refuses %s: one line, exit 1, no password', async (_what, args, message) => {
  const r = await inProcess([...args(), '--env', 'dev']);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(STACK_FRAME);
  expect(r.stderr).not.toContain(redis.password);
});

test.each([
  [['--url', 'redis://u:secret@cache.example.com:6380'], /--url must use rediss:\/\/ \(TLS\).*"redis:\/\/u:\*\*\*@cache\.example\.com:6380"/],
  [['--url', 'http://x'], /--url must be a redis:\/\/ or rediss:\/\/ URL/],
  [['--url', 'rediss://h:99999'], /the port in --url must be a port from 1 to 65535/],
  [['--url', 'rediss://h', '--format', 'xml'], /--format must be table or json \(got "xml"\)/],
  [['--url', 'rediss://h', '--max-keys', '0'], /--max-keys must be an integer from 1 to 1,000,000/],
  [['--url', 'rediss://h', '--ca', '/nonexistent.pem'], /--ca cannot read "\/nonexistent.pem": ENOENT/],
  [[], /--url is required/],
])('bad usage %j: one line naming the value, exit 2', async (args, message) => {
  // One of them as a person runs it, the rest in-process (same code, no tsx start-up per case).
  const r = args.length === 0 ? await spawnCli('cache-health', args) : await inProcess(args);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toContain('secret');
});

test('--help prints the usage and exits 0', async () => {
  const r = await spawnCli('cache-health', ['--help']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^usage: npm run cache-health -- --url/);
});

test('parseCli: plain redis:// is for this machine only; the user defaults to "default"', () => {
  expect(parseCli(['--url', 'redis://127.0.0.1:7000']).endpoint).toMatchObject({ host: '127.0.0.1', port: 7000, username: 'default', tls: false });
  expect(parseCli(['--url', 'rediss://a%40b:p%3Aw@cache.example.com']).endpoint).toMatchObject({ username: 'a@b', password: 'p:w', port: 6379, tls: true });
});
