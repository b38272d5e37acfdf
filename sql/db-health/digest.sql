-- db-health daily digest: everything but the statement statistics in ONE statement, as JSON.
-- Parameters (never interpolated):
--   $1  application schema                              (text)
--   $2  registered service table prefixes               (text[])
--   $3  unused-index size floor in bytes                (int8)
--   $4  at most this many rows per list                 (int)
-- Functions and operators are qualified with pg_catalog (see probe.sql).
SELECT
  pg_catalog.current_database()                                        AS database,
  pg_catalog.pg_database_size(pg_catalog.current_database())           AS database_size_bytes,
  (SELECT d.stats_reset FROM pg_catalog.pg_stat_database d
    WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()) AS stats_reset,
  -- Where pg_stat_statements is installed in this database (NULL when it is not).
  (SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
    WHERE e.extname OPERATOR(pg_catalog.=) 'pg_stat_statements'::pg_catalog.name) AS pg_stat_statements_schema,
  -- The indexes the unused_indexes metric counts, largest first.
  coalesce((
    SELECT pg_catalog.json_agg(u ORDER BY u.size_bytes DESC, u.index)
      FROM (SELECT s.schemaname AS schema, s.relname AS table, s.indexrelname AS index,
                   pg_catalog.pg_relation_size(s.indexrelid) AS size_bytes
              FROM pg_catalog.pg_stat_user_indexes s
              JOIN pg_catalog.pg_index i ON i.indexrelid OPERATOR(pg_catalog.=) s.indexrelid
             WHERE s.idx_scan OPERATOR(pg_catalog.=) 0::pg_catalog.int8
               AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion
               AND pg_catalog.pg_relation_size(s.indexrelid) OPERATOR(pg_catalog.>=) $3::pg_catalog.int8
             ORDER BY pg_catalog.pg_relation_size(s.indexrelid) DESC, s.indexrelname
             LIMIT $4::pg_catalog.int4) u), '[]'::pg_catalog.json)   AS unused_indexes,
  -- Largest tables (heap + indexes + TOAST) outside the system schemas.
  coalesce((
    SELECT pg_catalog.json_agg(t ORDER BY t.total_bytes DESC, t.table)
      FROM (SELECT n.nspname AS schema, c.relname AS table,
                   pg_catalog.pg_total_relation_size(c.oid) AS total_bytes,
                   pg_catalog.pg_indexes_size(c.oid) AS index_bytes,
                   greatest(c.reltuples, 0::pg_catalog.float4)::pg_catalog.int8 AS estimated_rows
              FROM pg_catalog.pg_class c
              JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
             WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,m}'::"char"[])
               AND n.nspname OPERATOR(pg_catalog.<>) ALL ('{pg_catalog,information_schema}'::pg_catalog.name[])
               AND NOT pg_catalog.starts_with(n.nspname::pg_catalog.text, 'pg_toast'::pg_catalog.text)
               AND NOT pg_catalog.starts_with(n.nspname::pg_catalog.text, 'pg_temp_'::pg_catalog.text)
             ORDER BY pg_catalog.pg_total_relation_size(c.oid) DESC, c.relname
             LIMIT $4::pg_catalog.int4) t), '[]'::pg_catalog.json)   AS largest_tables,
  -- The tables the tables_without_service_prefix metric counts (same predicate as probe.sql).
  coalesce((
    SELECT pg_catalog.json_agg(x ORDER BY x.table)
      FROM (SELECT n.nspname AS schema, c.relname AS table, pg_catalog.pg_get_userbyid(c.relowner)::pg_catalog.text AS owner,
                   pg_catalog.pg_total_relation_size(c.oid) AS total_bytes
              FROM pg_catalog.pg_class c
              JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
             WHERE n.nspname OPERATOR(pg_catalog.=) $1::pg_catalog.text
               AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::"char"[])
               AND NOT c.relispartition
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.unnest($2::pg_catalog.text[]) AS p(prefix)
                                WHERE pg_catalog.starts_with(c.relname::pg_catalog.text, p.prefix))
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend dep
                                WHERE dep.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid
                                  AND dep.objid OPERATOR(pg_catalog.=) c.oid
                                  AND dep.deptype OPERATOR(pg_catalog.=) 'e'::"char")
             ORDER BY c.relname
             LIMIT $4::pg_catalog.int4) x), '[]'::pg_catalog.json)   AS unprefixed_tables;
