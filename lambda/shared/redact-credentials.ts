/**
 * Removes credentials from SQL statement text before it is shown anywhere (the db-health digest,
 * and so Slack; logs). Statement texts come from pg_stat_statements, which records utility
 * statements such as `ALTER ROLE … PASSWORD '…'` with their literals when
 * `pg_stat_statements.track_utility` is on (https://www.postgresql.org/docs/16/pgstatstatements.html):
 * a service that changes its own password, a person at psql, another tool. The role schema's own
 * statements never carry a verifier (templates.sql); this is the second line of defence.
 *
 * What is replaced, case-insensitively:
 * - the literal after PASSWORD (`'…'`, `E'…'`, `$tag$…$tag$`, or a cut-off `'…` at the end);
 * - `password=…` in connection strings (dblink, postgres_fdw options);
 * - anything shaped like a stored verifier: `SCRAM-SHA-256$…` and `md5` + 32 hex digits.
 */

const PASSWORD_LITERAL = /(\bpassword\s*)(?:[Ee]'(?:[^'\\]|\\.|'')*(?:'|$)|'(?:[^']|'')*(?:'|$)|(\$[A-Za-z_0-9]*\$)[\s\S]*?(?:\2|$))/gi;
const PASSWORD_ASSIGNMENT = /(\bpassword\s*=\s*)(?!\$\d)(?:'(?:[^']|'')*(?:'|$)|"(?:[^"]|"")*(?:"|$)|[^\s'",)]+)/gi;
const SCRAM_VERIFIER = /SCRAM-SHA-256\$[^\s'",)]*/gi;
const MD5_VERIFIER = /\bmd5[0-9a-f]{32}\b/gi;

export const REDACTED = '<redacted>';

export function redactCredentials(sql: string): string {
  return sql
    .replace(PASSWORD_LITERAL, (_m, kw: string) => `${kw}'${REDACTED}'`)
    .replace(PASSWORD_ASSIGNMENT, (_m, kw: string) => `${kw}${REDACTED}`)
    .replace(SCRAM_VERIFIER, `SCRAM-SHA-256$${REDACTED}`)
    .replace(MD5_VERIFIER, `md5${REDACTED}`);
}
