/**
 * A safe PostgreSQL session (issue 10, CVE-2018-1058 class): every session the role-schema and
 * db-health code opens searches `pg_catalog` and `pg_temp` only, so no operator or function a
 * service owner plants in a schema it can CREATE in (`public`, the application schema) can be
 * picked by name resolution and run with the session's rights.
 *
 * It is set twice: as a libpq startup option (in force from the first statement of the session,
 * whatever the role's or database's `search_path` setting says), and, for transactions the
 * applier opens, again with `SET LOCAL` (so that a `SET search_path` slipped in by a caller of the
 * library cannot carry over into an apply).
 * https://www.postgresql.org/docs/16/ddl-schemas.html#DDL-SCHEMAS-PATTERNS
 * https://www.postgresql.org/docs/16/libpq-connect.html#LIBPQ-CONNECT-OPTIONS
 */

/** The only schemas a session searches. pg_temp is never searched for functions or operators. */
export const SAFE_SEARCH_PATH = 'pg_catalog, pg_temp';

/** node-postgres `options`: the startup packet's `-c search_path=…`. */
export const SAFE_SESSION_OPTIONS = '-c search_path=pg_catalog,pg_temp';

/** `SET LOCAL` of the safe search_path, for the first statement of a transaction. */
export const SET_LOCAL_SAFE_SEARCH_PATH = `SET LOCAL search_path = ${SAFE_SEARCH_PATH}`;

/**
 * Rejects a connection URL that sets `options` itself: node-postgres lets the URL's parameters
 * win over the client's, which would drop the pinned search_path.
 */
export function assertUrlKeepsSafeSession(url: string): void {
  let hasOptions = false;
  try {
    hasOptions = new URL(url).searchParams.has('options');
  } catch {
    // Not a URL node-postgres understands either; let the connection report it.
  }
  if (hasOptions) {
    throw new Error('the database URL must not set "options": the session pins search_path=pg_catalog,pg_temp (drop the options parameter)');
  }
}
