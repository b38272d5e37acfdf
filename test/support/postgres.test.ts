import { startPostgres, type TestPostgres } from './postgres';

describe('test PostgreSQL harness', () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => pg?.stop());

  test('is a real PostgreSQL 16 on 127.0.0.1', async () => {
    const r = await pg.query('show server_version_num');
    expect(Number(r.rows[0].server_version_num)).toBeGreaterThanOrEqual(160000);
    expect(Number(r.rows[0].server_version_num)).toBeLessThan(170000);
  });
});
