/**
 * The role-schema custom resource (custom-resources Provider, onEvent), in the VPC.
 *
 * Create/Update: validates the properties (the registry again, with parseServiceRegistry), reads
 * the master and login secrets, connects as the master user (bounded retries while the database is
 * not reachable yet), and applies the role schema, privileged step included, in one transaction.
 * Any failure throws with a one-line reason, which the Provider reports to CloudFormation.
 * Delete: leaves the database as it is (roles, grants and data stay; dropping them would mean
 * dropping the services' tables).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import type { Client, ClientConfig } from 'pg';
import { applyRoleSchema, type ApplyOptions } from './apply';
import { jsonLog, type Log } from './log';
import { connectWithRetry, verifiedTls, type RetryPolicy } from './connect';
import { parseServiceRegistry } from '../../lib/config/service-registry';
import { pgLoginCheck } from './credentials';
import { buildDesired, MONITORING_ROLE, type EventTriggerMode } from './desired';
import { readDbSecrets, readDbSecretStage, type DbSecret } from './secrets';
import { SAFE_SESSION_OPTIONS } from '../shared/safe-session';

export interface RoleSchemaProperties {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly masterSecretArn: string;
  readonly appSchema: string;
  /** The registry as given (validated by buildDesired). */
  readonly services: unknown;
  /** Login role → secret ARN, for every role with a password. */
  readonly loginSecrets: Readonly<Record<string, string>>;
  readonly eventTrigger: Extract<EventTriggerMode, 'present' | 'absent'>;
}

function str(p: Record<string, unknown>, key: string): string {
  const v = p[key];
  if (typeof v !== 'string' || v.trim() === '') throw new Error(`property ${key} is required (a non-empty string)`);
  return v;
}

function json(p: Record<string, unknown>, key: string): unknown {
  const raw = str(p, key);
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error(`property ${key} is not valid JSON`);
  }
}

/** Parses the resource properties (CloudFormation passes every scalar as a string). */
export function parseProperties(p: Record<string, unknown>): RoleSchemaProperties {
  const port = Number(str(p, 'DatabasePort'));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`property DatabasePort must be a TCP port (got ${JSON.stringify(p.DatabasePort)})`);
  const loginSecrets = json(p, 'LoginSecrets');
  if (typeof loginSecrets !== 'object' || loginSecrets === null || Array.isArray(loginSecrets) || Object.values(loginSecrets).some((v) => typeof v !== 'string')) {
    throw new Error('property LoginSecrets must be a JSON object of role name → secret ARN');
  }
  const eventTrigger = p.EventTrigger ?? 'present';
  if (eventTrigger !== 'present' && eventTrigger !== 'absent') throw new Error(`property EventTrigger must be "present" or "absent" (got ${JSON.stringify(eventTrigger)})`);
  return {
    host: str(p, 'DatabaseHost'),
    port,
    database: str(p, 'DatabaseName'),
    masterSecretArn: str(p, 'MasterSecretArn'),
    appSchema: str(p, 'AppSchema'),
    // Rejected here, before any secret is read or the database touched.
    services: parseServiceRegistry(json(p, 'Services'), 'Services'),
    loginSecrets: loginSecrets as Record<string, string>,
    eventTrigger,
  };
}

export interface HandlerDeps {
  readonly secrets: SecretsManagerClient;
  /** TLS settings for a host. @default verified TLS against the Lambda runtime's CA bundle */
  readonly ssl?: (host: string) => ClientConfig['ssl'];
  /** Connection retries. @default up to 3 minutes, never past the function's remaining time less 60 s */
  readonly retry?: RetryPolicy;
  /** Apply options; tests select `steps`. @default all steps */
  readonly apply?: Pick<ApplyOptions, 'lockTimeoutMs' | 'statementTimeoutMs' | 'steps'>;
  /** Where log lines go. @default JSON lines on stdout/stderr (log.ts) */
  readonly logger?: Log;
}

export interface HandlerResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string | number>;
}

