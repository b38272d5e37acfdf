-- The prefix-enforcement event trigger and its function (issue 10, scopes 2 and 3).
--
-- Who may run this: a superuser, or on RDS the master user (rds_superuser). The applier treats it
-- as a separate, "privileged" step: tests run it as a superuser while everything else runs as a
-- plain CREATEROLE/CREATEDB role, as on RDS.
--
-- The rule (README, role-schema section): every object owned by a registered owner role (`gtown`
-- for prefix `gt_`, active or retired) is named with that service's prefix:
--   * relations of every kind: tables, partitioned tables, views, materialized views, sequences,
--     foreign tables, composite types, indexes (an index is owned by its table's owner; TOAST
--     tables and their indexes are the server's and are not checked);
--   * types (enum, domain, range, base), functions, procedures and aggregates, schemas, collations,
--     conversions, text search configurations and dictionaries, extended statistics, operator
--     classes and families;
--   * operators carry no name to prefix: an operator owned by a service must take one of that
--     service's own types as an operand (so no service can shadow or squat pg_catalog's or another
--     service's operators);
--   * sub-objects (columns, constraints, triggers, policies, rules) are scoped to their table and
--     are not checked by name, but an index a constraint creates is a relation and is checked.
-- Objects owned by roles outside the registry (the applier, administrators) are not checked, and
-- neither are temporary objects (session-local) or objects an extension creates.
--
-- How: there is no WHEN TAG filter, so a command tag that did not exist when this was written
-- cannot slip past. At ddl_command_end the function checks
--   1. every object pg_event_trigger_ddl_commands() reports (its owner AFTER the command, so
--      ALTER ... OWNER TO {p}own and CREATE SCHEMA ... AUTHORIZATION {p}own count), and
--   2. when the current user is a registered owner role (logged in directly or via SET ROLE),
--      every catalog row of the kinds above that this transaction created or changed
--      (age(xmin) <= 0): sub-commands the command list does not report separately (the index of
--      ALTER TABLE ... ADD CONSTRAINT, RENAME CONSTRAINT), and anything created earlier in the same
--      transaction by a route that fires no event trigger at all.
-- sql_drop and table_rewrite are not used: a drop or a rewrite cannot give an object a new name.
--
-- Routes that fire no event trigger at all (checked on PostgreSQL 16): EXPLAIN ANALYZE CREATE TABLE
-- AS, EXPLAIN ANALYZE SELECT INTO and EXPLAIN ANALYZE CREATE MATERIALIZED VIEW create their relation
-- inside EXPLAIN, and REASSIGN OWNED changes owners without firing anything. So a service owner
-- holds CREATE on the application schema only while one of its DDL commands runs: the schema's
-- CREATE belongs to the NOLOGIN role platform_ddl, the ddl_command_start trigger grants
-- platform_ddl to the owner role that runs a DDL command (INHERIT TRUE, SET FALSE), and the
-- ddl_command_end function revokes it once the command's objects passed the check. EXPLAIN is not
-- a DDL command, so it finds no CREATE privilege ("permission denied for schema"); anything such
-- a route creates while a command runs (user code inside the command) is caught by check 2 above.
-- platform_ddl itself may own nothing. A membership left over by any accident is revoked by the
-- next apply like any other membership the registry does not grant. Same-service DDL transactions
-- queue behind each other on that membership row until the first one ends.
-- https://www.postgresql.org/docs/16/sql-explain.html
-- https://www.postgresql.org/docs/16/event-trigger-definition.html
-- https://www.postgresql.org/docs/16/functions-event-triggers.html
--
-- Scope 3: the function lives in its own schema, platform_guard, which the privileged role creates
-- and owns, so the applier can neither drop nor replace it. Each privileged apply also compares the
-- function's definition (a hash of its source, its owner, SECURITY DEFINER, its pinned
-- search_path) and the schema's owner and ACL with this file, and re-installs all of it when
-- anything differs, naming what it repaired. The re-install drops the event trigger first (event
-- trigger commands fire no event trigger), so a broken function cannot make the repair fail.
--
-- Operational rules (RDS):
--   * Never on a read replica: the applier refuses to run on a server in recovery. The trigger
--     reaches the replica through physical replication; DDL cannot run there anyway.
--   * Drop it before a MAJOR version upgrade (RDS refuses to upgrade, or the upgrade fails, with
--     event triggers present): deploy with `enforcePrefixes: false` on the RoleSchema construct,
--     or run `npm run roles -- apply --env <env> --database-url <url> --drop-event-trigger`;
--     upgrade; then deploy/apply again with it enabled, which re-creates it.

