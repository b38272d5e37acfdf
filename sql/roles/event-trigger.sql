-- The prefix-enforcement guard (issue 10, scopes 2-3), run by the privileged step (a superuser, or
-- the RDS master user). The rule per object kind, the routes that fire no event trigger, and why
-- CREATE is held by platform_ddl: README, "The three-tier role schema". In short:
--   * enforce_prefix() at ddl_command_end, no WHEN TAG filter: every object the command reports,
--     and (for a service owner's command) every catalog row this transaction created or changed,
--     owned by a registered owner must carry its prefix; operators must take one of its own types;
--     platform_ddl owns nothing. Then it closes the command's CREATE window.
--   * open_ddl() at ddl_command_start grants platform_ddl (the application schema's CREATE) to the
--     owner role running the command, so EXPLAIN ANALYZE CREATE TABLE AS / SELECT INTO / CREATE
--     MATERIALIZED VIEW, which fire no event trigger, find no CREATE privilege.
--   * Both live in schema platform_guard, owned by the privileged role; each privileged apply
--     compares them with this file (plan.ts guardProblems) and re-installs everything, triggers
--     dropped first, when anything differs.
-- The function bodies run with search_path = pg_catalog, pg_temp pinned by their SET clause (and
-- checked by hash), so they name catalog functions and operators unqualified.
-- https://www.postgresql.org/docs/16/event-trigger-matrix.html
-- https://www.postgresql.org/docs/16/sql-createfunction.html#SQL-CREATEFUNCTION-SECURITY
-- Before a MAJOR version upgrade, drop the triggers (enforcePrefixes: false, or the CLI's
-- --drop-event-trigger); never on a read replica (the applier refuses to run there).

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
  who name := CASE current_setting('role')
                           WHEN 'none' THEN SESSION_USER ELSE current_setting('role')::name END;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_class c
                 WHERE c.oid = to_regclass('platform_roles.service')
                   AND c.relkind = 'r'::"char" AND NOT c.relhassubclass) THEN
    RETURN;
  END IF;
  -- Only while the closing side (enforce_prefix at ddl_command_end) is enabled: a window nobody
  -- closes would outlive the command.
  IF to_regrole('platform_ddl') IS NOT NULL
     AND EXISTS (SELECT 1 FROM pg_event_trigger t
                 WHERE t.evtname = 'platform_roles_enforce_prefix'::name
                   AND t.evtenabled <> 'D'::"char")
     AND EXISTS (SELECT 1 FROM ONLY platform_roles.service s WHERE s.owner_role = who AND s.active)
     AND NOT EXISTS (SELECT 1 FROM pg_auth_members a
                     WHERE a.roleid = to_regrole('platform_ddl')
                       AND a.member = who::regrole) THEN
    EXECUTE format('GRANT platform_ddl TO %I WITH INHERIT TRUE, SET FALSE', who);
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
  who name;
  registered boolean;
BEGIN
  -- The registry is read only when it is a plain table (no view, no child table to run code).
  IF NOT EXISTS (SELECT 1 FROM pg_class c
                 WHERE c.oid = to_regclass('platform_roles.service')
                   AND c.relkind = 'r'::"char" AND NOT c.relhassubclass) THEN
    RETURN;
  END IF;
  -- Who ran the command: CURRENT_USER is this function's owner here (SECURITY DEFINER), so the
  -- role set with SET ROLE, or else the login role.
  who := CASE current_setting('role') WHEN 'none' THEN SESSION_USER ELSE current_setting('role')::name END;
  registered := EXISTS (SELECT 1 FROM ONLY platform_roles.service s WHERE s.owner_role = who);
  -- platform_ddl (the CREATE window's role) may own nothing: checked like an owner with no prefix.
  FOR obj IN
    WITH candidates AS (
      SELECT d.classid, d.objid FROM pg_event_trigger_ddl_commands() d
      WHERE d.objsubid = 0 AND NOT d.in_extension
      UNION
      SELECT 'pg_class'::regclass, c.oid FROM pg_class c
      WHERE registered AND age(c.xmin) <= 0
      UNION
      SELECT 'pg_type'::regclass, t.oid FROM pg_type t
      WHERE registered AND age(t.xmin) <= 0
      UNION
      SELECT 'pg_proc'::regclass, p.oid FROM pg_proc p
      WHERE registered AND age(p.xmin) <= 0
    )
    SELECT k.classid::regclass::text AS catalog, k.objid
    FROM candidates k
    WHERE (k.classid = 'pg_class'::regclass
           AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = k.objid
                       AND c.relowner = to_regrole('platform_ddl')))
       OR (k.classid = 'pg_type'::regclass
           AND EXISTS (SELECT 1 FROM pg_type t WHERE t.oid = k.objid
                       AND t.typowner = to_regrole('platform_ddl')))
       OR (k.classid = 'pg_proc'::regclass
           AND EXISTS (SELECT 1 FROM pg_proc p WHERE p.oid = k.objid
                       AND p.proowner = to_regrole('platform_ddl')))
    LIMIT 1
  LOOP
    RAISE EXCEPTION '% is owned by platform_ddl, which may own nothing', pg_describe_object(obj.catalog::regclass, obj.objid, 0)
      USING ERRCODE = 'invalid_name';
  END LOOP;
  FOR obj IN
    WITH candidates AS (
      SELECT d.classid, d.objid FROM pg_event_trigger_ddl_commands() d
      WHERE d.objsubid = 0 AND NOT d.in_extension
      UNION
      SELECT 'pg_class'::regclass, c.oid FROM pg_class c
      WHERE registered AND age(c.xmin) <= 0
      UNION
      SELECT 'pg_type'::regclass, t.oid FROM pg_type t
      WHERE registered AND age(t.xmin) <= 0
      UNION
      SELECT 'pg_proc'::regclass, p.oid FROM pg_proc p
      WHERE registered AND age(p.xmin) <= 0
      UNION
      SELECT 'pg_operator'::regclass, o.oid FROM pg_operator o
      WHERE registered AND age(o.xmin) <= 0
      UNION
      SELECT 'pg_namespace'::regclass, n.oid FROM pg_namespace n
      WHERE registered AND age(n.xmin) <= 0
      UNION
      SELECT 'pg_statistic_ext'::regclass, x.oid FROM pg_statistic_ext x
      WHERE registered AND age(x.xmin) <= 0
    ),
    objects AS (
      SELECT k.classid, o.kind, o.nsp, o.name, o.owner, o.operand_owners
      FROM candidates k
      CROSS JOIN LATERAL (
        SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
                              WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
                              WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'type' ELSE 'index' END,
               c.relnamespace, c.relname::text, c.relowner, NULL::oid[]
        FROM pg_class c
        WHERE k.classid = 'pg_class'::regclass
          AND c.oid = k.objid AND c.relkind <> 't'::"char"
        UNION ALL
        SELECT 'type', t.typnamespace, t.typname::text, t.typowner, NULL
        FROM pg_type t
        WHERE k.classid = 'pg_type'::regclass
          AND t.oid = k.objid
          AND (t.typrelid = 0::oid OR EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = t.typrelid AND r.relkind = 'c'))                 -- a table's row type: checked as the table
          AND NOT (t.typcategory = 'A'::"char"               -- an array type named after its element type
                   AND t.typelem <> 0::oid)
        UNION ALL
        SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
               p.pronamespace, p.proname::text, p.proowner, NULL
        FROM pg_proc p
        WHERE k.classid = 'pg_proc'::regclass
          AND p.oid = k.objid
        UNION ALL
        SELECT 'operator', o.oprnamespace, o.oprname::text, o.oprowner,
               ARRAY(SELECT t.typowner FROM pg_type t
                     WHERE t.oid = ANY (ARRAY[o.oprleft, o.oprright]))
        FROM pg_operator o
        WHERE k.classid = 'pg_operator'::regclass
          AND o.oid = k.objid
        UNION ALL
        SELECT 'schema', n.oid, n.nspname::text, n.nspowner, NULL
        FROM pg_namespace n
        WHERE k.classid = 'pg_namespace'::regclass
          AND n.oid = k.objid
        UNION ALL
        SELECT 'collation', x.collnamespace, x.collname::text, x.collowner, NULL
        FROM pg_collation x
        WHERE k.classid = 'pg_collation'::regclass
          AND x.oid = k.objid
        UNION ALL
        SELECT 'conversion', x.connamespace, x.conname::text, x.conowner, NULL
        FROM pg_conversion x
        WHERE k.classid = 'pg_conversion'::regclass
          AND x.oid = k.objid
        UNION ALL
        SELECT 'text search configuration', x.cfgnamespace, x.cfgname::text, x.cfgowner, NULL
        FROM pg_ts_config x
        WHERE k.classid = 'pg_ts_config'::regclass
          AND x.oid = k.objid
        UNION ALL
        SELECT 'text search dictionary', x.dictnamespace, x.dictname::text, x.dictowner, NULL
        FROM pg_ts_dict x
        WHERE k.classid = 'pg_ts_dict'::regclass
          AND x.oid = k.objid
        UNION ALL
        SELECT 'statistics object', x.stxnamespace, x.stxname::text, x.stxowner, NULL
        FROM pg_statistic_ext x
        WHERE k.classid = 'pg_statistic_ext'::regclass
          AND x.oid = k.objid
        UNION ALL
        SELECT 'operator class', x.opcnamespace, x.opcname::text, x.opcowner, NULL
        FROM pg_opclass x
        WHERE k.classid = 'pg_opclass'::regclass
          AND x.oid = k.objid
        UNION ALL
        SELECT 'operator family', x.opfnamespace, x.opfname::text, x.opfowner, NULL
        FROM pg_opfamily x
        WHERE k.classid = 'pg_opfamily'::regclass
          AND x.oid = k.objid
      ) o(kind, nsp, name, owner, operand_owners)
    )
    SELECT o.kind, n.nspname, o.name, s.owner_role, s.prefix, s.service, o.operand_owners IS NOT NULL AS is_operator
    FROM objects o
    JOIN pg_namespace n ON n.oid = o.nsp
    JOIN ONLY platform_roles.service s ON s.owner_role = pg_get_userbyid(o.owner)
    WHERE n.nspname <> 'pg_toast'::name
      AND NOT starts_with(n.nspname::text, 'pg_temp_'::text)
      AND NOT starts_with(n.nspname::text, 'pg_toast_temp_'::text)
      AND CASE WHEN o.operand_owners IS NOT NULL THEN NOT (o.owner = ANY (o.operand_owners))
               ELSE NOT starts_with(o.name, s.prefix) END
    ORDER BY 1, 2, 3
  LOOP
    IF obj.is_operator THEN
      RAISE EXCEPTION 'operator %.% is owned by % (service "%") but takes none of the service''s own types: an operator carries no name prefix, so a service may only define operators on its own types',
          obj.nspname, obj.name, obj.owner_role, obj.service
        USING ERRCODE = 'invalid_name',
              HINT = format('Define it on a type named "%s..." that %s owns, or use a function named "%s...".', obj.prefix, obj.owner_role, obj.prefix);
    END IF;
    RAISE EXCEPTION '% "%.%" is owned by % (service "%") but its name does not start with the service''s prefix "%"',
        obj.kind, obj.nspname, obj.name, obj.owner_role, obj.service, obj.prefix
      USING ERRCODE = 'invalid_name',
            HINT = format('Name it "%s%s" (every object owned by %s must start with "%s").',
                                     obj.prefix, obj.name, obj.owner_role, obj.prefix);
  END LOOP;
  -- The command passed: close its CREATE window.
  IF registered AND EXISTS (SELECT 1 FROM pg_auth_members a
                            WHERE a.roleid = to_regrole('platform_ddl')
                              AND a.member = who::regrole) THEN
    EXECUTE format('REVOKE platform_ddl FROM %I', who);
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
