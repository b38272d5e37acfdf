/**
 * Decides, per login role, whether its password must be (re)set: compares the desired password
 * with what the applier recorded last time (salt + SHA-256 of the SCRAM verifier it sent), by
 * recomputing the verifier with the recorded salt. pg_authid itself is unreadable on RDS.
 *
 * A login role may change its own password (`ALTER ROLE CURRENT_USER PASSWORD …` needs no
 * privilege), and the record cannot see that. So an apply given a {@link LoginCheck} also logs in
 * as every password role with its configured password: a role the server rejects gets its
 * configured verifier back in the same apply (issue 10, scope 5).
 */
import { Client, type ClientConfig } from 'pg';
import templatesSql from '../../sql/roles/templates.sql';
import type { DesiredRole } from './desired';
import type { CredentialRow } from './inspect';
import type { CredentialAction } from './plan';
import { matchesRecorded, scramVerifier, verifierDigest } from './scram';
import { literal, parseTemplates, render } from './sql';

const PASSWORD_FROM_SETTING = parseTemplates(templatesSql).get('password_from_setting')!;

/** What password_from_setting (templates.sql) runs: %1$I the role, %2$L its verifier. */
export const PASSWORD_STATEMENTS = {
  create_role_with_password: 'CREATE ROLE %1$I WITH LOGIN PASSWORD %2$L',
  set_password: 'ALTER ROLE %1$I PASSWORD %2$L',
  set_own_password: 'ALTER ROLE CURRENT_USER PASSWORD %2$L',
} as const;

/**
 * The block that sets `role`'s verifier from the transaction-local setting
 * `platform_roles.verifiers` (sent first as a bind parameter): no verifier in the statement's text.
 * Statement texts reach pg_stat_statements (platform_monitor reads it through pg_read_all_stats),
 * pg_stat_activity and the server log. The nested CREATE/ALTER ROLE is still a statement: the
 * parameter group keeps it out of pg_stat_statements (track_utility off), and the block re-raises an
 * error without it (PL/pgSQL's CONTEXT line would carry the verifier to the log).
 */
export function passwordFromSetting(statement: keyof typeof PASSWORD_STATEMENTS, role: string): string {
  return render(PASSWORD_FROM_SETTING, { statement: literal(PASSWORD_STATEMENTS[statement]), name: literal(role) });
}

/**
 * Tries to log in as `role` with `password`: `rejected` when the server refuses the password
 * (SQLSTATE 28P01, also what a missing role gets), `unknown` for anything else (a network error,
 * NOLOGIN, a connection limit), which changes nothing.
 */
export type LoginCheck = (role: string, password: string) => Promise<'ok' | 'rejected' | 'unknown'>;

/** A {@link LoginCheck} that connects with `config(role, password)` and disconnects at once. */
export function pgLoginCheck(config: (role: string, password: string) => ClientConfig): LoginCheck {
  return async (role, password) => {
    const client = new Client(config(role, password));
    client.on('error', () => undefined);
    try {
      await client.connect();
      return 'ok';
    } catch (e) {
      return (e as { code?: string }).code === '28P01' ? 'rejected' : 'unknown';
    } finally {
      await client.end().catch(() => undefined);
    }
  };
}

/** The password roles whose configured password the server rejects, `concurrency` logins at a time. */
export async function rejectedLogins(roles: readonly DesiredRole[], check: LoginCheck, concurrency = 8): Promise<Set<string>> {
  const queue = roles.flatMap((r) => (r.auth.kind === 'password' ? [{ name: r.name, password: r.auth.password }] : []));
  const out = new Set<string>();
  const worker = async () => {
    for (let r = queue.shift(); r !== undefined; r = queue.shift()) {
      if ((await check(r.name, r.password)) === 'rejected') out.add(r.name);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  return out;
}

export async function resolveCredentials(
  roles: readonly DesiredRole[],
  recorded: readonly CredentialRow[],
  existing: ReadonlySet<string>,
  /** Roles whose configured password failed a login check: set again even when the record matches. */
  rejected: ReadonlySet<string> = new Set(),
): Promise<Map<string, CredentialAction>> {
  const byRole = new Map(recorded.map((r) => [r.role, r]));
  const entries = await Promise.all(
    roles.map(async (role): Promise<[string, CredentialAction]> => {
      const rec = byRole.get(role.name);
      const exists = existing.has(role.name);
      switch (role.auth.kind) {
        case 'none':
          return [role.name, { kind: 'keep' }];
        case 'iam':
          // Recorded as `iam` once; an existing role's password is cleared then (a new one has none).
          return [role.name, rec?.auth === 'iam' && exists ? { kind: 'keep' } : { kind: 'iam', clearPassword: exists }];
        case 'password': {
          if (exists && !rejected.has(role.name) && rec?.auth === 'password' && rec.salt && rec.iterations && rec.digest) {
            if (await matchesRecorded(role.auth.password, { salt: rec.salt, iterations: rec.iterations, digest: rec.digest })) {
              return [role.name, { kind: 'keep' }];
            }
          }
          const v = await scramVerifier(role.auth.password);
          return [role.name, { kind: 'set', verifier: v.verifier, salt: v.salt, iterations: v.iterations, digest: verifierDigest(v.verifier) }];
        }
      }
    }),
  );
  return new Map(entries);
}
