/**
 * The daily digest (seed 004's weekly check, automated): the top statements by total time from
 * pg_stat_statements, the unused indexes with their sizes, the largest tables and the tables
 * without a service prefix. `collectDigest` gathers it in at most two statements; `formatDigest`
 * (pure) turns it into a self-describing SNS message with ready Slack Block Kit blocks.
 */
import { escapeIdentifier } from 'pg';
import digestSql from '../../sql/db-health/digest.sql';
import topStatementsSql from '../../sql/db-health/top-statements.sql';
import { DIGEST_KIND } from './contract';
import { redactCredentials } from '../shared/redact-credentials';
import { SLACK_LIMITS, codeSpan as code, escapeSlack, fitLines, formatBytes, layoutDigest, type SlackBlock } from '../shared/slack-text';
import { probeParams, type ProbeOptions, type Queryable } from './probe';

export interface DigestOptions extends Omit<ProbeOptions, 'longQuerySeconds'> {
  /** Statements listed. @default 5 */
  readonly topStatements?: number;
  /** Rows per list (indexes, tables). @default 10 */
  readonly listLimit?: number;
}

export interface StatementStat {
  readonly queryId: string;
  readonly calls: number;
  readonly totalMs: number;
  readonly meanMs: number;
  readonly rows: number;
  readonly query: string;
}

export type StatementsSection =
  | { readonly available: true; readonly since: string | null; readonly top: readonly StatementStat[] }
  | { readonly available: false; readonly reason: string };

export interface IndexInfo {
  readonly schema: string;
  readonly table: string;
  readonly index: string;
  readonly sizeBytes: number;
}

export interface TableInfo {
  readonly schema: string;
  readonly table: string;
  readonly totalBytes: number;
  readonly indexBytes?: number;
  readonly estimatedRows?: number;
  readonly owner?: string;
}

export interface DigestData {
  readonly database: string;
  readonly databaseSizeBytes: number;
  /** When this database's statistics were last reset (idx_scan counts start there). */
  readonly statsReset: string | null;
  readonly statements: StatementsSection;
  readonly unusedIndexes: readonly IndexInfo[];
  readonly unusedIndexMinBytes: number;
  readonly largestTables: readonly TableInfo[];
  readonly unprefixedTables: readonly TableInfo[];
  readonly appSchema: string;
  /** Statements sent to collect it. */
  readonly queries: number;
}

/** Characters of statement text read from pg_stat_statements, and kept after credentials are removed. */
const QUERY_TEXT_READ = 100_000;
const QUERY_TEXT_KEPT = 300;

const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : v == null ? null : String(v));
const n = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

/** Reads the digest's data: one statement, plus one for pg_stat_statements when it is installed. */
export async function collectDigest(db: Queryable, o: DigestOptions): Promise<DigestData> {
  const [, appSchema, prefixes, minBytes] = probeParams({ ...o, longQuerySeconds: 1 });
  const listLimit = o.listLimit ?? 10;
  const { rows } = await db.query(digestSql, [appSchema, prefixes, minBytes, listLimit]);
  const r = rows[0];
  let queries = 1;
  let statements: StatementsSection;
  const schema = r.pg_stat_statements_schema as string | null;
  if (!schema) {
    statements = { available: false, reason: 'the pg_stat_statements extension is not installed in this database (CREATE EXTENSION pg_stat_statements)' };
  } else {
    queries += 1;
    try {
      // The whole text (up to track_activity_query_size) is read so that credentials are removed
      // before it is cut: a cut could leave a verifier without the PASSWORD keyword before it.
      const res = await db.query(topStatementsSql.replaceAll('{{schema}}', escapeIdentifier(schema)), [o.topStatements ?? 5, QUERY_TEXT_READ]);
      statements = {
        available: true,
        since: iso(res.rows[0]?.since),
        top: res.rows.map((s) => ({
          queryId: String(s.query_id),
          calls: n(s.calls),
          totalMs: n(s.total_ms),
          meanMs: n(s.mean_ms),
          rows: n(s.rows),
          query: redactCredentials(String(s.query ?? '')).slice(0, QUERY_TEXT_KEPT),
        })),
      };
    } catch (e) {
      // Installed but not in shared_preload_libraries (55000), or no privilege (42501): the rest
      // of the digest is still worth sending.
      const err = e as { code?: string; message?: string };
      statements = { available: false, reason: `pg_stat_statements could not be read: ${err.message ?? String(e)}${err.code ? ` (${err.code})` : ''}` };
    }
  }
  const tables = (v: unknown): TableInfo[] =>
    (v as Record<string, unknown>[]).map((t) => ({
      schema: String(t.schema),
      table: String(t.table),
      totalBytes: n(t.total_bytes),
      ...(t.index_bytes !== undefined ? { indexBytes: n(t.index_bytes) } : {}),
      ...(t.estimated_rows !== undefined ? { estimatedRows: n(t.estimated_rows) } : {}),
      ...(t.owner !== undefined ? { owner: String(t.owner) } : {}),
    }));
  return {
    database: String(r.database),
    databaseSizeBytes: n(r.database_size_bytes),
    statsReset: iso(r.stats_reset),
    statements,
    unusedIndexes: (r.unused_indexes as Record<string, unknown>[]).map((i) => ({
      schema: String(i.schema),
      table: String(i.table),
      index: String(i.index),
      sizeBytes: n(i.size_bytes),
    })),
    unusedIndexMinBytes: o.unusedIndexMinBytes,
    largestTables: tables(r.largest_tables),
    unprefixedTables: tables(r.unprefixed_tables),
    appSchema: String(appSchema),
    queries,
  };
}

