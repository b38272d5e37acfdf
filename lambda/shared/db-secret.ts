/**
 * Database credentials in the RDS secret JSON shape, as the role-schema and db-health functions
 * read them. Error messages name the secret (`label`), never its content.
 */
export interface DbSecret {
  readonly username: string;
  readonly password: string;
  readonly host?: string;
  readonly port?: number;
  readonly dbname?: string;
}

/** Parses a secret string; throws `<label> is not JSON` and the like, without the content. */
export function parseDbSecret(label: string, secretString: string | undefined): DbSecret {
  if (!secretString) throw new Error(`${label} has no SecretString`);
  let o: unknown;
  try {
    o = JSON.parse(secretString);
  } catch {
    throw new Error(`${label} is not JSON`);
  }
  const r = o as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || typeof r.username !== 'string' || typeof r.password !== 'string' || r.password.length === 0) {
    throw new Error(`${label} needs string "username" and "password" fields`);
  }
  return {
    username: r.username,
    password: r.password,
    host: typeof r.host === 'string' ? r.host : undefined,
    port: r.port === undefined ? undefined : Number(r.port),
    dbname: typeof r.dbname === 'string' ? r.dbname : undefined,
  };
}
