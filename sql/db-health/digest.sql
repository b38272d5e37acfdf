-- db-health daily digest: everything but the statement statistics in ONE statement, as JSON.
-- Parameters (never interpolated):
--   $1  application schema                              (text)
--   $2  registered service table prefixes               (text[])
--   $3  unused-index size floor in bytes                (int8)
--   $4  at most this many rows per list                 (int)
SELECT
  current_database()                                                   AS database,
  pg_database_size(current_database())                                 AS database_size_bytes,
  (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()) AS stats_reset,
  -- Where pg_stat_statements is installed in this database (NULL when it is not).
  (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_stat_statements')                            AS pg_stat_statements_schema,
  -- The indexes the unused_indexes metric counts, largest first.
  coalesce((
    SELECT json_agg(u ORDER BY u.size_bytes DESC, u.index)
      FROM (SELECT s.schemaname AS schema, s.relname AS table, s.indexrelname AS index,
                   pg_relation_size(s.indexrelid) AS size_bytes
              FROM pg_stat_user_indexes s
              JOIN pg_index i ON i.indexrelid = s.indexrelid
             WHERE s.idx_scan = 0
               AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion
               AND pg_relation_size(s.indexrelid) >= $3::int8
             ORDER BY pg_relation_size(s.indexrelid) DESC, s.indexrelname
             LIMIT $4::int) u), '[]'::json)                            AS unused_indexes,
  -- Largest tables (heap + indexes + TOAST) outside the system schemas.
  coalesce((
    SELECT json_agg(t ORDER BY t.total_bytes DESC, t.table)
      FROM (SELECT n.nspname AS schema, c.relname AS table,
                   pg_total_relation_size(c.oid) AS total_bytes,
                   pg_indexes_size(c.oid) AS index_bytes,
                   greatest(c.reltuples, 0)::int8 AS estimated_rows
              FROM pg_class c
              JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'm')
               AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname NOT LIKE 'pg\_toast%'
               AND n.nspname NOT LIKE 'pg\_temp\_%'
             ORDER BY pg_total_relation_size(c.oid) DESC, c.relname
             LIMIT $4::int) t), '[]'::json)                            AS largest_tables,
  -- The tables the tables_without_service_prefix metric counts (same predicate as probe.sql).
  coalesce((
    SELECT json_agg(x ORDER BY x.table)
      FROM (SELECT n.nspname AS schema, c.relname AS table, c.relowner::regrole::text AS owner,
                   pg_total_relation_size(c.oid) AS total_bytes
              FROM pg_class c
              JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1::text
               AND c.relkind IN ('r', 'p')
               AND NOT c.relispartition
               AND NOT EXISTS (SELECT 1 FROM unnest($2::text[]) AS p(prefix) WHERE starts_with(c.relname, p.prefix))
               AND NOT EXISTS (SELECT 1 FROM pg_depend dep
                                WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid AND dep.deptype = 'e')
             ORDER BY c.relname
             LIMIT $4::int) x), '[]'::json)                            AS unprefixed_tables;
