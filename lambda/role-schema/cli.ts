/**
 * `npm run roles -- plan|apply --env <env> --database-url <postgres-url> [options]`
 *
 * Applies an environment's service registry (lib/config) to any PostgreSQL 16: the one
 * `npm run db:local` starts, another local database, or RDS through a tunnel. Same code path as the
 * custom resource (inspect → plan → apply in one locked transaction).
 *
 *   plan    prints the statements (password verifiers redacted) and changes nothing
 *   apply   applies them and prints a summary
 *
 * Options:
 *   --skip-event-trigger   leave the prefix-enforcement event trigger as it is
 *   --drop-event-trigger   drop it (before a major version upgrade; apply again afterwards)
 *   --skip-privileged      skip extensions and the event trigger (when connected as a role that
 *                          is neither superuser nor rds_superuser)
 *   --privileged-only      only extensions and the event trigger; roles, grants and passwords are
 *                          left as they are (needs no password)
 *
 * Passwords: ROLES_PASSWORD_<ROLE> (e.g. ROLES_PASSWORD_GTAPP), else ROLES_DEFAULT_PASSWORD;
 * a role with neither is NOLOGIN. They are sent as SCRAM verifiers, never in plaintext. An `apply`
 * with no password set at all would turn every password role NOLOGIN (every service locked out):
 * it is refused (exit 2) before connecting; `--privileged-only` is the explicit way to apply
 * without passwords.
 * Exit status (scripts/cli-kit.ts): 0 done, 1 failed, 2 bad usage or input (an unknown
 * environment, a malformed URL or port: one line naming it).
 */
import { Client } from 'pg';
import { ENVIRONMENTS, loadEnvironment } from '../../lib/config';
import { EXIT, oneOf, parseCommandLine, postgresUrl, redactUrl, runMain, UsageError, wantsHelp } from '../../scripts/cli-kit';
import { applyRoleSchema, type ApplyOptions } from './apply';
import { pgLoginCheck } from './credentials';
import { buildDesired, type EventTriggerMode } from './desired';
import { assertUrlKeepsSafeSession, SAFE_SESSION_OPTIONS } from '../shared/safe-session';

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export const USAGE = `usage: npm run roles -- plan|apply --env <env> --database-url <postgres-url> [options]

  plan    print the statements (password verifiers redacted); change nothing
  apply   apply them in one transaction and print a summary

Options:
  --env dev|staging|prod     whose service registry (lib/config) to apply
  --database-url URL         postgres://user:password@host:port/database (try: npm run db:local)
  --skip-event-trigger       leave the prefix-enforcement event trigger as it is
  --drop-event-trigger       drop it (before a major version upgrade; apply again afterwards)
  --skip-privileged          skip extensions and the event trigger (not a superuser/rds_superuser)
  --privileged-only          only extensions and the event trigger; roles and passwords untouched
  -h, --help                 this text

Passwords: ROLES_PASSWORD_<ROLE> or ROLES_DEFAULT_PASSWORD; a role with neither is NOLOGIN.
An apply with no password at all (every login role NOLOGIN) is refused; see --privileged-only.
Exit codes: 0 done, 1 failed, 2 bad usage or input.`;

interface Args {
  command: 'plan' | 'apply';
  env: string;
  url: string;
  eventTrigger: EventTriggerMode;
  steps: ApplyOptions['steps'];
}

function parseArgs(argv: readonly string[]): Args {
  const { values, positionals } = parseCommandLine(
    argv,
    {
      env: { type: 'string' },
      'database-url': { type: 'string' },
      'skip-event-trigger': { type: 'boolean' },
      'drop-event-trigger': { type: 'boolean' },
      'skip-privileged': { type: 'boolean' },
      'privileged-only': { type: 'boolean' },
    },
    true,
  );
  if (positionals.length === 0) throw new UsageError('give a command: plan or apply');
  if (positionals.length > 1) throw new UsageError(`one command at a time (got ${positionals.map((p) => JSON.stringify(p)).join(', ')})`);
  const command = oneOf('the command', positionals[0], ['plan', 'apply'] as const);
  if (values['skip-event-trigger'] && values['drop-event-trigger']) throw new UsageError('--skip-event-trigger and --drop-event-trigger exclude each other');
  if (values['skip-privileged'] && values['privileged-only']) throw new UsageError('--skip-privileged and --privileged-only exclude each other');
  if (values.env === undefined) throw new UsageError('--env is required');
  const env = oneOf('--env', values.env, Object.keys(ENVIRONMENTS));
  if (values['database-url'] === undefined) throw new UsageError('--database-url is required (a local PostgreSQL 16: npm run db:local)');
  return {
    command,
    env,
    url: postgresUrl('--database-url', values['database-url']),
    eventTrigger: values['drop-event-trigger'] ? 'absent' : values['skip-event-trigger'] ? 'unmanaged' : 'present',
    steps: values['skip-privileged'] ? 'main' : values['privileged-only'] ? 'privileged' : 'all',
  };
}

