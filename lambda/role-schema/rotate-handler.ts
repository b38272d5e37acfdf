/** Lambda entry of the role schema's single-user rotation (see rotate.ts). In the VPC. */
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Client, type ClientConfig } from 'pg';
import { verifiedTls } from './connect';
import { rotate, type RotationEvent } from './rotate';
import type { DbSecret } from './secrets';
import { SAFE_SESSION_OPTIONS } from '../shared/safe-session';

const logger = new Logger({ serviceName: 'role-schema-rotation' });
const secrets = new SecretsManagerClient({});

/** The session the rotation opens as the secret's own role: search_path pinned (safe-session.ts). */
export function rotationClientConfig(s: DbSecret, ssl: (host: string) => ClientConfig['ssl'] = verifiedTls): ClientConfig {
  if (!s.host || !s.dbname) throw new Error(`secret for "${s.username}" lacks host or dbname (is it attached to the instance?)`);
  return {
    host: s.host,
    port: s.port ?? 5432,
    database: s.dbname,
    user: s.username,
    password: s.password,
    ssl: ssl(s.host),
    connectionTimeoutMillis: 5000,
    application_name: 'role-schema-rotation',
    options: SAFE_SESSION_OPTIONS,
  };
}

async function connect(s: DbSecret): Promise<Client> {
  const client = new Client(rotationClientConfig(s));
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export async function handler(event: RotationEvent): Promise<void> {
  logger.info('rotation step', { secretId: event.SecretId, step: event.Step });
  await rotate(event, { secrets, connect, excludeCharacters: process.env.EXCLUDE_CHARACTERS ?? '' });
}
