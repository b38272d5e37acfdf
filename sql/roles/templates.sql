-- Role and grant templates of the three-tier role schema, one statement per `-- name:` block.
--
-- The applier (lambda/role-schema) inspects the catalogs, decides which of these statements are
-- needed, and renders them. Every {placeholder} is filled by lambda/role-schema/sql.ts with an
-- already-quoted identifier (pg's escapeIdentifier), a quoted literal (escapeLiteral) or a keyword
-- from a fixed list; raw text is never interpolated, and rendering fails on a missing or unknown
-- placeholder.

-- The apply lock (apply.ts); the advisory lock only before the first apply created the table.
-- name: apply_lock
DO $lock$
BEGIN
  IF pg_catalog.to_regclass('platform_roles.apply_lock') IS NULL THEN
    PERFORM pg_catalog.pg_advisory_xact_lock(7268120545120010241);
  ELSE
    LOCK TABLE platform_roles.apply_lock IN EXCLUSIVE MODE;
  END IF;
END
$lock$;

-- Retired services' sessions, ended after the commit (apply.ts, endSessions).
-- name: retired_sessions
SELECT a.pid, a.usename::pg_catalog.text AS role
FROM pg_catalog.pg_stat_activity AS a
WHERE a.usename OPERATOR(pg_catalog.=) ANY (ARRAY[{roles}]::pg_catalog.name[])
  AND a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid();

-- name: grant_role_for_signal
GRANT {role} TO CURRENT_USER WITH INHERIT TRUE, SET FALSE;

-- name: end_session
SELECT pg_catalog.pg_terminate_backend($1::pg_catalog.int4) AS ended;

-- name: create_schema
CREATE SCHEMA IF NOT EXISTS {schema};

-- name: create_role
CREATE ROLE {role} WITH {login};

-- Shown only; password_from_setting runs (credentials.ts).
-- name: create_role_with_password
CREATE ROLE {role} WITH LOGIN PASSWORD {verifier};

-- The verifier is read from the setting, never in the text; errors lose the nested statement (credentials.ts).
-- name: password_from_setting
DO $pw$
DECLARE
  s pg_catalog.text := pg_catalog.current_setting('platform_roles.verifiers', true);
  v pg_catalog.text;
BEGIN
  IF s IS NOT NULL AND s OPERATOR(pg_catalog.<>) ''::pg_catalog.text THEN
    v := s::pg_catalog.jsonb OPERATOR(pg_catalog.->>) {name}::pg_catalog.text;
  END IF;
  IF v IS NULL THEN
    RAISE EXCEPTION 'no verifier was sent for role %', {name};
  END IF;
  EXECUTE pg_catalog.format({statement}, {name}, v);
EXCEPTION WHEN OTHERS THEN
  RAISE EXCEPTION USING ERRCODE = SQLSTATE, MESSAGE = SQLERRM;
END
$pw$;

-- name: set_verifiers
SELECT pg_catalog.set_config('platform_roles.verifiers', $1::pg_catalog.text, true);

-- name: alter_role
ALTER ROLE {role} WITH {attributes};

-- name: comment_role
COMMENT ON ROLE {role} IS {comment};

-- Shown only; password_from_setting runs (credentials.ts).
-- name: set_password
ALTER ROLE {role} PASSWORD {verifier};

-- name: clear_password
ALTER ROLE {role} PASSWORD NULL;

-- The applier must hold each `{p}own` with INHERIT to run ALTER DEFAULT PRIVILEGES FOR ROLE and to
-- grant on the owner's tables (PostgreSQL 16: the ADMIN OPTION a CREATEROLE creator gets is not
-- enough, and createrole_self_grant is empty by default). SET lets an operator `SET ROLE` to it.
-- name: grant_roles_to_applier
GRANT {roles} TO CURRENT_USER WITH INHERIT TRUE, SET TRUE;

-- name: grant_membership
GRANT {group} TO {members} WITH INHERIT TRUE;

-- CASCADE: memberships the member granted on with its ADMIN OPTION go too (PostgreSQL 16 refuses
-- the revoke otherwise, "dependent privileges exist").
-- name: revoke_membership
REVOKE {group} FROM {member} GRANTED BY {grantor} CASCADE;

-- name: revoke_database_from
REVOKE ALL ON DATABASE {database} FROM {grantees};

-- name: grant_database
GRANT {privileges} ON DATABASE {database} TO {grantees};

-- name: revoke_schema_create_from_public
REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC;

-- name: revoke_schema_from
REVOKE ALL ON SCHEMA {schema} FROM {grantees};

-- name: grant_schema
GRANT {privileges} ON SCHEMA {schema} TO {grantees};

-- Future objects of `{p}own`: default privileges FOR ROLE the owner, in the application schema.
-- name: grant_default_privileges
ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} GRANT {privileges} ON {objects} TO {grantee};

-- {owner} may name several owners (FOR ROLE a, b, …): one revoke for all that need it.
-- name: revoke_default_privileges_in_schema
ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} REVOKE ALL ON {objects} FROM {grantee} CASCADE;

-- name: revoke_default_privileges_global
ALTER DEFAULT PRIVILEGES FOR ROLE {owner} REVOKE ALL ON {objects} FROM {grantee} CASCADE;

-- Existing objects of `{p}own`: grants, several objects per statement. {objecttype} is TABLE,
-- SEQUENCE or ROUTINE (functions, procedures, aggregates). REVOKE on a table also revokes the
-- privileges on each of its columns (https://www.postgresql.org/docs/16/sql-revoke.html).
-- name: grant_objects
GRANT {privileges} ON {objecttype} {objects} TO {grantee};

-- name: revoke_objects
REVOKE ALL ON {objecttype} {objects} FROM {grantee} CASCADE;

-- The registry the event trigger reads; rewritten whole, and only when its hash changed.
-- name: write_registry
DELETE FROM platform_roles.service;
INSERT INTO platform_roles.service (owner_role, prefix, service, active) VALUES {rows};
COMMENT ON TABLE platform_roles.service IS {hash};

-- name: record_credentials
INSERT INTO platform_roles.credential AS c (role, auth, salt, iterations, digest) VALUES {rows}
  ON CONFLICT (role) DO UPDATE
  SET auth = excluded.auth, salt = excluded.salt, iterations = excluded.iterations, digest = excluded.digest;

-- name: read_credentials
SELECT role, auth, salt, iterations, digest FROM platform_roles.credential;
