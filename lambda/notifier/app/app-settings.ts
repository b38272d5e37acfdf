/**
 * App mode's settings from the function's environment (set by the SlackNotifier construct), and
 * the delivery built from them on the first batch: the bot token is read from Secrets Manager once
 * per container and handed only to the Slack client.
 */
import { APP_ENV } from './contract';
import type { AppDelivery } from './deliver-app';
import type { SlackWeb } from './slack-web';
import type { CheckOutcome } from '../heartbeat';
import type { Severity } from '../types';
import { SEVERITIES } from '../types';

export interface AppSettings {
  readonly table: string;
  readonly botTokenSecret: string;
  readonly channels: Readonly<Record<Severity, string>>;
  readonly rethreadAfterMinutes: number;
}

/** Undefined in webhook mode; throws, naming the variable, when app mode is misconfigured. */
export function appSettingsFromEnv(env: NodeJS.ProcessEnv): AppSettings | undefined {
  if (env[APP_ENV.mode] !== 'app') return undefined;
  const need = (name: string) => {
    const v = env[name];
    if (!v) throw new Error(`environment variable ${name} is required in Slack app mode`);
    return v;
  };
  let channels: Record<string, unknown>;
  try {
    channels = JSON.parse(need(APP_ENV.channels));
  } catch {
    throw new Error(`environment variable ${APP_ENV.channels} must be JSON {"critical": "C…", "warning": "C…", "info": "C…"}`);
  }
  for (const s of SEVERITIES) if (typeof channels[s] !== 'string' || !channels[s]) throw new Error(`${APP_ENV.channels} names no channel for ${s}`);
  const rethread = Number(env[APP_ENV.rethreadAfterMinutes] ?? 360);
  if (!Number.isInteger(rethread) || rethread < 1) throw new Error(`${APP_ENV.rethreadAfterMinutes} must be a positive integer`);
  return { table: need(APP_ENV.table), botTokenSecret: need(APP_ENV.botTokenSecret), channels: channels as Record<Severity, string>, rethreadAfterMinutes: rethread };
}

export interface AppLambdaLogger {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

type Delivery = AppDelivery;

/** The bot token from the secret: the plain string, or `{"token": "xoxb-…"}`. */
export function tokenFromSecret(secretString: string | undefined): string {
  const raw = (secretString ?? '').trim();
  if (raw.startsWith('{')) {
    const parsed = JSON.parse(raw) as { token?: unknown; botToken?: unknown };
    const t = parsed.token ?? parsed.botToken;
    if (typeof t === 'string') return t.trim();
  }
  return raw;
}

/**
 * The app-mode delivery for the Lambda: built on the first batch (token read once per container),
 * with the invocation's deadline handed to the Slack client before every batch.
 */
export function lazyAppDelivery(settings: AppSettings, logger: AppLambdaLogger, deadline: () => number | undefined): Pick<Delivery, 'deliver'> & { check(severity: Severity): Promise<CheckOutcome> } {
  let built: Promise<{ delivery: Delivery; web: SlackWeb }> | undefined;
  const build = async () => {
    // App mode's own modules (@slack/web-api among them) load here, on the first batch, so that
    // webhook mode's cold start does not pay for them (bench/notifier-app.ts measures both).
    // (`require`, not `import()`: a relative dynamic import in these CommonJS modules would need an
    // ESM file extension that the bundler and the test transformer resolve differently.)
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { AppDelivery } = require('./deliver-app') as typeof import('./deliver-app');
    const { renderAlarmGraph } = require('./graph') as typeof import('./graph');
    const { SlackWeb } = require('./slack-web') as typeof import('./slack-web');
    const { DynamoThreadStore } = require('./thread-store') as typeof import('./thread-store');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const [{ SecretsManagerClient, GetSecretValueCommand }, { DynamoDBClient }, { CloudWatchClient }] = await Promise.all([
      import('@aws-sdk/client-secrets-manager'),
      import('@aws-sdk/client-dynamodb'),
      import('@aws-sdk/client-cloudwatch'),
    ]);
    const sdk = { maxAttempts: 2 };
    const secret = await new SecretsManagerClient(sdk).send(new GetSecretValueCommand({ SecretId: settings.botTokenSecret }));
    const web = new SlackWeb(tokenFromSecret(secret.SecretString), { onLog: (level, message) => logger[level]('slack client', { message }) });
    const cloudwatch = new CloudWatchClient(sdk);
    const delivery = new AppDelivery(web, new DynamoThreadStore(new DynamoDBClient(sdk), settings.table), {
      channels: settings.channels,
      rethreadAfterMinutes: settings.rethreadAfterMinutes,
      logger,
      graph: (a) => renderAlarmGraph(cloudwatch, a, { budgetMs: 2500, onSkip: (reason) => logger.info('graph skipped', { alarm: a.name, reason }) }),
    });
    return { delivery, web };
  };
  const ready = async () => {
    built ??= build().catch((err) => {
      built = undefined;
      throw err;
    });
    const b = await built;
    b.web.deadline = deadline();
    return b;
  };
  return {
    async deliver(rendered, posts, plan) {
      return (await ready()).delivery.deliver(rendered, posts, plan);
    },
    /** Heartbeat check: the token secret is readable and `auth.test` accepts the token. */
    async check() {
      const r = await (await ready()).web.authTest();
      return r.ok ? { ok: true, detail: 'auth.test accepted the bot token' } : { ok: false, error: r.error };
    },
  };
}
