/**
 * Estimates the environments of a read cloud assembly with each environment's own config
 * (region, usage assumptions): the shared step of `npm run cost` and the diff report's cost section.
 */
import { ENVIRONMENTS, loadEnvironment, type EnvironmentConfig } from '../../lib/config';
import { AssemblyError, type Assembly } from '../diff/assembly';
import { estimateEnvironment } from './estimate';
import { loadPrices } from './prices/load';
import type { EnvironmentEstimate } from './types';

/** The validated config of a known environment, or undefined for a name the config does not have. */
export function configOf(env: string): EnvironmentConfig | undefined {
  const raw = (ENVIRONMENTS as Record<string, unknown>)[env];
  return raw === undefined ? undefined : loadEnvironment(env, raw);
}

/** Environments that have stacks in the assembly, in assembly order. */
export function environmentsIn(asm: Assembly): string[] {
  return [...new Set(asm.stacks.map((s) => s.environment).filter((e) => e !== ''))];
}

/**
 * Estimates `env` from `asm`; `region` overrides the config's region (else the config's, else
 * cost.assumptions.defaultRegion). Throws AssemblyError when the assembly has no stack of `env`.
 */
export function estimateFromAssembly(asm: Assembly, env: string, region?: string): EnvironmentEstimate {
  const cfg = configOf(env);
  if (!cfg) throw new AssemblyError(`environment "${env}" has no config in lib/config/environments.ts`);
  const stacks = asm.stacks.filter((s) => s.environment === env);
  if (stacks.length === 0) throw new AssemblyError(`the assembly in ${asm.directory} has no stacks of environment "${env}"`);
  const r = region ?? cfg.region ?? cfg.cost.assumptions.defaultRegion;
  return estimateEnvironment({ environment: env, stacks, prices: loadPrices(r), assumptions: cfg.cost.assumptions, regionAssumed: region === undefined && cfg.region === undefined });
}
