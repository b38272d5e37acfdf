/**
 * The applier: inspect, diff, apply, in one transaction under the apply lock.
 *
 * Round trips: 1) BEGIN + timeouts + apply lock + inspect; 2) the recorded credentials (only
 * when the state exists and some role has a credential); 3) the new SCRAM verifiers as one bind
 * parameter (only when a password is set: no verifier is ever part of a statement's text); 4) every
 * planned statement and COMMIT as one batch, or ROLLBACK when there is nothing to do, followed by
 * the look for open sessions of retired services' roles (ended next, only if there are any). So a
 * no-op re-apply executes no DDL, and the number of round trips does not grow with the number of
 * services.
 *
 * The apply lock serialises concurrent applies (two deploys, a deploy and the CLI): the second
 * one inspects only after the first committed, finds nothing left to do, and no "tuple
 * concurrently updated" can happen between them. It is EXCLUSIVE on platform_roles.apply_lock,
 * which only the applier can lock (templates.sql, apply_lock): an advisory lock would let any
 * login block every apply.
 */
import type { ClientBase, QueryResult } from 'pg';
import templatesSql from '../../sql/roles/templates.sql';
import { rejectedLogins, resolveCredentials, type LoginCheck } from './credentials';
import type { DesiredState } from './desired';
import { inspectQuery, type CatalogState, type CredentialRow } from './inspect';
import { planStatements, summarize, type Statement } from './plan';
import { ident, list, literal, parseTemplates, render } from './sql';
import { parseRoleComment } from './desired';
import { SET_LOCAL_SAFE_SEARCH_PATH } from '../shared/safe-session';


export interface ApplyOptions {
  /** `plan` inspects and plans, then rolls back. @default 'apply' */
  readonly mode?: 'apply' | 'plan';
  /**
   * Which statements to run: `main` (everything a CREATEROLE role may do), `privileged`
   * (extensions and the event trigger: a superuser, or rds_superuser on RDS), or `all`.
   * @default 'all'
   */
  readonly steps?: 'all' | 'main' | 'privileged';
  /** lock_timeout for the apply, in ms (the advisory lock wait included). @default 30000 */
  readonly lockTimeoutMs?: number;
  /** statement_timeout for the apply, in ms. @default 120000 */
  readonly statementTimeoutMs?: number;
  /**
   * Logs in as each password role with its configured password (alongside the first round trip);
   * a role the server rejects — it changed its own password — gets its configured verifier back.
   * The custom resource and the CLI pass one. @default no check: only the recorded digest decides
   */
  readonly checkLogin?: LoginCheck;
}

export interface ApplyResult {
  readonly database: string;
  readonly user: string;
  /** The statements of the selected steps: executed (apply) or that would be (plan). */
  readonly statements: readonly Statement[];
  /** Statements of the steps that were not selected. */
  readonly skipped: readonly Statement[];
  readonly executed: number;
  readonly changed: boolean;
  readonly roundTrips: number;
  /** Statement counts by kind. */
  readonly summary: Record<string, number>;
  /** Drift the apply could not repair, by name (e.g. a membership granted by a superuser). */
  readonly warnings: readonly string[];
  /** Sessions of retired services' roles that the apply ended (after its commit). */
  readonly endedSessions: number;
}

/** A failure with a message fit for CloudFormation and a terminal: what failed, and where. */
export class RoleSchemaError extends Error {
  constructor(
    message: string,
    readonly details: { readonly statement?: string; readonly code?: string } = {},
  ) {
    super(message);
    this.name = 'RoleSchemaError';
  }
}

const TEMPLATES = parseTemplates(templatesSql);
/** The lock every apply takes (templates.sql, apply_lock). */
const APPLY_LOCK = TEMPLATES.get('apply_lock')!;
/** Key of the advisory lock the first apply takes, before the lock table exists. */
export const ADVISORY_LOCK_KEY = /pg_advisory_xact_lock\((\d+)\)/.exec(APPLY_LOCK)![1];
const READ_CREDENTIALS = TEMPLATES.get('read_credentials')!;
const SET_VERIFIERS = TEMPLATES.get('set_verifiers')!;
const RETIRED_SESSIONS = TEMPLATES.get('retired_sessions')!;
const GRANT_ROLE_FOR_SIGNAL = TEMPLATES.get('grant_role_for_signal')!;
const END_SESSION = TEMPLATES.get('end_session')!;

/**
 * The verifiers the statements read from `platform_roles.verifiers`, as the one bind parameter of
 * set_verifiers (templates.sql): a verifier never becomes part of a statement's text.
 */
