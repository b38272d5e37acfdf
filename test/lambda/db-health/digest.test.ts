import { DIGEST_KIND } from '../../../lambda/db-health/contract';
import {
  SLACK_HEADER_MAX,
  SLACK_MAX_BLOCKS,
  SLACK_SECTION_MAX,
  collectDigest,
  escapeSlack,
  fitLines,
  formatBytes,
  formatDigest,
  formatMs,
  type SlackBlock,
} from '../../../lambda/db-health/digest';
import type { Queryable } from '../../../lambda/db-health/probe';
import { sampleDigestData } from '../../fixtures/db-health-digest-data';

const NOW = new Date('2026-11-24T00:00:00Z');

const data = sampleDigestData;

const sectionTexts = (blocks: readonly SlackBlock[]): string[] =>
  blocks.filter((b) => b.type === 'section').map((b) => (b.text as { text: string }).text);

describe('formatDigest', () => {
  test('is a self-describing message: kind, environment, title, ready text and blocks, and the data', () => {
    const m = formatDigest(data(), 'prod', NOW);
    expect(m.kind).toBe(DIGEST_KIND);
    expect(m.kind).toBe('db-health-digest');
    expect(m.environment).toBe('prod');
    expect(m.generatedAt).toBe('2026-11-24T00:00:00.000Z');
    expect(m.title).toBe('DB health digest: prod / platform');
    expect(m.data.unusedIndexes).toHaveLength(1);
    // A plain object that survives JSON (it travels as the SNS message).
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });

  test('blocks: a header, a context line, then one section per part of the digest', () => {
    const m = formatDigest(data(), 'prod', NOW);
    expect(m.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'DB health digest: prod / platform', emoji: false } });
    expect(m.blocks[1].type).toBe('context');
    const sections = sectionTexts(m.blocks);
    expect(sections).toHaveLength(4);
    expect(sections[0]).toMatch(/^\*Top 2 statements by total time\* \(since 2026-11-20 09:30 UTC\)/);
    expect(sections[0]).toContain('1. `SELECT * FROM gt_jobs WHERE status = $1 AND progress &lt; $2`');
    expect(sections[0]).toContain('120,000 calls · total 1.3 h · mean 37.5 ms · 120,000 rows');
    expect(sections[1]).toMatch(/^\*Unused indexes\* \(never scanned since 2026-11-01, not unique, ≥ 1\.0 MiB\): 42\.0 MiB/);
    expect(sections[1]).toContain('`public.ag_events_kind_idx` on `ag_events`: 42.0 MiB');
    expect(sections[2]).toContain('1. `public.ag_events`: 2.0 GiB (indexes 300 MiB) · ~12,000,000 rows');
    expect(sections[3]).toMatch(/^\*Tables in `public` without a service prefix\*: 1/);
    expect(sections[3]).toContain('`legacy_things` owned by `platform_admin`: 8.0 KiB');
  });

  test('the text carries the same content for clients that do not render blocks', () => {
    const m = formatDigest(data(), 'prod', NOW);
    expect(m.text.startsWith('*DB health digest: prod / platform*')).toBe(true);
    for (const s of sectionTexts(m.blocks)) expect(m.text).toContain(s);
    expect(m.text.length).toBeLessThanOrEqual(SLACK_SECTION_MAX);
  });

  test('escapes &, < and > in everything that comes from the database', () => {
    const m = formatDigest(
      data({
        database: 'a&b',
        statements: { available: true, since: null, top: [{ queryId: '9', calls: 1, totalMs: 1, meanMs: 1, rows: 0, query: "SELECT '<!channel>' & x > 1" }] },
        unprefixedTables: [{ schema: 'public', table: '<script>', totalBytes: 0 }],
      }),
      'prod',
      NOW,
    );
    const all = JSON.stringify(m.blocks);
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<script>');
    expect(all).toContain("&lt;!channel&gt;' &amp; x &gt; 1");
    expect(all).toContain('&lt;script&gt;');
    expect(m.text).not.toMatch(/<|>/);
  });

  test('a backtick in query text cannot close the code span early', () => {
    const m = formatDigest(
      data({ statements: { available: true, since: null, top: [{ queryId: '1', calls: 1, totalMs: 1, meanMs: 1, rows: 0, query: 'SELECT `x` FROM t' }] } }),
      'dev',
      NOW,
    );
    expect(sectionTexts(m.blocks)[0]).toContain("`SELECT 'x' FROM t`");
  });

  test('says why statements are missing when pg_stat_statements is unavailable', () => {
    const m = formatDigest(data({ statements: { available: false, reason: 'the pg_stat_statements extension is not installed' } }), 'dev', NOW);
    expect(sectionTexts(m.blocks)[0]).toBe('*Top statements by total time*\n_unavailable: the pg_stat_statements extension is not installed_');
  });

  test('empty lists read as "none"', () => {
    const s = sectionTexts(formatDigest(data({ unusedIndexes: [], unprefixedTables: [] }), 'dev', NOW).blocks);
    expect(s[1]).toMatch(/: none$/);
    expect(s[3]).toMatch(/: none$/);
  });

  test('stays inside Slack limits with huge inputs: section 3000, header 150, 50 blocks', () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ schema: 'public', table: `t_${'x'.repeat(50)}_${i}`, totalBytes: i }));
    const m = formatDigest(
      data({
        database: 'd'.repeat(300),
        unprefixedTables: many,
        largestTables: many,
        unusedIndexes: many.map((t) => ({ ...t, index: `${t.table}_idx`, sizeBytes: 1 })),
        statements: { available: true, since: null, top: Array.from({ length: 5 }, (_, i) => ({ queryId: `${i}`, calls: 1, totalMs: 1, meanMs: 1, rows: 1, query: 'SELECT '.repeat(2000) })) },
      }),
      'prod',
      NOW,
    );
    expect(m.blocks.length).toBeLessThanOrEqual(SLACK_MAX_BLOCKS);
    expect(((m.blocks[0].text as { text: string }).text).length).toBeLessThanOrEqual(SLACK_HEADER_MAX);
    for (const s of sectionTexts(m.blocks)) expect(s.length).toBeLessThanOrEqual(SLACK_SECTION_MAX);
    expect(sectionTexts(m.blocks)[3]).toMatch(/…and \d+ more$/);
    expect(m.text.length).toBeLessThanOrEqual(SLACK_SECTION_MAX);
  });
});

