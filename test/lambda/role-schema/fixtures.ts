/**
 * Shared setup for the role-schema tests on a real PostgreSQL 16, shaped like RDS: the applier is
 * a NON-superuser with CREATEROLE and CREATEDB that owns the application database, holds
 * pg_monitor and rds_iam WITH ADMIN OPTION (as rds_superuser does), and a superuser is used only
 * for the privileged step (event trigger, extension).
 */
import type { Client } from 'pg';
import { applyRoleSchema, type ApplyOptions, type ApplyResult } from '../../../lambda/role-schema/apply';
import { buildDesired, type DesiredInput, type DesiredState } from '../../../lambda/role-schema/desired';
import type { ServiceInput } from '../../../lib/config/service-registry';
import type { TestPostgres } from '../../support/postgres';

export const APPLIER = 'applier';
export const APPLIER_PASSWORD = 'applier-pw-3c1f';

/** The password every test gives a login role: deterministic, so tests can log in. */
export const passwordOf = (role: string) => `Pw-${role}-7f3a9c2e1b`;

/** Run once per cluster. */
export async function setupCluster(pg: TestPostgres): Promise<void> {
  await pg.query(`CREATE ROLE ${APPLIER} LOGIN PASSWORD '${APPLIER_PASSWORD}' CREATEROLE CREATEDB`);
  await pg.query('CREATE ROLE rds_iam NOLOGIN');
  await pg.query(`GRANT rds_iam, pg_monitor TO ${APPLIER} WITH ADMIN OPTION`);
}

/** A fresh database owned by the applier, as CloudFormation's DatabaseName is owned by the master user. */
export async function createDatabase(pg: TestPostgres, name: string): Promise<void> {
  await pg.query(`CREATE DATABASE ${name} OWNER ${APPLIER}`);
}

export function applierConnection(pg: TestPostgres, database: string): Promise<Client> {
  return pg.connect({ user: APPLIER, password: APPLIER_PASSWORD, database });
}

export function loginAs(pg: TestPostgres, role: string, database: string): Promise<Client> {
  return pg.connect({ user: role, password: passwordOf(role), database });
}

export function desiredFor(services: readonly ServiceInput[], extra: Partial<DesiredInput> = {}): DesiredState {
  return buildDesired({ appSchema: 'public', services, password: passwordOf, ...extra });
}

/** The main step as the applier, then the privileged step as the superuser, as the tests' RDS stand-in. */
export async function applyBoth(pg: TestPostgres, database: string, desired: DesiredState, opts: ApplyOptions = {}): Promise<{ main: ApplyResult; privileged: ApplyResult }> {
  const a = await applierConnection(pg, database);
  const su = await pg.connect({ database });
  try {
    const main = await applyRoleSchema(a, desired, { ...opts, steps: 'main' });
    const privileged = await applyRoleSchema(su, desired, { ...opts, steps: 'privileged' });
    return { main, privileged };
  } finally {
    await a.end();
    await su.end();
  }
}

/** Runs SQL and returns 'ok' or the error message (for the privilege matrix). */
export async function attempt(client: Client, sql: string): Promise<string> {
  try {
    await client.query(sql);
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}

/** Wraps a client so every SQL text it sends is recorded. */
export function recording(client: Client): { client: Client; sent: string[] } {
  const sent: string[] = [];
  const original = client.query.bind(client) as (...a: unknown[]) => unknown;
  (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const first = args[0];
    sent.push(typeof first === 'string' ? first : String((first as { text?: string })?.text));
    return original(...args);
  };
  return { client, sent };
}

/** Statements that change the catalogs, found in SQL texts (comments removed). */
export function ddlIn(texts: readonly string[]): string[] {
  return texts
    .flatMap((t) => t.replace(/--[^\n]*/g, '').split(/;\s*\n?/))
    .map((t) => t.trim())
    .filter((t) => /^(CREATE|ALTER|DROP|GRANT|REVOKE|COMMENT|INSERT|UPDATE|DELETE)\b/i.test(t));
}
