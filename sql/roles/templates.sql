-- Role and grant templates of the three-tier role schema, one statement per `-- name:` block.
--
-- The applier (lambda/role-schema) inspects the catalogs, decides which of these statements are
-- needed, and renders them. Every {placeholder} is filled by lambda/role-schema/sql.ts with an
-- already-quoted identifier (pg's escapeIdentifier), a quoted literal (escapeLiteral) or a keyword
-- from a fixed list; raw text is never interpolated, and rendering fails on a missing or unknown
-- placeholder.

-- name: create_schema
CREATE SCHEMA IF NOT EXISTS {schema};

-- name: create_role
CREATE ROLE {role} WITH {login};

-- name: create_role_with_password
CREATE ROLE {role} WITH LOGIN PASSWORD {verifier};

-- name: alter_role
ALTER ROLE {role} WITH {attributes};

-- name: comment_role
COMMENT ON ROLE {role} IS {comment};

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

-- name: revoke_membership
REVOKE {group} FROM {member} GRANTED BY {grantor};

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

-- name: revoke_default_privileges_in_schema
ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} REVOKE ALL ON {objects} FROM {grantee} CASCADE;

-- name: revoke_default_privileges_global
ALTER DEFAULT PRIVILEGES FOR ROLE {owner} REVOKE ALL ON {objects} FROM {grantee} CASCADE;

-- Existing objects of `{p}own`: grants, several objects per statement.
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