describe('helpers', () => {
  test('escapeSlack escapes the three control characters and nothing else', () => {
    expect(escapeSlack('a & b < c > d "e" \'f\'')).toBe('a &amp; b &lt; c &gt; d "e" \'f\'');
  });
  test.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [5 * 1024 ** 3, '5.0 GiB'],
    [300 * 1024 ** 2, '300 MiB'],
  ])('formatBytes(%d) = %s', (b, s) => expect(formatBytes(b)).toBe(s));
  test.each([
    [0.0421, '0.042 ms'],
    [37.5, '37.5 ms'],
    [4500, '4.5 s'],
    [90_000, '1.5 min'],
    [4_500_000, '1.3 h'],
  ])('formatMs(%d) = %s', (ms, s) => expect(formatMs(ms)).toBe(s));
  test('fitLines keeps whole lines and says how many were cut', () => {
    const lines = ['aaaaaa', 'bbbbbb', 'cccccc'];
    expect(fitLines('T', lines, 22)).toBe('T\naaaaaa\nbbbbbb\ncccccc');
    // 21: the last line does not fit, and the note needs the room of one more line.
    expect(fitLines('T', lines, 21)).toBe('T\naaaaaa\n…and 2 more');
    expect(fitLines('T', lines, 13)).toBe('T\n…and 3 more');
    expect(fitLines('T', ['a', 'b'], 100)).toBe('T\na\nb');
  });
});

describe('collectDigest error paths', () => {
  const digestRow = {
    database: 'app',
    database_size_bytes: '100',
    stats_reset: null,
    pg_stat_statements_schema: 'public',
    unused_indexes: [],
    largest_tables: [],
    unprefixed_tables: [],
  };

  test('pg_stat_statements installed but not preloaded: the digest goes out without statements', async () => {
    const calls: string[] = [];
    const db: Queryable = {
      async query(text) {
        calls.push(text);
        if (calls.length === 1) return { rows: [digestRow] };
        throw Object.assign(new Error('pg_stat_statements must be loaded via "shared_preload_libraries"'), { code: '55000' });
      },
    };
    const d = await collectDigest(db, { appSchema: 'public', servicePrefixes: ['gt_'], unusedIndexMinBytes: 0 });
    expect(d.statements).toEqual({ available: false, reason: expect.stringMatching(/shared_preload_libraries.*\(55000\)/) });
    expect(calls).toHaveLength(2);
    // The extension's schema is quoted as an identifier; nothing else is substituted.
    expect(calls[1]).toContain('FROM "public".pg_stat_statements');
    expect(calls[1]).not.toContain('{{schema}}');
  });

  test('a schema name with a quote is escaped, not interpolated raw', async () => {
    const calls: string[] = [];
    const db: Queryable = {
      async query(text) {
        calls.push(text);
        return calls.length === 1 ? { rows: [{ ...digestRow, pg_stat_statements_schema: 'we"ird' }] } : { rows: [] };
      },
    };
    const d = await collectDigest(db, { appSchema: 'public', servicePrefixes: ['gt_'], unusedIndexMinBytes: 0 });
    expect(calls[1]).toContain('FROM "we""ird".pg_stat_statements');
    expect(d.statements).toEqual({ available: true, since: null, top: [] });
  });
});
