/**
 * Decides, per login role, whether its password must be (re)set: compares the desired password
 * with what the applier recorded last time (salt + SHA-256 of the SCRAM verifier it sent), by
 * recomputing the verifier with the recorded salt. pg_authid itself is unreadable on RDS.
 */
import type { DesiredRole } from './desired';
import type { CredentialRow } from './inspect';
import type { CredentialAction } from './plan';
import { matchesRecorded, scramVerifier, verifierDigest } from './scram';

export async function resolveCredentials(
  roles: readonly DesiredRole[],
  recorded: readonly CredentialRow[],
  existing: ReadonlySet<string>,
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
          if (exists && rec?.auth === 'password' && rec.salt && rec.iterations && rec.digest) {
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
