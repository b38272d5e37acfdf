/** Reading database credentials from Secrets Manager (the RDS secret JSON shape). */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
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
