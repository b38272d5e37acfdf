-- db-health daily digest: the top statements of this database by total execution time
-- (seed 000, method 3), from pg_stat_statements. Sent only when the extension is installed.
-- The monitoring role's own statements are left out: the digest is about the application.
-- {{schema}} is replaced by the extension's schema, quoted as an identifier by the caller
-- (pg's escapeIdentifier); it is the only substitution, and it never carries user input.
-- Functions and operators are qualified with pg_catalog (see probe.sql). Statement texts may hold
-- credentials (ALTER ROLE … PASSWORD); the caller scrubs them before anything is shown.
-- Parameters:
--   $1  how many statements                             (int)
--   $2  longest query text returned, in characters      (int)
SELECT
  s.queryid::pg_catalog.text                        AS query_id,
  s.calls                                           AS calls,
  s.total_exec_time                                 AS total_ms,
  s.mean_exec_time                                  AS mean_ms,
  s.rows                                            AS rows,
  pg_catalog.left(pg_catalog.regexp_replace(s.query, '\s+'::pg_catalog.text, ' '::pg_catalog.text, 'g'::pg_catalog.text), $2::pg_catalog.int4) AS query,
  (SELECT i.stats_reset FROM {{schema}}.pg_stat_statements_info i) AS since
FROM {{schema}}.pg_stat_statements s
WHERE s.dbid OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
  AND s.userid OPERATOR(pg_catalog.<>) (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)
ORDER BY s.total_exec_time DESC
LIMIT $1::pg_catalog.int4;