-- name: install_guard
DROP EVENT TRIGGER IF EXISTS platform_roles_enforce_prefix;
DROP EVENT TRIGGER IF EXISTS platform_roles_open_ddl;
DROP SCHEMA IF EXISTS platform_guard CASCADE;
CREATE SCHEMA platform_guard;
REVOKE ALL ON SCHEMA platform_guard FROM PUBLIC;
DROP FUNCTION IF EXISTS platform_roles.enforce_prefix();
DO $do$
DECLARE
  m record;
BEGIN
  IF pg_catalog.to_regrole('platform_ddl') IS NULL THEN
    CREATE ROLE platform_ddl NOLOGIN;
  END IF;
  ALTER ROLE platform_ddl WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  COMMENT ON ROLE platform_ddl IS 'platform-role-schema: holds CREATE on the application schema; granted to a service owner only while its DDL command runs';
  FOR m IN SELECT pg_catalog.pg_get_userbyid(a.member) AS member, pg_catalog.pg_get_userbyid(a.grantor) AS grantor
           FROM pg_catalog.pg_auth_members a WHERE a.roleid OPERATOR(pg_catalog.=) pg_catalog.to_regrole('platform_ddl') LOOP
    EXECUTE pg_catalog.format('REVOKE platform_ddl FROM %I GRANTED BY %I', m.member, m.grantor);
  END LOOP;
END
$do$;
CREATE FUNCTION platform_guard.open_ddl()
  RETURNS event_trigger
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  who pg_catalog.name := CASE pg_catalog.current_setting('role')
                           WHEN 'none' THEN SESSION_USER ELSE pg_catalog.current_setting('role')::pg_catalog.name END;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                 WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('platform_roles.service')
                   AND c.relkind OPERATOR(pg_catalog.=) 'r'::"char" AND NOT c.relhassubclass) THEN
    RETURN;
  END IF;
  -- Only while the closing side (enforce_prefix at ddl_command_end) is enabled: a window nobody
  -- closes would outlive the command.
  IF pg_catalog.to_regrole('platform_ddl') IS NOT NULL
     AND EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger t
                 WHERE t.evtname OPERATOR(pg_catalog.=) 'platform_roles_enforce_prefix'::pg_catalog.name
                   AND t.evtenabled OPERATOR(pg_catalog.<>) 'D'::"char")
     AND EXISTS (SELECT 1 FROM ONLY platform_roles.service s WHERE s.owner_role OPERATOR(pg_catalog.=) who AND s.active)
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members a
                     WHERE a.roleid OPERATOR(pg_catalog.=) pg_catalog.to_regrole('platform_ddl')
                       AND a.member OPERATOR(pg_catalog.=) who::pg_catalog.regrole) THEN
    EXECUTE pg_catalog.format('GRANT platform_ddl TO %I WITH INHERIT TRUE, SET FALSE', who);
  END IF;
END
$fn$;
REVOKE ALL ON FUNCTION platform_guard.open_ddl() FROM PUBLIC;
CREATE FUNCTION platform_guard.enforce_prefix()
  RETURNS event_trigger
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  obj record;
  who pg_catalog.name;
  registered boolean;