/** The password of a role from the environment, if any. */
export function passwordFromEnv(env: Record<string, string | undefined>, role: string): string | undefined {
  const v = env[`ROLES_PASSWORD_${role.toUpperCase()}`] ?? env.ROLES_DEFAULT_PASSWORD;
  return v === undefined || v === '' ? undefined : v;
}

export async function main(argv: readonly string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  if (wantsHelp(argv)) {
    io.out(USAGE);
    return EXIT.OK;
  }
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`roles: ${e.message} (see --help)`);
    return EXIT.USAGE;
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
    const nologin = desired.roles.filter((r) => r.auth.kind === 'none').map((r) => r.name);
    if (args.command === 'apply' && args.steps !== 'privileged' && nologin.length > 0 && !desired.roles.some((r) => r.auth.kind === 'password')) {
      // Checked before connecting: nothing was touched.
      io.err(
        `roles: refusing to apply: no password is set (ROLES_PASSWORD_<ROLE> or ROLES_DEFAULT_PASSWORD), so all ${nologin.length} login roles would become NOLOGIN (${nologin.slice(0, 4).join(', ')}${nologin.length > 4 ? ', …' : ''}) and every service would be locked out; set the passwords, or apply only extensions and the event trigger with --privileged-only (see --help)`,
      );
      return EXIT.USAGE;
    }
    assertUrlKeepsSafeSession(args.url);
    client = new Client({ connectionString: args.url, application_name: 'role-schema-cli', connectionTimeoutMillis: 10_000, options: SAFE_SESSION_OPTIONS });
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (e) {
      throw new Error(`cannot connect to ${redactUrl(args.url)}: ${(e as Error).message}`);
    }
    // A role that changed its own password gets the configured one back (credentials.ts).
    const checkLogin = pgLoginCheck((user, password) => {
      const u = new URL(args.url);
      u.username = encodeURIComponent(user);
      u.password = encodeURIComponent(password);
      return { connectionString: u.toString(), application_name: 'role-schema-login-check', connectionTimeoutMillis: 10_000, options: SAFE_SESSION_OPTIONS };
    });
    const result = await applyRoleSchema(client, desired, { mode: args.command, steps: args.steps, checkLogin });
    const ms = Date.now() - started;
    const counts = Object.entries(result.summary).map(([k, v]) => `${k} ${v}`).join(', ');
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
    if (args.command === 'apply') for (const st of result.statements) if (st.repair) io.out(`roles: ${st.repair}`);
    if (result.skipped.length && args.steps === 'privileged') io.out(`-- left out ${result.skipped.length} statement(s) of the main step (--privileged-only): roles, grants and passwords are as they were`);
    else if (result.skipped.length) io.out(`-- skipped ${result.skipped.length} privileged statement(s) (--skip-privileged): ${result.skipped.map((s) => s.kind).join(', ')}`);
    for (const w of result.warnings) io.out(`-- warning: not repaired: ${w}`);
    if (result.endedSessions) io.out(`-- ended ${result.endedSessions} open session(s) of retired services' roles`);
    if (nologin.length && args.steps !== 'privileged') io.out(`-- NOLOGIN (no password given): ${nologin.join(', ')}`);
    return EXIT.OK;
  } catch (e) {
    io.err(`roles: ${args.command} failed: ${redactUrl((e as Error).message)}`);
    return EXIT.FAILED;
  } finally {
    await client?.end().catch(() => undefined);
  }
}

if (require.main === module) {
  runMain('roles', redactUrl, () => main(process.argv.slice(2), process.env, { out: (l) => console.log(l), err: (l) => console.error(l) }));
}