export function makeHandler(deps: HandlerDeps) {
  const logger = deps.logger ?? jsonLog('role-schema');
  return async (event: CloudFormationCustomResourceEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<HandlerResponse> => {
    if (event.RequestType === 'Delete') {
      logger.info('Delete: the database is left as it is (roles, grants and data stay)');
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    const physicalId = event.RequestType === 'Update' ? event.PhysicalResourceId : `role-schema-${String(event.ResourceProperties.DatabaseName ?? 'db')}`;
    let where = 'the database';
    try {
      const props = parseProperties(event.ResourceProperties as Record<string, unknown>);
      where = `database "${props.database}" at ${props.host}:${props.port}`;
      const ids = [props.masterSecretArn, ...Object.values(props.loginSecrets)];
      const secrets = await readDbSecrets(deps.secrets, ids);
      const passwords = new Map<string, string>();
      for (const [role, arn] of Object.entries(props.loginSecrets)) {
        const s = secrets.get(arn)!;
        if (s.username !== role) throw new Error(`secret ${arn} is for user "${s.username}", expected "${role}"`);
        passwords.set(role, s.password);
      }
      const desired = buildDesired({
        appSchema: props.appSchema,
        services: props.services,
        password: (role) => passwords.get(role),
        eventTrigger: props.eventTrigger,
        where: 'Services',
      });
      const missing = desired.roles.filter((r) => r.auth.kind === 'none').map((r) => r.name);
      if (missing.length) throw new Error(`no login secret for ${missing.join(', ')} (every password role, and ${MONITORING_ROLE}, needs one)`);

      const master = secrets.get(props.masterSecretArn)!;
      const remaining = context ? context.getRemainingTimeInMillis() - 60_000 : Infinity;
      const retry = deps.retry ?? { budgetMs: Math.max(0, Math.min(180_000, remaining)) };
      const ssl = (deps.ssl ?? verifiedTls)(props.host);
      // A role that changed its own password gets the configured one back (credentials.ts).
      const checkLogin = pgLoginCheck((user, password) => ({
        host: props.host,
        port: props.port,
        database: props.database,
        user,
        password,
        ssl,
        connectionTimeoutMillis: 5000,
        application_name: 'role-schema-login-check',
        options: SAFE_SESSION_OPTIONS,
      }));
      const connectAs = (login: { username: string; password: string }) => connectWithRetry(
        {
          host: props.host,
          port: props.port,
          database: props.database,
          user: login.username,
          password: login.password,
          ssl,
          application_name: 'role-schema',
          options: SAFE_SESSION_OPTIONS,
        },
        retry,
        { onRetry: (r) => logger.warn('database not reachable yet; retrying', r) },
      );
      const client = await connectAs(master).catch((e: unknown) => {
        if ((e as { code?: string }).code !== INVALID_PASSWORD) throw e;
        return connectAfterRotation(deps.secrets, props.masterSecretArn, master, connectAs, e as Error, logger);
      });
      try {
        const result = await applyRoleSchema(client, desired, { steps: 'all', checkLogin, ...deps.apply });
        logger.info('role schema applied', {
          requestType: event.RequestType,
          executed: result.executed,
          summary: result.summary,
          roundTrips: result.roundTrips,
          endedSessions: result.endedSessions,
          statements: result.statements.slice(0, 300).map((s) => s.display),
        });
        for (const st of result.statements) if (st.repair && result.executed > 0) logger.warn(st.repair);
        for (const w of result.warnings) logger.warn(`role schema: not repaired: ${w}`);
        return {
          PhysicalResourceId: physicalId,
          Data: { Executed: result.executed, Changed: String(result.changed), Summary: JSON.stringify(result.summary) },
        };
      } finally {
        await client.end().catch(() => undefined);
      }
    } catch (e) {
      const message = `Role schema not applied to ${where}: ${(e as Error).message}`;
      logger.error(message);
      // CloudFormation shows the reason; keep it short enough for the console.
      throw new Error(message.length > 1500 ? `${message.slice(0, 1500)}…` : message);
    }
  };
}

/** SQLSTATE invalid_password: PostgreSQL's answer to a wrong password. */
const INVALID_PASSWORD = '28P01';

/**
 * The master secret's rotation can overlap this handler (on the first deploy it starts as soon as
 * the rotation schedule exists). Single-user rotation sets the new password in the database at its
 * setSecret step and moves AWSCURRENT to it only at finishSecret, so a password read a moment ago
 * may be refused: re-read the secret once, and try the current and then the pending password, each
 * only if it differs from what was refused. Anything else refused stays the original error.
 */
async function connectAfterRotation(
  sm: SecretsManagerClient,
  arn: string,
  refused: DbSecret,
  connectAs: (login: DbSecret) => Promise<Client>,
  original: Error,
  logger: Pick<Log, 'info'>,
): Promise<Client> {
  logger.info('master password refused (28P01); re-reading the master secret once, in case a rotation changed it');
  const tried = new Set([refused.password]);
  for (const stage of ['AWSCURRENT', 'AWSPENDING'] as const) {
    const candidate = await readDbSecretStage(sm, arn, stage);
    // Single-user rotation keeps the user; a secret naming someone else is not a rotated password.
    if (!candidate || candidate.username !== refused.username || tried.has(candidate.password)) continue;
    tried.add(candidate.password);
    try {
      const client = await connectAs(candidate);
      logger.info(`connected with the master secret's ${stage} password after a rotation`);
      return client;
    } catch (e) {
      if ((e as { code?: string }).code !== INVALID_PASSWORD) throw e;
    }
  }
  throw new Error(`${original.message} (the master secret was re-read: no current or pending password is accepted either)`);
}

export const handler = makeHandler({ secrets: new SecretsManagerClient({}) });
