/**
 * db-health probe benchmark on an embedded PostgreSQL 16 (the test harness) with the test
 * fixture and its known load (a pg_sleep, an idle-in-transaction session, an idle session).
 *
 *   npx tsx --require ./scripts/register-sql.cjs bench/db-health.ts [runs=200]
 *
 * Prints one JSON object: medians (and p90) of the probe statement alone, of a whole probe
 * "invocation" (connect, probe, disconnect — what the Lambda does each minute, minus TLS), and of
 * the digest; and the statements sent per run, counted at the client.
 */
import { startPostgres } from '../test/support/postgres';
import { INDEX_FLOOR, MONITOR, PREFIXES, createFixture, startLoad } from '../test/lambda/db-health/fixture';
import { collectDigest } from '../lambda/db-health/digest';
import { runProbe, type ProbeOptions, type Queryable } from '../lambda/db-health/probe';

const runs = Number(process.argv[2] ?? 200);
const options: ProbeOptions = { longQuerySeconds: 1, appSchema: 'public', servicePrefixes: PREFIXES, unusedIndexMinBytes: INDEX_FLOOR };

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { runs: s.length, medianMs: +q(0.5).toFixed(3), p90Ms: +q(0.9).toFixed(3), minMs: +s[0].toFixed(3), maxMs: +s[s.length - 1].toFixed(3) };
}

function counting(db: Queryable): Queryable & { count: number } {
  const c = { count: 0, query: (t: string, v?: unknown[]) => ((c.count += 1), db.query(t, v)) };
  return c;
}

const time = async (fn: () => Promise<unknown>): Promise<number> => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};

async function main(): Promise<void> {
  const pg = await startPostgres(['-c', 'shared_preload_libraries=pg_stat_statements']);
  try {
    await createFixture(pg, { statStatements: true });
    const observer = await pg.connect(MONITOR);
    const load = await startLoad(pg, observer, 1);
    try {
      // Warm the catalog caches once, as a long-lived server would be.
      await runProbe(observer, options);

      const probeOnly: number[] = [];
      const queries: number[] = [];
      for (let i = 0; i < runs; i++) {
        const db = counting(observer);
        probeOnly.push(await time(() => runProbe(db, options)));
        queries.push(db.count);
      }

      const invocation: number[] = [];
      for (let i = 0; i < Math.min(runs, 100); i++) {
        invocation.push(
          await time(async () => {
            const c = await pg.connect(MONITOR);
            try {
              await runProbe(c, options);
            } finally {
              await c.end();
            }
          }),
        );
      }

      const digest: number[] = [];
      const digestQueries: number[] = [];
      for (let i = 0; i < Math.min(runs, 50); i++) {
        const db = counting(observer);
        digest.push(await time(() => collectDigest(db, options)));
        digestQueries.push(db.count);
      }

      const last = await runProbe(observer, options);
      process.stdout.write(
        `${JSON.stringify(
          {
            postgres: (await observer.query('SHOW server_version')).rows[0].server_version,
            probeStatement: stats(probeOnly),
            probeQueriesPerRun: [...new Set(queries)],
            probeInvocationConnectQueryDisconnect: stats(invocation),
            digest: stats(digest),
            digestQueriesPerRun: [...new Set(digestQueries)],
            metricsUnderLoad: last.metrics,
          },
          null,
          2,
        )}\n`,
      );
    } finally {
      await load.stop();
      await observer.end();
    }
  } finally {
    await pg.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
  process.exitCode = 1;
});