export function verifiersParameter(statements: readonly Statement[]): string | undefined {
  const all: Record<string, string> = {};
  for (const st of statements) Object.assign(all, st.verifiers ?? {});
  return Object.keys(all).length ? JSON.stringify(all) : undefined;
}

interface PgError extends Error {
  code?: string;
  detail?: string;
  hint?: string;
}

function describe(e: unknown): string {
  const pe = e as PgError;
  const parts = [pe?.message ?? String(e)];
  if (pe?.code) parts.push(`(SQLSTATE ${pe.code})`);
  if (pe?.detail) parts.push(`detail: ${pe.detail}`);
  if (pe?.hint) parts.push(`hint: ${pe.hint}`);
  return parts.join(' ');
}

function lastRows(r: QueryResult | QueryResult[]): QueryResult['rows'] {
  return (Array.isArray(r) ? r[r.length - 1] : r).rows;
}

function millis(v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid timeout ${v}`);
  return n;
}

export async function applyRoleSchema(client: ClientBase, desired: DesiredState, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const steps = opts.steps ?? 'all';
  const mode = opts.mode ?? 'apply';
  let roundTrips = 0;
  const q = (text: string): Promise<QueryResult | QueryResult[]> => {
    roundTrips++;
    return client.query(text) as unknown as Promise<QueryResult | QueryResult[]>;
  };
  const begin = [
    'BEGIN',
    // No user-writable schema on the path, whatever the session was opened with (safe-session.ts).
    SET_LOCAL_SAFE_SEARCH_PATH,
    `SET LOCAL lock_timeout = ${millis(opts.lockTimeoutMs, 30_000)}`,
    `SET LOCAL statement_timeout = ${millis(opts.statementTimeoutMs, 120_000)}`,
    APPLY_LOCK,
  ].join(';\n');

  let open = false;
  const rollback = async () => {
    if (!open) return;
    open = false;
    try {
      await q('ROLLBACK');
    } catch {
      /* the connection is gone; nothing to roll back */
    }
  };

  try {
    let state: CatalogState;
    // Logins run while the catalogs are inspected; they need nothing from the apply's transaction.
    const rejected = opts.checkLogin && steps !== 'privileged' ? rejectedLogins(desired.roles, opts.checkLogin) : Promise.resolve(new Set<string>());
    rejected.catch(() => undefined);
    try {
      open = true;
      state = lastRows(await q(`${begin};\n${inspectQuery(desired)}`))[0].state as CatalogState;
    } catch (e) {
      const pe = e as PgError;
      if (pe.code === '55P03') throw new RoleSchemaError(`another role-schema apply held the lock for longer than the lock timeout: ${describe(e)}`, { code: pe.code });
      if (pe.code === '42703') throw new RoleSchemaError(`inspecting the catalogs failed; the role schema needs PostgreSQL 16 or later: ${describe(e)}`, { code: pe.code });
      throw new RoleSchemaError(`inspecting the catalogs failed: ${describe(e)}`, { code: pe.code });
    }

    let recorded: CredentialRow[] = [];
    // The privileged step alone does not touch credentials: no need to read or verify them.
    const forCredentials = steps === 'privileged' ? { ...desired, roles: desired.roles.map((r) => ({ ...r, auth: { kind: 'none' as const } })) } : desired;
    if (state.hasCredentials && forCredentials.roles.some((r) => r.auth.kind !== 'none')) {
      recorded = lastRows(await q(READ_CREDENTIALS)) as CredentialRow[];
    }
    const credentials = await resolveCredentials(forCredentials.roles, recorded, new Set(state.roles.map((r) => r.name)), await rejected);
    const warnings: string[] = [];
    const all = planStatements(state, forCredentials, credentials, warnings, { privilegedStep: steps !== 'main' });
    const selected = all.filter((st) => steps === 'all' || st.step === steps);
    const skipped = all.filter((st) => !selected.includes(st));

    if (selected.some((st) => st.step === 'privileged') && !state.privileged) {
      throw new RoleSchemaError(
        `role "${state.user}" is neither a superuser nor a member of rds_superuser, so it cannot create ${[
          ...new Set(selected.filter((st) => st.step === 'privileged').map((st) => (st.kind === 'extension' ? 'extensions' : 'the event trigger'))),
        ].join(' or ')}: connect as the RDS master user (or a superuser), or skip the privileged step (CLI: --skip-privileged or --skip-event-trigger)`,
      );
    }
    if (steps === 'privileged' && skipped.some((st) => st.kind === 'state')) {
      throw new RoleSchemaError('the role schema state (platform_roles) is missing or outdated: run the main step before the privileged one');
    }

    // Sessions of retired services' roles are looked for after the commit (in the same round trip)
    // and ended: NOLOGIN stops new ones only.
    const retired = mode === 'apply' && steps !== 'privileged' ? retiredRoles(state, desired) : [];
    const sessionsSql = retired.length ? `;\n${render(RETIRED_SESSIONS, { roles: list(retired.map((r) => literal(r))) })}` : '';
    let endedSessions = 0;

    const result = (executed: number): ApplyResult => ({
      database: state.database,
      user: state.user,
      statements: selected,
      skipped,
      executed,
      changed: executed > 0,
      roundTrips,
      summary: summarize(selected),
      // Memberships are main-step work: the privileged step alone does not repeat its warnings.
      warnings: steps === 'privileged' ? [] : warnings,
      endedSessions,
    });

    if (mode === 'plan' || selected.length === 0) {
      if (sessionsSql) {
        open = false;
        endedSessions = await endSessions(client, lastRows(await q(`ROLLBACK${sessionsSql}`)) as Session[], warnings);
      }
      await rollback();
      return result(0);
    }

    const verifiers = verifiersParameter(selected);
    try {
      if (verifiers !== undefined) {
        roundTrips++;
        await client.query(SET_VERIFIERS, [verifiers]);
      }
      // COMMIT rides in the same batch; on an error the server skips the rest and the
      // transaction stays open (aborted) until the ROLLBACK below.
      const done = await q(`${selected.map((st) => st.sql).join(';\n')};\nCOMMIT${sessionsSql}`);
      open = false;
      if (sessionsSql) endedSessions = await endSessions(client, lastRows(done) as Session[], warnings);
    } catch (e) {
      await rollback();
      throw await diagnose(client, begin, selected, verifiers, e);
    }
    return result(selected.length);
  } finally {
    await rollback();
  }
}

interface Session {
  readonly pid: number;
  readonly role: string;
}

/** Roles of retired services: they carry this database's marker but left the registry (as plan.ts decides). */
function retiredRoles(state: CatalogState, desired: DesiredState): string[] {
  const wanted = new Set(desired.roles.map((r) => r.name));
  return state.roles
    .filter((r) => !wanted.has(r.name) && parseRoleComment(r.comment)?.db === state.database)
    .map((r) => r.name)
    .sort();
}

/**
 * Ends the given sessions (of retired roles), in a transaction that is rolled back: it only holds
 * the temporary memberships PostgreSQL 16 asks for. A non-superuser may signal a role's backends
 * only with that role's privileges (an INHERIT membership) or pg_signal_backend; a CREATEROLE
 * applier holds ADMIN on the roles it created, without INHERIT
 * (https://www.postgresql.org/docs/16/functions-admin.html#FUNCTIONS-ADMIN-SIGNAL). A session that
 * cannot be ended is named in `warnings`; the next apply tries again.
 */
async function endSessions(client: ClientBase, sessions: readonly Session[], warnings: string[]): Promise<number> {
  if (sessions.length === 0) return 0;
  let ended = 0;
  await client.query(`BEGIN;\n${SET_LOCAL_SAFE_SEARCH_PATH}`);
  try {
    for (const role of [...new Set(sessions.map((x) => x.role))]) {
      await client.query('SAVEPOINT signal_grant');
      try {
        await client.query(render(GRANT_ROLE_FOR_SIGNAL, { role: ident(role) }));
      } catch {
        await client.query('ROLLBACK TO SAVEPOINT signal_grant'); // ending its sessions will say why
      }
    }
    for (const x of sessions) {
      await client.query('SAVEPOINT end_session');
      try {
        if ((await client.query(END_SESSION, [x.pid])).rows[0]?.ended) ended++;
      } catch (e) {
        await client.query('ROLLBACK TO SAVEPOINT end_session');
        warnings.push(`could not end session ${x.pid} of retired role "${x.role}": ${(e as Error).message}`);
      }
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
  return ended;
}

/**
 * After a failed batch: replays the statements one by one in a fresh transaction (rolled back) to
 * name the one that fails, so the error says which statement and why.
 */
async function diagnose(client: ClientBase, begin: string, statements: readonly Statement[], verifiers: string | undefined, original: unknown): Promise<RoleSchemaError> {
  const pe = original as PgError;
  try {
    await client.query(begin);
    if (verifiers !== undefined) await client.query(SET_VERIFIERS, [verifiers]);
    for (const st of statements) {
      try {
        await client.query(st.sql);
      } catch (e) {
        return new RoleSchemaError(`role-schema statement failed: ${describe(e)}; statement: ${st.display}`, { statement: st.display, code: (e as PgError).code });
      }
    }
  } catch {
    /* fall through to the original error */
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
  return new RoleSchemaError(`applying the role schema failed: ${describe(original)}`, { code: pe?.code });
}
