-- Everything the role-schema planner compares with the desired state, as one JSON document read
-- in one statement (it runs right after the advisory lock, in the same round trip).
-- {input} is a JSON literal: {"roles": [desired role names], "schema": "<app schema>",
-- "marker": "<comment prefix of managed roles>"}. Roles that are not desired but carry the marker
-- in their comment are the retired ones (a service removed from the registry).
-- ACLs are expanded with aclexplode; a NULL ACL means the built-in default (acldefault).
-- It runs with search_path = pg_catalog, pg_temp (lambda/shared/safe-session.ts); besides, functions
-- are qualified with pg_catalog and comparisons of mixed or unknown-typed operands name pg_catalog's
-- operator, so that no look-alike planted in a user schema can match more exactly (issue 10).
WITH input AS (
  SELECT {input}::jsonb AS j
),
me AS (
  SELECT r.oid, r.rolname, r.rolsuper
  FROM pg_catalog.pg_roles r
  WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER
),
managed AS (
  SELECT r.oid, r.rolname, r.rolcanlogin, r.rolsuper, r.rolcreatedb, r.rolcreaterole,
         r.rolreplication, r.rolbypassrls, pg_catalog.shobj_description(r.oid, 'pg_authid') AS comment
  FROM pg_catalog.pg_roles r, input
  WHERE r.rolname::pg_catalog.text OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.jsonb_array_elements_text(input.j OPERATOR(pg_catalog.->) 'roles'::pg_catalog.text)))
     OR pg_catalog.starts_with(coalesce(pg_catalog.shobj_description(r.oid, 'pg_authid'::pg_catalog.name), ''::pg_catalog.text), input.j OPERATOR(pg_catalog.->>) 'marker'::pg_catalog.text)
),
db AS (
  SELECT d.oid, d.datname, d.datdba, coalesce(d.datacl, pg_catalog.acldefault('d'::"char", d.datdba)) AS acl
  FROM pg_catalog.pg_database d
  WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()
),
app_schema AS (
  SELECT n.oid, n.nspname, coalesce(n.nspacl, pg_catalog.acldefault('n'::"char", n.nspowner)) AS acl
  FROM pg_catalog.pg_namespace n, input
  WHERE n.nspname::pg_catalog.text OPERATOR(pg_catalog.=) (input.j OPERATOR(pg_catalog.->>) 'schema'::pg_catalog.text)
)
SELECT pg_catalog.json_build_object(
  'user', (SELECT rolname FROM me),
  'superuser', (SELECT rolsuper FROM me),
  'privileged', (SELECT rolsuper FROM me)
      OR coalesce((SELECT pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER')
                   FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) 'rds_superuser'::pg_catalog.name), false),
  'serverVersion', pg_catalog.current_setting('server_version_num')::int,
  'inRecovery', pg_catalog.pg_is_in_recovery(),
  'database', (SELECT datname FROM db),
  'databaseAcl', (
    SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
             'grantee', CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
             'privilege', a.privilege_type, 'grantable', a.is_grantable)), '[]')
    FROM db, pg_catalog.aclexplode(db.acl) a),
  'schemaExists', EXISTS (SELECT 1 FROM app_schema),
  'schemaAcl', (
    SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
             'grantee', CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
             'privilege', a.privilege_type, 'grantable', a.is_grantable)), '[]')
    FROM app_schema, pg_catalog.aclexplode(app_schema.acl) a),
  'roles', (
    SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
             'name', m.rolname, 'login', m.rolcanlogin, 'superuser', m.rolsuper, 'createdb', m.rolcreatedb,
             'createrole', m.rolcreaterole, 'replication', m.rolreplication, 'bypassrls', m.rolbypassrls,
             'comment', m.comment)), '[]')
    FROM managed m),
  'existingRoles', (
    SELECT coalesce(pg_catalog.json_agg(r.rolname), '[]')
    FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) ANY ('{rds_iam,pg_monitor,rds_superuser}'::pg_catalog.name[])),
  -- Every membership of a managed role, and every membership in one (whoever the member). Whether
  -- the applier may revoke it: a superuser may; otherwise only if it has the privileges of the
  -- grantor (PostgreSQL 16 refuses REVOKE … GRANTED BY a role the current user does not act for).
  -- memberAdmin: the member is a superuser or has CREATEROLE (an administrator, not a service).
  'memberships', (
    SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
             'role', pg_catalog.pg_get_userbyid(am.roleid), 'member', pg_catalog.pg_get_userbyid(am.member),
             'grantor', pg_catalog.pg_get_userbyid(am.grantor), 'admin', am.admin_option,
             'inherit', am.inherit_option, 'set', am.set_option,
             'revocable', (SELECT me.rolsuper FROM me) OR pg_catalog.pg_has_role((SELECT me.oid FROM me), am.grantor, 'USAGE'::pg_catalog.text),
             'memberAdmin', (SELECT mr.rolsuper OR mr.rolcreaterole FROM pg_catalog.pg_roles mr WHERE mr.oid OPERATOR(pg_catalog.=) am.member))), '[]')
    FROM pg_catalog.pg_auth_members am
    WHERE am.member IN (SELECT oid FROM managed)
       OR am.roleid IN (SELECT oid FROM managed)),
  'defaultAcls', (
    SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
             'owner', m.rolname, 'schema', n.nspname, 'objtype', d.defaclobjtype,
             'acl', (SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
                        'grantee', CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
                        'privilege', a.privilege_type, 'grantable', a.is_grantable)), '[]')
                     FROM pg_catalog.aclexplode(d.defaclacl) a))), '[]')
    FROM pg_catalog.pg_default_acl d
    JOIN managed m ON m.oid = d.defaclrole
    LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace),
  -- Relations owned by managed roles, with their ACL and their columns' ACLs (column privileges).
  'objects', (
    SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
             'schema', n.nspname, 'name', c.relname, 'kind', c.relkind, 'owner', m.rolname,
             'acl', (SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
                        'grantee', CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
                        'privilege', a.privilege_type, 'grantable', a.is_grantable)), '[]')
                     FROM pg_catalog.aclexplode(coalesce(c.relacl,
                            pg_catalog.acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))) a),
             'columnAcl', (SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
                        'grantee', CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
                        'privilege', a.privilege_type, 'grantable', a.is_grantable)), '[]')
                     FROM pg_catalog.pg_attribute att, pg_catalog.aclexplode(att.attacl) a
                     WHERE att.attrelid OPERATOR(pg_catalog.=) c.oid AND att.attacl IS NOT NULL))), '[]')
    FROM pg_catalog.pg_class c
    JOIN managed m ON m.oid = c.relowner
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND NOT pg_catalog.starts_with(n.nspname::pg_catalog.text, 'pg_temp_'::pg_catalog.text)
      AND NOT pg_catalog.starts_with(n.nspname::pg_catalog.text, 'pg_toast'::pg_catalog.text)),
  -- Functions, procedures and aggregates owned by managed roles, with their ACL (a NULL proacl is
  -- the built-in default: EXECUTE to PUBLIC). signature is regprocedure's output, which the server
  -- quotes (identifiers and type names), qualified since no user schema is on the search_path.
  'routines', (
    SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
             'signature', p.oid::pg_catalog.regprocedure::pg_catalog.text, 'owner', m.rolname, 'securityDefiner', p.prosecdef,
             'acl', (SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
                        'grantee', CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
                        'privilege', a.privilege_type, 'grantable', a.is_grantable)), '[]')
                     FROM pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f'::"char", p.proowner))) a))), '[]')
    FROM pg_catalog.pg_proc p
    JOIN managed m ON m.oid = p.proowner
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE NOT pg_catalog.starts_with(n.nspname::pg_catalog.text, 'pg_temp_'::pg_catalog.text)),
  'extensions', (
    SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object('name', e.extname, 'schema', n.nspname)), '[]')
    FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace),
  'statsSchema', pg_catalog.to_regnamespace('platform_stats') IS NOT NULL,
  'eventTrigger', (
    SELECT pg_catalog.json_build_object('enabled', t.evtenabled, 'function', t.evtfoid::pg_catalog.regprocedure::text)
    FROM pg_catalog.pg_event_trigger t WHERE t.evtname OPERATOR(pg_catalog.=) 'platform_roles_enforce_prefix'::pg_catalog.name),
  -- The prefix-enforcement function and its schema (sql/roles/event-trigger.sql): who owns them,
  -- who else may create in the schema, and what the function is now (the planner repairs drift).
  'guard', (
    SELECT pg_catalog.json_build_object(
             'schemaOwner', pg_catalog.pg_get_userbyid(n.nspowner),
             'schemaOwnerPrivileged', r.rolsuper OR coalesce((SELECT pg_catalog.pg_has_role(r.oid, x.oid, 'MEMBER')
                   FROM pg_catalog.pg_roles x WHERE x.rolname OPERATOR(pg_catalog.=) 'rds_superuser'::pg_catalog.name), false),
             'schemaGrantees', (SELECT coalesce(pg_catalog.json_agg(DISTINCT CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END), '[]')
                   FROM pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n'::"char", n.nspowner))) a
                   WHERE a.grantee OPERATOR(pg_catalog.<>) n.nspowner),
             'functions', (
               SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
                        'name', p.proname,
                        'owner', pg_catalog.pg_get_userbyid(p.proowner),
                        'ownerPrivileged', o.rolsuper OR coalesce((SELECT pg_catalog.pg_has_role(o.oid, x.oid, 'MEMBER')
                              FROM pg_catalog.pg_roles x WHERE x.rolname OPERATOR(pg_catalog.=) 'rds_superuser'::pg_catalog.name), false),
                        'sourceMd5', pg_catalog.md5(p.prosrc),
                        'securityDefiner', p.prosecdef,
                        'config', p.proconfig,
                        'language', (SELECT l.lanname FROM pg_catalog.pg_language l WHERE l.oid OPERATOR(pg_catalog.=) p.prolang))), '[]')
               FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_roles o ON o.oid OPERATOR(pg_catalog.=) p.proowner
               WHERE p.pronamespace OPERATOR(pg_catalog.=) n.oid),
             'triggers', (
               SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
                        'name', t.evtname, 'event', t.evtevent, 'enabled', t.evtenabled, 'function', t.evtfoid::pg_catalog.regprocedure::pg_catalog.text)), '[]')
               FROM pg_catalog.pg_event_trigger t
               WHERE pg_catalog.starts_with(t.evtname::pg_catalog.text, 'platform_roles_'::pg_catalog.text)),
             'ddlRole', (
               SELECT pg_catalog.json_build_object(
                        'login', d.rolcanlogin OR d.rolsuper OR d.rolcreaterole OR d.rolcreatedb OR d.rolbypassrls OR d.rolreplication,
                        'members', (SELECT coalesce(pg_catalog.json_agg(pg_catalog.pg_get_userbyid(a.member)), '[]')
                                    FROM pg_catalog.pg_auth_members a WHERE a.roleid OPERATOR(pg_catalog.=) d.oid),
                        'memberOf', (SELECT coalesce(pg_catalog.json_agg(pg_catalog.pg_get_userbyid(a.roleid)), '[]')
                                     FROM pg_catalog.pg_auth_members a WHERE a.member OPERATOR(pg_catalog.=) d.oid))
               FROM pg_catalog.pg_roles d WHERE d.rolname OPERATOR(pg_catalog.=) 'platform_ddl'::pg_catalog.name))
    FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
    WHERE n.nspname OPERATOR(pg_catalog.=) 'platform_guard'::pg_catalog.name),
  'stateVersion', pg_catalog.obj_description(pg_catalog.to_regnamespace('platform_roles'), 'pg_namespace'),
  'registryHash', pg_catalog.obj_description(pg_catalog.to_regclass('platform_roles.service'), 'pg_class'),
  'hasCredentials', pg_catalog.to_regclass('platform_roles.credential') IS NOT NULL
) AS state;
