-- The prefix-enforcement event trigger (function: state.sql).
--
-- Who may run this: a superuser, or on RDS the master user (rds_superuser). The applier treats it
-- as a separate, "privileged" step: tests run it as a superuser while everything else runs as a
-- plain CREATEROLE/CREATEDB role, as on RDS.
--
-- Operational rules (RDS):
--   * Never on a read replica: the applier refuses to run on a server in recovery. The trigger
--     reaches the replica through physical replication; DDL cannot run there anyway.
--   * Drop it before a MAJOR version upgrade (RDS refuses to upgrade, or the upgrade fails, with
--     event triggers present): deploy with `enforcePrefixes: false` on the RoleSchema construct,
--     or run `npm run roles -- apply --env <env> --database-url <url> --drop-event-trigger`;
--     upgrade; then deploy/apply again with it enabled, which re-creates it.

-- name: create_event_trigger
CREATE EVENT TRIGGER platform_roles_enforce_prefix ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'CREATE VIEW',
               'CREATE MATERIALIZED VIEW', 'CREATE SEQUENCE', 'CREATE FOREIGN TABLE',
               'ALTER TABLE', 'ALTER VIEW', 'ALTER MATERIALIZED VIEW', 'ALTER SEQUENCE',
               'ALTER FOREIGN TABLE')
  EXECUTE FUNCTION platform_roles.enforce_prefix();

-- name: drop_event_trigger
DROP EVENT TRIGGER IF EXISTS platform_roles_enforce_prefix;

-- name: enable_event_trigger
ALTER EVENT TRIGGER platform_roles_enforce_prefix ENABLE;
