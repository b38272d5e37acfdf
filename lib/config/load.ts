/**
 * Validates raw environment config and turns zod's issues into one message that names the
 * environment and each bad field, e.g.
 * `Invalid config for environment "prod": database.port: must not be the default 5432`.
 */
import { environmentSchema, type EnvironmentConfig } from './schema';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') || '(root)';
}

/** Parse one environment's config; throws ConfigError naming the environment and every bad field. */
export function loadEnvironment(envName: string, raw: unknown): EnvironmentConfig {
  const r = environmentSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const value = valueAt(raw, i.path);
      const shown = value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
      return `  - ${fieldPath(i.path)}: ${i.message}${shown}`;
    });
    throw new ConfigError(
      `Invalid config for environment "${envName}":\n${lines.join('\n')}\nFix the value in lib/config/environments.ts (or the -c override you passed).`,
    );
  }
  if (r.data.name !== envName) {
    throw new ConfigError(`Invalid config for environment "${envName}":\n  - name: must equal the environment key "${envName}" (got "${r.data.name}")`);
  }
  return r.data;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  // Only echo scalars: an object dump would be noise, and no secret values live in config.
  return typeof v === 'object' ? undefined : v;
}
