-- db-health probe: every metric of the contract in ONE statement, so a run costs one round trip.
-- Parameters (never interpolated):
--   $1  long-query threshold in seconds                 (float8)
--   $2  application schema, e.g. 'public'               (text)
--   $3  registered service table prefixes, e.g. {gt_}   (text[])
--   $4  unused-index size floor in bytes                (int8)
-- Run it as a role with pg_monitor: without pg_read_all_stats, other roles' sessions show a NULL
-- state and would be counted in connections_total only.
-- The probe's own backend is left out of every connection count, so an idle server reads 0.
--
-- Safe against a hostile service owner (issue 10): the session searches pg_catalog only
-- (lambda/shared/safe-session.ts), and besides, every function is qualified with pg_catalog and
-- every comparison whose operands differ in type names pg_catalog's operator, so nothing resolves
-- to a look-alike planted in a schema a service can create in, whatever the search_path.
WITH activity AS (
  SELECT
    pg_catalog.count(*)                                                            AS total,
    pg_catalog.count(*) FILTER (WHERE a.state OPERATOR(pg_catalog.=) 'active'::text) AS active,
    pg_catalog.count(*) FILTER (WHERE a.state OPERATOR(pg_catalog.=) 'idle'::text)   AS idle,
    pg_catalog.count(*) FILTER (WHERE a.state OPERATOR(pg_catalog.=) ANY ('{idle in transaction,idle in transaction (aborted)}'::text[])) AS idle_in_transaction,
    pg_catalog.count(*) FILTER (WHERE a.state OPERATOR(pg_catalog.=) 'active'::text
                       AND a.query_start OPERATOR(pg_catalog.<)
                           (pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(secs => $1::pg_catalog.float8))) AS long_running,
    coalesce(pg_catalog.date_part('epoch', pg_catalog.max(pg_catalog.now() OPERATOR(pg_catalog.-) a.xact_start)), 0::pg_catalog.float8) AS oldest_xact
  FROM pg_catalog.pg_stat_activity a
  WHERE a.backend_type OPERATOR(pg_catalog.=) 'client backend'::text
    AND a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
)
SELECT
  a.total                                                      AS connections_total,
  a.active                                                     AS connections_active,
  a.idle                                                       AS connections_idle,
  a.idle_in_transaction                                        AS connections_idle_in_transaction,
  pg_catalog.current_setting('max_connections')::pg_catalog.int4 AS connections_max,
  a.long_running                                               AS long_running_queries,
  a.oldest_xact                                                AS oldest_transaction_seconds,
  -- Cumulative since the statistics were last reset (as seed 004 computes it), for this database.
  (SELECT CASE WHEN (d.blks_hit OPERATOR(pg_catalog.+) d.blks_read) OPERATOR(pg_catalog.=) 0::pg_catalog.int8 THEN 1::pg_catalog.float8
               ELSE d.blks_hit::pg_catalog.float8 OPERATOR(pg_catalog./) (d.blks_hit OPERATOR(pg_catalog.+) d.blks_read)::pg_catalog.float8 END
     FROM pg_catalog.pg_stat_database d
    WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())          AS buffer_hit_ratio,
  pg_catalog.pg_database_size(pg_catalog.current_database())   AS database_size_bytes,
  -- Never scanned, not enforcing a constraint (unique, primary key, exclusion), and big enough to matter.
  (SELECT pg_catalog.count(*)
     FROM pg_catalog.pg_stat_user_indexes s
     JOIN pg_catalog.pg_index i ON i.indexrelid OPERATOR(pg_catalog.=) s.indexrelid
    WHERE s.idx_scan OPERATOR(pg_catalog.=) 0::pg_catalog.int8
      AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion
      AND pg_catalog.pg_relation_size(s.indexrelid) OPERATOR(pg_catalog.>=) $4::pg_catalog.int8) AS unused_indexes,
  -- Ordinary and partitioned tables (not partitions, not extension-owned) whose name starts with no
  -- registered prefix. starts_with(), not LIKE: the "_" in "gt_" would be a LIKE wildcard.
  (SELECT pg_catalog.count(*)
     FROM pg_catalog.pg_class c
     JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
    WHERE n.nspname OPERATOR(pg_catalog.=) $2::pg_catalog.text
      AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::"char"[])
      AND NOT c.relispartition
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.unnest($3::pg_catalog.text[]) AS p(prefix)
                       WHERE pg_catalog.starts_with(c.relname::pg_catalog.text, p.prefix))
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend dep
                       WHERE dep.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid
                         AND dep.objid OPERATOR(pg_catalog.=) c.oid
                         AND dep.deptype OPERATOR(pg_catalog.=) 'e'::"char"))
                                                               AS tables_without_service_prefix,
  -- On a replica: seconds behind the primary (0 when everything received is replayed).
  -- On a primary: the worst replay_lag of its standbys; NULL (omitted) when it has none.
  CASE WHEN pg_catalog.pg_is_in_recovery() THEN
         CASE WHEN pg_catalog.pg_last_wal_receive_lsn() OPERATOR(pg_catalog.=) pg_catalog.pg_last_wal_replay_lsn() THEN 0::pg_catalog.float8
              ELSE pg_catalog.date_part('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.pg_last_xact_replay_timestamp()) END
       ELSE (SELECT pg_catalog.date_part('epoch', pg_catalog.max(coalesce(r.replay_lag, '0'::pg_catalog.interval)))
               FROM pg_catalog.pg_stat_replication r)
  END                                                          AS replication_lag_seconds,
  -- Wraparound is a cluster-wide hazard: the oldest database counts.
  (SELECT pg_catalog.max(pg_catalog.age(d.datfrozenxid)) FROM pg_catalog.pg_database d) AS xid_age,
  pg_catalog.pg_is_in_recovery()                               AS in_recovery
FROM activity a;
