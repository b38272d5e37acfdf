-- Extensions the platform needs. pg_stat_statements is not a trusted extension: creating it needs
-- a superuser, or rds_superuser on RDS (where the default parameter group already preloads it), so
-- it belongs to the applier's privileged step, like the event trigger.
--
-- It lives in its own schema, platform_stats, owned by the privileged role: nobody else can create
-- anything there, so the db-health digest reads it by its qualified name and no service owner can
-- plant a look-alike next to it (issue 10). PUBLIC may only look it up (USAGE); the views filter
-- other roles' statement texts themselves (pg_read_all_stats sees them all).
-- https://www.postgresql.org/docs/16/pgstatstatements.html

-- name: create_extension_schema
CREATE SCHEMA IF NOT EXISTS platform_stats;
REVOKE ALL ON SCHEMA platform_stats FROM PUBLIC;
GRANT USAGE ON SCHEMA platform_stats TO PUBLIC;

-- name: create_extension
CREATE EXTENSION IF NOT EXISTS {extension} SCHEMA platform_stats;

-- An extension installed earlier elsewhere (public, by hand) is moved; pg_stat_statements is
-- relocatable.
-- name: move_extension
ALTER EXTENSION {extension} SET SCHEMA platform_stats;
