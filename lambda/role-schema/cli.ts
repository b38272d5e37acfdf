/**
 * `npm run roles -- plan|apply --env <env> --database-url <postgres-url> [options]`
 *
 * Applies an environment's service registry (lib/config) to any PostgreSQL 16: a local
 * development database, the seed's Docker Compose setup, or RDS through a tunnel. Same code path
 * as the custom resource (inspect → plan → apply in one locked transaction).
 *
 *   plan    prints the statements (password verifiers redacted) and changes nothing
 *   apply   applies them and prints a summary
 *
 * Options:
 *   --skip-event-trigger   leave the prefix-enforcement event trigger as it is
 *   --drop-event-trigger   drop it (before a major version upgrade; apply again afterwards)
 *   --skip-privileged      skip extensions and the event trigger (when connected as a role that
 *                          is neither superuser nor rds_superuser)
 *
 * Passwords: ROLES_PASSWORD_<ROLE> (e.g. ROLES_PASSWORD_GTAPP), else ROLES_DEFAULT_PASSWORD;
 * a role with neither is NOLOGIN. They are sent as SCRAM verifiers, never in plaintext.
 * Exit status: 0 done, 1 failed, 2 bad usage.
 */
import { Client } from 'pg';
import { ENVIRONMENTS, loadEnvironment } from '../../lib/config';
import { applyRoleSchema, type ApplyOptions } from './apply';
import { buildDesired, type EventTriggerMode } from './desired';

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const USAGE = 'usage: npm run roles -- plan|apply --env <env> --database-url <postgres-url> [--skip-event-trigger | --drop-event-trigger] [--skip-privileged]';

interface Args {
  command: 'plan' | 'apply';
  env: string;
  url: string;
  eventTrigger: EventTriggerMode;
  steps: ApplyOptions['steps'];
}

function parseArgs(argv: readonly string[]): Args {
  const [command, ...rest] = argv;
  if (command !== 'plan' && command !== 'apply') throw new UsageError(`unknown command ${JSON.stringify(command ?? '')}`);
  const args: Partial<Args> = { command, eventTrigger: 'present', steps: 'all' };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--env') args.env = value();
    else if (a === '--database-url') args.url = value();
    else if (a === '--skip-event-trigger') args.eventTrigger = 'unmanaged';
    else if (a === '--drop-event-trigger') args.eventTrigger = 'absent';
    else if (a === '--skip-privileged') args.steps = 'main';
    else throw new UsageError(`unknown option ${a}`);
  }
  if (!args.env) throw new UsageError('--env is required');
  if (!args.url) throw new UsageError('--database-url is required');
  return args as Args;
}

class UsageError extends Error {}

/** The password of a role from the environment, if any. */
export function passwordFromEnv(env: Record<string, string | undefined>, role: string): string | undefined {
  const v = env[`ROLES_PASSWORD_${role.toUpperCase()}`] ?? env.ROLES_DEFAULT_PASSWORD;
  return v === undefined || v === '' ? undefined : v;
}

/** Hides the password of a postgres URL for messages. */
function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

export async function main(argv: readonly string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    io.err(`roles: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const started = Date.now();
  let client: Client | undefined;
  try {
    const raw = (ENVIRONMENTS as Record<string, unknown>)[args.env];
    if (raw === undefined) throw new Error(`unknown environment "${args.env}" (known: ${Object.keys(ENVIRONMENTS).join(', ')})`);
    const config = loadEnvironment(args.env, raw);
    const desired = buildDesired({
      appSchema: config.roles.appSchema,
      services: config.roles.services,
      password: (role) => passwordFromEnv(env, role),
      eventTrigger: args.eventTrigger,
      where: `${args.env}.roles.services`,
    });
    client = new Client({ connectionString: args.url, application_name: 'role-schema-cli', connectionTimeoutMillis: 10_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (e) {
      throw new Error(`cannot connect to ${redactUrl(args.url)}: ${(e as Error).message}`);
    }
    const result = await applyRoleSchema(client, desired, { mode: args.command, steps: args.steps });
    const ms = Date.now() - started;
    const counts = Object.entries(result.summary).map(([k, v]) => `${k} ${v}`).join(', ');
    const nologin = desired.roles.filter((r) => r.auth.kind === 'none').map((r) => r.name);
    if (args.command === 'plan') {
      for (const st of result.statements) io.out(`${st.display};${st.step === 'privileged' ? ' -- privileged step' : ''}`);
      io.out(
        result.statements.length === 0
          ? `-- ${result.database}: nothing to do (${config.roles.services.length} services, as ${result.user})`
          : `-- ${result.database}: ${result.statements.length} statements would run (${counts}); nothing was changed`,
      );
    } else {
      io.out(
        result.executed === 0
          ? `roles: ${result.database} already matches ${args.env}'s registry (${config.roles.services.length} services); no statement executed (${ms} ms, ${result.roundTrips} round trips)`
          : `roles: applied ${result.executed} statements to ${result.database} as ${result.user} in one transaction (${counts}; ${ms} ms, ${result.roundTrips} round trips)`,
      );
    }
    if (result.skipped.length) io.out(`-- skipped ${result.skipped.length} privileged statement(s) (--skip-privileged): ${result.skipped.map((s) => s.kind).join(', ')}`);
    if (nologin.length) io.out(`-- NOLOGIN (no password given): ${nologin.join(', ')}`);
    return 0;
  } catch (e) {
    io.err(`roles: ${args.command} failed: ${(e as Error).message}`);
    return 1;
  } finally {
    await client?.end().catch(() => undefined);
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env, { out: (l) => console.log(l), err: (l) => console.error(l) }).then(
    (code) => (process.exitCode = code),
    (e) => {
      console.error(`roles: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  );
}
