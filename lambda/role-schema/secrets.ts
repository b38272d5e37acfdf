/** Reading database credentials from Secrets Manager (the RDS secret JSON shape). */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface DbSecret {
  readonly username: string;
  readonly password: string;
  readonly host?: string;
  readonly port?: number;
  readonly dbname?: string;
}

/** Parses a secret's JSON; messages name the secret, never its content. */
export function parseDbSecret(id: string, secretString: string | undefined): DbSecret {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(secretString ?? '') as Record<string, unknown>;
  } catch {
    throw new Error(`secret ${id} is not JSON`);
  }
  if (typeof o !== 'object' || o === null || typeof o.username !== 'string' || typeof o.password !== 'string' || o.password.length === 0) {
    throw new Error(`secret ${id} needs string "username" and "password" fields`);
  }
  return {
    username: o.username,
    password: o.password,
    host: typeof o.host === 'string' ? o.host : undefined,
    port: o.port === undefined ? undefined : Number(o.port),
    dbname: typeof o.dbname === 'string' ? o.dbname : undefined,
  };
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
