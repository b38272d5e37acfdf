-- db-health probe: every metric of the contract in ONE statement, so a run costs one round trip.
-- Parameters (never interpolated):
--   $1  long-query threshold in seconds                 (float8)
--   $2  application schema, e.g. 'public'               (text)
--   $3  registered service table prefixes, e.g. {gt_}   (text[])
--   $4  unused-index size floor in bytes                (int8)
-- Run it as a role with pg_monitor: without pg_read_all_stats, other roles' sessions show a NULL
-- state and would be counted in connections_total only.
-- The probe's own backend is left out of every connection count, so an idle server reads 0.
WITH activity AS (
  SELECT
    count(*)                                                                       AS total,
    count(*) FILTER (WHERE state = 'active')                                       AS active,
    count(*) FILTER (WHERE state = 'idle')                                         AS idle,
    count(*) FILTER (WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')) AS idle_in_transaction,
    count(*) FILTER (WHERE state = 'active'
                       AND query_start < now() - $1::float8 * interval '1 second')  AS long_running,
    coalesce(extract(epoch FROM max(now() - xact_start)), 0)::float8               AS oldest_xact
  FROM pg_stat_activity
  WHERE backend_type = 'client backend'
    AND pid <> pg_backend_pid()
)
SELECT
  a.total                                                      AS connections_total,
  a.active                                                     AS connections_active,
  a.idle                                                       AS connections_idle,
  a.idle_in_transaction                                        AS connections_idle_in_transaction,
  current_setting('max_connections')::int                      AS connections_max,
  a.long_running                                               AS long_running_queries,
  a.oldest_xact                                                AS oldest_transaction_seconds,
  -- Cumulative since the statistics were last reset (as seed 004 computes it), for this database.
  (SELECT CASE WHEN d.blks_hit + d.blks_read = 0 THEN 1
               ELSE d.blks_hit::float8 / (d.blks_hit + d.blks_read) END
     FROM pg_stat_database d WHERE d.datname = current_database()) AS buffer_hit_ratio,
  pg_database_size(current_database())                         AS database_size_bytes,
  -- Never scanned, not enforcing a constraint (unique, primary key, exclusion), and big enough to matter.
  (SELECT count(*)
     FROM pg_stat_user_indexes s
     JOIN pg_index i ON i.indexrelid = s.indexrelid
    WHERE s.idx_scan = 0
      AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion
      AND pg_relation_size(s.indexrelid) >= $4::int8)          AS unused_indexes,
  -- Ordinary and partitioned tables (not partitions, not extension-owned) whose name starts with no
  -- registered prefix. starts_with(), not LIKE: the "_" in "gt_" would be a LIKE wildcard.
  (SELECT count(*)
     FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $2::text
      AND c.relkind IN ('r', 'p')
      AND NOT c.relispartition
      AND NOT EXISTS (SELECT 1 FROM unnest($3::text[]) AS p(prefix) WHERE starts_with(c.relname, p.prefix))
      AND NOT EXISTS (SELECT 1 FROM pg_depend dep
                       WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid AND dep.deptype = 'e'))
                                                               AS tables_without_service_prefix,
  -- On a replica: seconds behind the primary (0 when everything received is replayed).
  -- On a primary: the worst replay_lag of its standbys; NULL (omitted) when it has none.
  CASE WHEN pg_is_in_recovery() THEN
         CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8
              ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END
       ELSE (SELECT extract(epoch FROM max(coalesce(r.replay_lag, interval '0')))::float8
               FROM pg_stat_replication r)
  END                                                          AS replication_lag_seconds,
  -- Wraparound is a cluster-wide hazard: the oldest database counts.
  (SELECT max(age(datfrozenxid)) FROM pg_database)             AS xid_age,
  pg_is_in_recovery()                                          AS in_recovery
FROM activity a;