// ---------------------------------------------------------------------------------------------
// Formatting (pure)
// ---------------------------------------------------------------------------------------------

/** Slack's three control characters in text from outside (table names, query text). */
export { escapeSlack, fitLines, formatBytes };

export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

const count = (v: number): string => Math.round(v).toLocaleString('en-US');

/** Slack limits (DESIGN.md): section text 3000 characters, header 150, 50 blocks. */
export const SLACK_SECTION_MAX: number = SLACK_LIMITS.sectionText;
export const SLACK_HEADER_MAX: number = SLACK_LIMITS.header;
export const SLACK_MAX_BLOCKS: number = SLACK_LIMITS.blocks;

export type { SlackBlock };

/** The SNS message: a plain object the notifier can render as it is, or post `blocks` from. */
export interface DigestMessage {
  readonly kind: typeof DIGEST_KIND;
  readonly version: 1;
  readonly environment: string;
  readonly database: string;
  readonly generatedAt: string;
  /** Human title, also the SNS subject. */
  readonly title: string;
  /** Plain mrkdwn rendering of the whole digest (Slack's notification/fallback text), ≤ 3000 characters. */
  readonly text: string;
  /** Ready Slack Block Kit blocks (≤ 50; section text ≤ 3000; header ≤ 150). */
  readonly blocks: readonly SlackBlock[];
  /** The data, for anything that wants to render it another way. */
  readonly data: DigestData;
}

function sections(d: DigestData): string[] {
  const out: string[] = [];
  if (d.statements.available) {
    const since = d.statements.since ? ` (since ${d.statements.since.slice(0, 16).replace('T', ' ')} UTC)` : '';
    const lines = d.statements.top.map(
      (s, i) => `${i + 1}. ${code(redactCredentials(s.query), 160)}\n      ${count(s.calls)} calls · total ${formatMs(s.totalMs)} · mean ${formatMs(s.meanMs)} · ${count(s.rows)} rows`,
    );
    out.push(fitLines(`*Top ${d.statements.top.length} statements by total time*${since}`, lines.length > 0 ? lines : ['_no statements recorded yet_']));
  } else {
    out.push(`*Top statements by total time*\n_unavailable: ${escapeSlack(d.statements.reason)}_`);
  }
  const reset = d.statsReset ? ` since ${d.statsReset.slice(0, 10)}` : '';
  out.push(
    fitLines(
      `*Unused indexes* (never scanned${reset}, not unique, ≥ ${formatBytes(d.unusedIndexMinBytes)}): ${d.unusedIndexes.length === 0 ? 'none' : formatBytes(d.unusedIndexes.reduce((a, i) => a + i.sizeBytes, 0))}`,
      d.unusedIndexes.map((i) => `• ${code(`${i.schema}.${i.index}`, 120)} on ${code(i.table, 80)}: ${formatBytes(i.sizeBytes)}`),
    ),
  );
  out.push(
    fitLines(
      '*Largest tables* (with indexes and TOAST)',
      d.largestTables.length === 0
        ? ['_no tables_']
        : d.largestTables.map(
            (t, i) =>
              `${i + 1}. ${code(`${t.schema}.${t.table}`, 120)}: ${formatBytes(t.totalBytes)}${t.indexBytes !== undefined ? ` (indexes ${formatBytes(t.indexBytes)})` : ''}${t.estimatedRows !== undefined ? ` · ~${count(t.estimatedRows)} rows` : ''}`,
          ),
    ),
  );
  out.push(
    fitLines(
      `*Tables in \`${escapeSlack(d.appSchema)}\` without a service prefix*: ${d.unprefixedTables.length === 0 ? 'none' : d.unprefixedTables.length}`,
      d.unprefixedTables.map((t) => `• ${code(t.table, 120)}${t.owner ? ` owned by ${code(t.owner, 60)}` : ''}: ${formatBytes(t.totalBytes)}`),
    ),
  );
  return out;
}

/** Builds the digest message. Pure: the same data and time give the same message. */
export function formatDigest(d: DigestData, environment: string, now: Date): DigestMessage {
  const title = `DB health digest: ${environment} / ${d.database}`;
  const when = now.toISOString().slice(0, 16).replace('T', ' ');
  const context = `${escapeSlack(environment)} · database ${code(d.database, 63)} · ${formatBytes(d.databaseSizeBytes)} · ${when} UTC`;
  const { blocks, text } = layoutDigest(title, context, sections(d));
  return {
    kind: DIGEST_KIND,
    version: 1,
    environment,
    database: d.database,
    generatedAt: now.toISOString(),
    title,
    text,
    blocks,
    data: d,
  };
}
