-- db-health daily digest: the top statements of this database by total execution time
-- (seed 000, method 3), from pg_stat_statements. Sent only when the extension is installed.
-- The monitoring role's own statements are left out: the digest is about the application.
-- {{schema}} is replaced by the extension's schema, quoted as an identifier by the caller
-- (pg's escapeIdentifier); it is the only substitution, and it never carries user input.
-- Parameters:
--   $1  how many statements                             (int)
--   $2  longest query text returned, in characters      (int)
SELECT
  s.queryid::text                                   AS query_id,
  s.calls                                           AS calls,
  s.total_exec_time                                 AS total_ms,
  s.mean_exec_time                                  AS mean_ms,
  s.rows                                            AS rows,
  left(regexp_replace(s.query, '\s+', ' ', 'g'), $2::int) AS query,
  (SELECT i.stats_reset FROM {{schema}}.pg_stat_statements_info i) AS since
FROM {{schema}}.pg_stat_statements s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND s.userid <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
ORDER BY s.total_exec_time DESC
LIMIT $1::int;
