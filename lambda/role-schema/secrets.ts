/** Reading database credentials from Secrets Manager (the RDS secret JSON shape). */
import { GetSecretValueCommand, ResourceNotFoundException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseDbSecret as parseShared, type DbSecret } from '../shared/db-secret';

export type { DbSecret };

/** Parses a secret's JSON; messages name the secret, never its content. */
export function parseDbSecret(id: string, secretString: string | undefined): DbSecret {
  return parseShared(`secret ${id}`, secretString);
}

/** Reads several secrets (AWSCURRENT), a few at a time. */
export async function readDbSecrets(client: SecretsManagerClient, ids: readonly string[], concurrency = 8): Promise<Map<string, DbSecret>> {
  const out = new Map<string, DbSecret>();
  const queue = [...new Set(ids)];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      let value: string | undefined;
      try {
        value = (await client.send(new GetSecretValueCommand({ SecretId: id }))).SecretString;
      } catch (e) {
        throw new Error(`cannot read secret ${id}: ${(e as Error).name}: ${(e as Error).message}`);
      }
      out.set(id, parseDbSecret(id, value));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  return out;
}

/** Reads one staging label of a secret; undefined when no version carries it (no rotation under way). */
export async function readDbSecretStage(client: SecretsManagerClient, id: string, stage: 'AWSCURRENT' | 'AWSPENDING'): Promise<DbSecret | undefined> {
  let value: string | undefined;
  try {
    value = (await client.send(new GetSecretValueCommand({ SecretId: id, VersionStage: stage }))).SecretString;
  } catch (e) {
    if (e instanceof ResourceNotFoundException || (e as Error).name === 'ResourceNotFoundException') return undefined;
    throw new Error(`cannot read secret ${id} (${stage}): ${(e as Error).name}: ${(e as Error).message}`);
  }
  return value === undefined ? undefined : parseDbSecret(`${id} (${stage})`, value);
}
