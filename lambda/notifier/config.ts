/**
 * The deployed function's settings, from the environment variables the CDK construct sets.
 * Read once per container; a malformed value fails loudly (the batch is retried, then
 * dead-lettered, and the dead-letter alarm reaches people by email).
 */
import type { NotifierConfig } from './notify';
import type { Severity } from './types';
import { isSeverity, SEVERITIES } from './types';

export interface HandlerSettings {
  readonly notifier: NotifierConfig;
  /** Severity → Secrets Manager secret name or ARN holding that channel's webhook URL. */
  readonly webhookSecrets: Partial<Record<Severity, string>>;
  /** Milliseconds enrichment may take per batch. */
  readonly enrichBudgetMs: number;
  /** Posts per second sustained, and the burst. */
  readonly intervalMs: number;
  readonly burst: number;
}

function json(name: string, text: string | undefined): unknown {
  if (text === undefined || text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`environment variable ${name} is not valid JSON`);
  }
}

function int(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`environment variable ${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return n;
}

/**
 * `SEVERITY_SOURCES` is `[{"severity":"critical","arns":["arn:…queue","arn:…topic"]}, …]`
 * (what `Stack.toJsonString` renders) or a plain `{ "arn": "critical" }` object.
 */
export function parseSeveritySources(value: unknown): Record<string, Severity> {
  const out: Record<string, Severity> = {};
  if (Array.isArray(value)) {
    for (const entry of value) {
      const sev = (entry as { severity?: unknown })?.severity;
      const arns = (entry as { arns?: unknown })?.arns;
      if (!isSeverity(sev) || !Array.isArray(arns)) throw new Error('SEVERITY_SOURCES entries must be {"severity": "critical"|"warning"|"info", "arns": [...]}');
      for (const arn of arns) if (typeof arn === 'string') out[arn] = sev;
    }
  } else if (value && typeof value === 'object') {
    for (const [arn, sev] of Object.entries(value)) {
      if (!isSeverity(sev)) throw new Error(`SEVERITY_SOURCES maps ${arn} to "${String(sev)}", which is not a severity`);
      out[arn] = sev;
    }
  }
  return out;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv): HandlerSettings {
  const secrets = json('WEBHOOK_SECRETS', env.WEBHOOK_SECRETS);
  if (!secrets || typeof secrets !== 'object') throw new Error('environment variable WEBHOOK_SECRETS must be a JSON object {"critical": "<secret name>", …}');
  const webhookSecrets: Partial<Record<Severity, string>> = {};
  for (const s of SEVERITIES) {
    const v = (secrets as Record<string, unknown>)[s];
    if (typeof v === 'string' && v) webhookSecrets[s] = v;
  }
  if (Object.keys(webhookSecrets).length === 0) throw new Error('WEBHOOK_SECRETS names no secret');
  const defaultSeverity = env.DEFAULT_SEVERITY ?? 'warning';
  if (!isSeverity(defaultSeverity)) throw new Error(`DEFAULT_SEVERITY must be critical, warning or info, got "${defaultSeverity}"`);
  return {
    notifier: {
      environment: env.ENVIRONMENT_NAME || undefined,
      criticalMention: env.CRITICAL_MENTION || 'none',
      severityBySource: parseSeveritySources(json('SEVERITY_SOURCES', env.SEVERITY_SOURCES)),
      defaultSeverity,
      stormThreshold: int('STORM_THRESHOLD', env.STORM_THRESHOLD, 5, 1, 1000),
      linesPerPost: int('DIGEST_LINES_PER_POST', env.DIGEST_LINES_PER_POST, 40, 5, 200),
      defaultRegion: env.AWS_REGION,
    },
    webhookSecrets,
    enrichBudgetMs: int('ENRICH_BUDGET_MS', env.ENRICH_BUDGET_MS, 3000, 0, 10_000),
    intervalMs: int('SLACK_INTERVAL_MS', env.SLACK_INTERVAL_MS, 1000, 100, 60_000),
    burst: int('SLACK_BURST', env.SLACK_BURST, 2, 1, 20),
  };
}
