/**
 * Single-user rotation of a login role's secret (Secrets Manager's four steps), shared by every
 * rotated secret of the role schema. The new password is set as a client-computed SCRAM verifier,
 * logged in as the role itself, so no plaintext password reaches the server — unlike the
 * AWS-provided rotation functions, which send `ALTER USER … PASSWORD '<plaintext>'`. The verifier
 * is not part of any statement's text either: it is sent as a bind parameter and read back by a
 * block (templates.sql, password_from_setting), so it reaches neither pg_stat_statements
 * nor pg_stat_activity nor the statement log.
 *
 * Why single-user and not alternating users: the alternating strategy clones the role
 * (`gtapp_clone`) and flips the secret between the two. The clone would be a role the registry
 * does not know: it gets no direct grants of its own (ours are granted to `{p}app`/`{p}user`
 * directly, not through membership), the applier would never lock it out when the service is
 * removed, and for `{p}own` anything the clone created would be owned by the clone, escaping the
 * `FOR ROLE {p}own` default privileges and the prefix check. Single-user rotation keeps exactly
 * one role per account; sessions already open keep working, new ones use the new password.
 */
import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { Client } from 'pg';
import { scramVerifier } from './scram';
import { parseDbSecret, type DbSecret } from './secrets';
import templatesSql from '../../sql/roles/templates.sql';
import { passwordFromSetting } from './credentials';
import { parseTemplates } from './sql';

const SET_VERIFIERS = parseTemplates(templatesSql).get('set_verifiers')!;

/** Sets the session user's password to `verifier` in one transaction; the verifier travels only as a bind parameter. */
export async function setOwnVerifier(client: Pick<Client, 'query'>, role: string, verifier: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(SET_VERIFIERS, [JSON.stringify({ [role]: verifier })]);
    await client.query(passwordFromSetting('set_own_password', role));
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
}

export interface RotationDeps {
  readonly secrets: SecretsManagerClient;
  /** Connects as the secret's user to its host/port/dbname. */
  readonly connect: (secret: DbSecret) => Promise<Client>;
  /** Characters the generated password must not contain (CDK DatabaseSecret's set). */
  readonly excludeCharacters: string;
  /** @default 32 */
  readonly passwordLength?: number;
}

async function getSecret(deps: RotationDeps, id: string, stage: string, versionId?: string): Promise<{ secret: DbSecret; raw: Record<string, unknown> } | undefined> {
  try {
    const r = await deps.secrets.send(new GetSecretValueCommand({ SecretId: id, VersionStage: stage, VersionId: versionId }));
    return { secret: parseDbSecret(id, r.SecretString), raw: JSON.parse(r.SecretString!) as Record<string, unknown> };
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundException') return undefined;
    throw e;
  }
}

async function canLogin(deps: RotationDeps, secret: DbSecret): Promise<Client | undefined> {
  try {
    return await deps.connect(secret);
  } catch {
    return undefined;
  }
}

export async function rotate(event: RotationEvent, deps: RotationDeps): Promise<void> {
  const { SecretId: id, ClientRequestToken: token, Step: step } = event;
  const meta = await deps.secrets.send(new DescribeSecretCommand({ SecretId: id }));
  if (!meta.RotationEnabled) throw new Error(`secret ${id} does not have rotation enabled`);
  const stages = meta.VersionIdsToStages?.[token];
  if (!stages) throw new Error(`secret version ${token} has no stage for rotation of ${id}`);
  if (stages.includes('AWSCURRENT')) return; // already rotated
  if (!stages.includes('AWSPENDING')) throw new Error(`secret version ${token} is not AWSPENDING for rotation of ${id}`);

  switch (step) {
    case 'createSecret': {
      const current = await getSecret(deps, id, 'AWSCURRENT');
      if (!current) throw new Error(`secret ${id} has no AWSCURRENT version`);
      if (await getSecret(deps, id, 'AWSPENDING', token)) return;
      const pw = await deps.secrets.send(
        new GetRandomPasswordCommand({ PasswordLength: deps.passwordLength ?? 32, ExcludeCharacters: deps.excludeCharacters }),
      );
      await deps.secrets.send(
        new PutSecretValueCommand({
          SecretId: id,
          ClientRequestToken: token,
          SecretString: JSON.stringify({ ...current.raw, password: pw.RandomPassword }),
          VersionStages: ['AWSPENDING'],
        }),
      );
      return;
    }
    case 'setSecret': {
      const pending = await getSecret(deps, id, 'AWSPENDING', token);
      if (!pending) throw new Error(`secret ${id} has no AWSPENDING version ${token}`);
      const already = await canLogin(deps, pending.secret);
      if (already) {
        await already.end();
        return;
      }
      const current = await getSecret(deps, id, 'AWSCURRENT');
      if (current && current.secret.username !== pending.secret.username) {
        throw new Error(`secret ${id}: AWSPENDING is for "${pending.secret.username}" but AWSCURRENT for "${current.secret.username}"`);
      }
      let client = current ? await canLogin(deps, current.secret) : undefined;
      if (!client) {
        const previous = await getSecret(deps, id, 'AWSPREVIOUS');
        client = previous ? await canLogin(deps, previous.secret) : undefined;
      }
      if (!client) throw new Error(`setSecret: cannot log in as "${pending.secret.username}" with the AWSCURRENT or AWSPREVIOUS password of ${id}`);
      try {
        const v = await scramVerifier(pending.secret.password);
        await setOwnVerifier(client, pending.secret.username, v.verifier);
      } finally {
        await client.end();
      }
      return;
    }
    case 'testSecret': {
      const pending = await getSecret(deps, id, 'AWSPENDING', token);
      if (!pending) throw new Error(`secret ${id} has no AWSPENDING version ${token}`);
      const client = await deps.connect(pending.secret);
      try {
        await client.query('SELECT 1');
      } finally {
        await client.end();
      }
      return;
    }
    case 'finishSecret': {
      const current = Object.entries(meta.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
      if (current === token) return;
      await deps.secrets.send(new UpdateSecretVersionStageCommand({ SecretId: id, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: current }));
      return;
    }
    default:
      throw new Error(`unknown rotation step ${JSON.stringify(step)}`);
  }
}
