-- Extensions the platform needs. pg_stat_statements is not a trusted extension: creating it needs
-- a superuser, or rds_superuser on RDS (where the default parameter group already preloads it), so
-- it belongs to the applier's privileged step, like the event trigger.

-- name: create_extension
CREATE EXTENSION IF NOT EXISTS {extension};
