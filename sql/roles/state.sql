-- The role schema's own state, in a schema only the applier (its owner) can read or write:
--   service     the prefix registry the event trigger reads (active and retired services);
--   apply_lock  the lock every apply takes (below);
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

-- Only its owner (the applier) can lock it EXCLUSIVE: see apply.ts.
CREATE TABLE IF NOT EXISTS platform_roles.apply_lock ();

REVOKE ALL ON ALL TABLES IN SCHEMA platform_roles FROM PUBLIC;

-- The prefix-enforcement function that reads `service` is not here: it lives in schema
-- platform_guard, owned by the privileged role (sql/roles/event-trigger.sql), so that the applier,
-- which owns this schema, can neither drop nor replace it.

COMMENT ON SCHEMA platform_roles IS {version};