BEGIN
  -- The registry is read only when it is a plain table (no view, no child table to run code).
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                 WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('platform_roles.service')
                   AND c.relkind OPERATOR(pg_catalog.=) 'r'::"char" AND NOT c.relhassubclass) THEN
    RETURN;
  END IF;
  -- Who ran the command: CURRENT_USER is this function's owner here (SECURITY DEFINER), so the
  -- role set with SET ROLE, or else the login role.
  who := CASE pg_catalog.current_setting('role') WHEN 'none' THEN SESSION_USER ELSE pg_catalog.current_setting('role')::pg_catalog.name END;
  registered := EXISTS (SELECT 1 FROM ONLY platform_roles.service s WHERE s.owner_role OPERATOR(pg_catalog.=) who);
  -- platform_ddl (the CREATE window's role) may own nothing: checked like an owner with no prefix.
  FOR obj IN
    WITH candidates AS (
      SELECT d.classid, d.objid FROM pg_catalog.pg_event_trigger_ddl_commands() d
      WHERE d.objsubid OPERATOR(pg_catalog.=) 0 AND NOT d.in_extension
      UNION
      SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, c.oid FROM pg_catalog.pg_class c
      WHERE registered AND pg_catalog.age(c.xmin) OPERATOR(pg_catalog.<=) 0
      UNION
      SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid FROM pg_catalog.pg_type t
      WHERE registered AND pg_catalog.age(t.xmin) OPERATOR(pg_catalog.<=) 0
      UNION
      SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass, p.oid FROM pg_catalog.pg_proc p
      WHERE registered AND pg_catalog.age(p.xmin) OPERATOR(pg_catalog.<=) 0
    )
    SELECT k.classid::pg_catalog.regclass::pg_catalog.text AS catalog, k.objid
    FROM candidates k
    WHERE (k.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
           AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) k.objid
                       AND c.relowner OPERATOR(pg_catalog.=) pg_catalog.to_regrole('platform_ddl')))
       OR (k.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass
           AND EXISTS (SELECT 1 FROM pg_catalog.pg_type t WHERE t.oid OPERATOR(pg_catalog.=) k.objid
                       AND t.typowner OPERATOR(pg_catalog.=) pg_catalog.to_regrole('platform_ddl')))
       OR (k.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
           AND EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.oid OPERATOR(pg_catalog.=) k.objid
                       AND p.proowner OPERATOR(pg_catalog.=) pg_catalog.to_regrole('platform_ddl')))
    LIMIT 1
  LOOP
    RAISE EXCEPTION '% is owned by platform_ddl, which may own nothing', pg_catalog.pg_describe_object(obj.catalog::pg_catalog.regclass, obj.objid, 0)
      USING ERRCODE = 'invalid_name';
  END LOOP;
  FOR obj IN
    WITH candidates AS (
      SELECT d.classid, d.objid FROM pg_catalog.pg_event_trigger_ddl_commands() d
      WHERE d.objsubid OPERATOR(pg_catalog.=) 0 AND NOT d.in_extension
      UNION
      SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, c.oid FROM pg_catalog.pg_class c
      WHERE registered AND pg_catalog.age(c.xmin) OPERATOR(pg_catalog.<=) 0
      UNION
      SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid FROM pg_catalog.pg_type t
      WHERE registered AND pg_catalog.age(t.xmin) OPERATOR(pg_catalog.<=) 0
      UNION
      SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass, p.oid FROM pg_catalog.pg_proc p
      WHERE registered AND pg_catalog.age(p.xmin) OPERATOR(pg_catalog.<=) 0
      UNION
      SELECT 'pg_catalog.pg_operator'::pg_catalog.regclass, o.oid FROM pg_catalog.pg_operator o
      WHERE registered AND pg_catalog.age(o.xmin) OPERATOR(pg_catalog.<=) 0
      UNION
      SELECT 'pg_catalog.pg_namespace'::pg_catalog.regclass, n.oid FROM pg_catalog.pg_namespace n
      WHERE registered AND pg_catalog.age(n.xmin) OPERATOR(pg_catalog.<=) 0
      UNION
      SELECT 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass, x.oid FROM pg_catalog.pg_statistic_ext x
      WHERE registered AND pg_catalog.age(x.xmin) OPERATOR(pg_catalog.<=) 0
    ),
    objects AS (
      SELECT k.classid, o.kind, o.nsp, o.name, o.owner, o.operand_owners
      FROM candidates k
      CROSS JOIN LATERAL (
        SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
                              WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
                              WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'type' ELSE 'index' END,
               c.relnamespace, c.relname::pg_catalog.text, c.relowner, NULL::pg_catalog.oid[]
        FROM pg_catalog.pg_class c
        WHERE k.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
          AND c.oid OPERATOR(pg_catalog.=) k.objid AND c.relkind OPERATOR(pg_catalog.<>) 't'::"char"
        UNION ALL
        SELECT 'type', t.typnamespace, t.typname::pg_catalog.text, t.typowner, NULL
        FROM pg_catalog.pg_type t
        WHERE k.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass
          AND t.oid OPERATOR(pg_catalog.=) k.objid
          AND t.typrelid OPERATOR(pg_catalog.=) 0::pg_catalog.oid                 -- a relation's row type: checked as the relation
          AND NOT (t.typcategory OPERATOR(pg_catalog.=) 'A'::"char"               -- an array type named after its element type
                   AND t.typelem OPERATOR(pg_catalog.<>) 0::pg_catalog.oid)
        UNION ALL
        SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
               p.pronamespace, p.proname::pg_catalog.text, p.proowner, NULL
        FROM pg_catalog.pg_proc p
        WHERE k.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
          AND p.oid OPERATOR(pg_catalog.=) k.objid
        UNION ALL
        SELECT 'operator', o.oprnamespace, o.oprname::pg_catalog.text, o.oprowner,
               ARRAY(SELECT t.typowner FROM pg_catalog.pg_type t
                     WHERE t.oid OPERATOR(pg_catalog.=) ANY (ARRAY[o.oprleft, o.oprright]))
        FROM pg_catalog.pg_operator o
        WHERE k.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_operator'::pg_catalog.regclass
          AND o.oid OPERATOR(pg_catalog.=) k.objid
        UNION ALL
        SELECT 'schema', n.oid, n.nspname::pg_catalog.text, n.nspowner, NULL
        FROM pg_catalog.pg_namespace n
        WHERE k.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass
          AND n.oid OPERATOR(pg_catalog.=) k.objid
        UNION ALL
        SELECT 'collation', x.collnamespace, x.collname::pg_catalog.text, x.collowner, NULL
        FROM pg_catalog.pg_collation x
        WHERE k.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_collation'::pg_catalog.regclass
          AND x.oid OPERATOR(pg_catalog.=) k.objid
        UNION ALL
        SELECT 'conversion', x.connamespace, x.conname::pg_catalog.text, x.conowner, NULL
        FROM pg_catalog.pg_conversion x
        WHERE k.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_conversion'::pg_catalog.regclass
          AND x.oid OPERATOR(pg_catalog.=) k.objid
        UNION ALL
        SELECT 'text search configuration', x.cfgnamespace, x.cfgname::pg_catalog.text, x.cfgowner, NULL
        FROM pg_catalog.pg_ts_config x
        WHERE k.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_ts_config'::pg_catalog.regclass
          AND x.oid OPERATOR(pg_catalog.=) k.objid
        UNION ALL
        SELECT 'text search dictionary', x.dictnamespace, x.dictname::pg_catalog.text, x.dictowner, NULL
        FROM pg_catalog.pg_ts_dict x
        WHERE k.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_ts_dict'::pg_catalog.regclass
          AND x.oid OPERATOR(pg_catalog.=) k.objid
        UNION ALL
        SELECT 'statistics object', x.stxnamespace, x.stxname::pg_catalog.text, x.stxowner, NULL
        FROM pg_catalog.pg_statistic_ext x
        WHERE k.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass
          AND x.oid OPERATOR(pg_catalog.=) k.objid
        UNION ALL
        SELECT 'operator class', x.opcnamespace, x.opcname::pg_catalog.text, x.opcowner, NULL
        FROM pg_catalog.pg_opclass x
        WHERE k.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_opclass'::pg_catalog.regclass
          AND x.oid OPERATOR(pg_catalog.=) k.objid
        UNION ALL
        SELECT 'operator family', x.opfnamespace, x.opfname::pg_catalog.text, x.opfowner, NULL
        FROM pg_catalog.pg_opfamily x
        WHERE k.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_opfamily'::pg_catalog.regclass
          AND x.oid OPERATOR(pg_catalog.=) k.objid
      ) o(kind, nsp, name, owner, operand_owners)
    )
    SELECT o.kind, n.nspname, o.name, s.owner_role, s.prefix, s.service, o.operand_owners IS NOT NULL AS is_operator
    FROM objects o
    JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) o.nsp
    JOIN ONLY platform_roles.service s ON s.owner_role OPERATOR(pg_catalog.=) pg_catalog.pg_get_userbyid(o.owner)
    WHERE n.nspname OPERATOR(pg_catalog.<>) 'pg_toast'::pg_catalog.name
      AND NOT pg_catalog.starts_with(n.nspname::pg_catalog.text, 'pg_temp_'::pg_catalog.text)
      AND NOT pg_catalog.starts_with(n.nspname::pg_catalog.text, 'pg_toast_temp_'::pg_catalog.text)
      AND CASE WHEN o.operand_owners IS NOT NULL THEN NOT (o.owner OPERATOR(pg_catalog.=) ANY (o.operand_owners))
               ELSE NOT pg_catalog.starts_with(o.name, s.prefix) END
    ORDER BY 1, 2, 3
  LOOP
    IF obj.is_operator THEN
      RAISE EXCEPTION 'operator %.% is owned by % (service "%") but takes none of the service''s own types: an operator carries no name prefix, so a service may only define operators on its own types',
          obj.nspname, obj.name, obj.owner_role, obj.service
        USING ERRCODE = 'invalid_name',
              HINT = pg_catalog.format('Define it on a type named "%s..." that %s owns, or use a function named "%s...".', obj.prefix, obj.owner_role, obj.prefix);
    END IF;
    RAISE EXCEPTION '% "%.%" is owned by % (service "%") but its name does not start with the service''s prefix "%"',
        obj.kind, obj.nspname, obj.name, obj.owner_role, obj.service, obj.prefix
      USING ERRCODE = 'invalid_name',
            HINT = pg_catalog.format('Name it "%s%s" (every object owned by %s must start with "%s").',
                                     obj.prefix, obj.name, obj.owner_role, obj.prefix);
  END LOOP;
  -- The command passed: close its CREATE window.
  IF registered AND EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members a
                            WHERE a.roleid OPERATOR(pg_catalog.=) pg_catalog.to_regrole('platform_ddl')
                              AND a.member OPERATOR(pg_catalog.=) who::pg_catalog.regrole) THEN
    EXECUTE pg_catalog.format('REVOKE platform_ddl FROM %I', who);
  END IF;
