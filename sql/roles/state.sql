-- The role schema's own state, in a schema only the applier (its owner) can read or write:
--   service     the prefix registry the event trigger reads (active and retired services);
--   credential  for each login role, how the applier last set its authentication: the salt and a
--               SHA-256 of the SCRAM verifier it sent, so that a re-apply can tell "same password"
--               without ever storing or sending a plaintext password (pg_authid is unreadable on RDS).
-- Applied as one script when the schema's comment differs from {version} (a hash of this file).
-- Nothing here is ever dropped by the applier.

CREATE SCHEMA IF NOT EXISTS platform_roles;
REVOKE ALL ON SCHEMA platform_roles FROM PUBLIC;

CREATE TABLE IF NOT EXISTS platform_roles.service (
  owner_role name PRIMARY KEY,
  prefix     text NOT NULL UNIQUE CHECK (prefix ~ '^[a-z]{2,8}_$'),
  service    text NOT NULL,
  active     boolean NOT NULL
);

CREATE TABLE IF NOT EXISTS platform_roles.credential (
  role       name PRIMARY KEY,
  auth       text NOT NULL CHECK (auth IN ('password', 'iam')),
  salt       text,
  iterations integer,
  digest     text
);

REVOKE ALL ON ALL TABLES IN SCHEMA platform_roles FROM PUBLIC;

-- Prefix enforcement. Runs at ddl_command_end for the tags the event trigger lists
-- (event-trigger.sql): every table, view, materialized view, sequence or foreign table whose owner
-- is a registered owner role (`gtown` for prefix `gt_`) must be named with that service's prefix. It looks at the
-- relation's OWNER, not at session_user, so it holds whether the owner logged in directly or a
-- member used `SET ROLE`; renames (ALTER ... RENAME) and ownership changes are checked the same way.
-- SECURITY DEFINER with a pinned search_path, so no caller can shadow pg_catalog or the registry.
CREATE OR REPLACE FUNCTION platform_roles.enforce_prefix()
  RETURNS event_trigger
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  obj record;
BEGIN
  FOR obj IN
    SELECT c.relname, n.nspname, r.rolname, s.prefix, s.service, d.object_type
    FROM pg_catalog.pg_event_trigger_ddl_commands() AS d
    JOIN pg_catalog.pg_class AS c ON c.oid = d.objid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_roles AS r ON r.oid = c.relowner
    JOIN platform_roles.service AS s ON s.owner_role = r.rolname
    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.objsubid = 0
      AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND n.nspname NOT LIKE 'pg\_temp\_%'
      AND NOT pg_catalog.starts_with(c.relname, s.prefix)
  LOOP
    RAISE EXCEPTION '% "%.%" is owned by % (service "%") but its name does not start with the service''s prefix "%"',
        obj.object_type, obj.nspname, obj.relname, obj.rolname, obj.service, obj.prefix
      USING ERRCODE = 'invalid_name',
            HINT = pg_catalog.format('Name it "%s%s" (every object owned by %s must start with "%s").',
                                     obj.prefix, obj.relname, obj.rolname, obj.prefix);
  END LOOP;
END
$fn$;

REVOKE ALL ON FUNCTION platform_roles.enforce_prefix() FROM PUBLIC;

COMMENT ON SCHEMA platform_roles IS {version};