END
$fn$;
REVOKE ALL ON FUNCTION platform_guard.enforce_prefix() FROM PUBLIC;
CREATE EVENT TRIGGER platform_roles_enforce_prefix ON ddl_command_end
  EXECUTE FUNCTION platform_guard.enforce_prefix();
CREATE EVENT TRIGGER platform_roles_open_ddl ON ddl_command_start
  EXECUTE FUNCTION platform_guard.open_ddl();

-- The application schema's CREATE moves from the owner roles to platform_ddl (with the triggers).
-- name: guard_schema_grants
GRANT CREATE ON SCHEMA {schema} TO platform_ddl;

-- name: guard_revoke_owner_create
REVOKE CREATE ON SCHEMA {schema} FROM {owners};

-- name: drop_event_trigger
DROP EVENT TRIGGER IF EXISTS platform_roles_enforce_prefix;
DROP EVENT TRIGGER IF EXISTS platform_roles_open_ddl;

-- Without the triggers nothing opens a CREATE window: the owner roles get CREATE back directly.
-- name: restore_owner_create
GRANT CREATE ON SCHEMA {schema} TO {owners};

-- name: enable_event_trigger
ALTER EVENT TRIGGER platform_roles_enforce_prefix ENABLE;
ALTER EVENT TRIGGER platform_roles_open_ddl ENABLE;
