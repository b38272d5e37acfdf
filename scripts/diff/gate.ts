/**
 * The gate: a stateful resource (stateful.ts) that would be replaced, destroyed or orphaned blocks
 * the change, unless an `--allow` entry names it. Each finding says which resource, where, and why.
 */
import type { ResourceChange, StackDiff } from './template-diff';

export interface Finding {
  /** `dev/Data` */
  readonly stack: string;
  readonly environment: string;
  readonly stackId: string;
  readonly change: ResourceChange;
  /** What happens to the resource and its data, and why it counts as stateful. */
  readonly why: string;
  /** The `--allow` entry that accepted it, if any. */
  readonly allowedBy?: string;
}

export interface GateResult {
  readonly blocking: readonly Finding[];
  readonly allowed: readonly Finding[];
  /** `--allow` entries that matched nothing (likely a typo). */
  readonly unusedAllows: readonly string[];
  /** 1 when anything blocks, else 0. */
  readonly exitCode: 0 | 1;
}

const DESTRUCTIVE = new Set(['replaced', 'destroyed', 'orphaned']);

/**
 * Checks one `--allow` entry: it must name its environment, so that accepting a destructive change
 * in dev can never also accept the same logical ID in prod. Accepted forms:
 * `<env>/<LogicalId>`, `<env>/<Stack>/<LogicalId>` or a construct path `<env>/<Stack>/…/Resource`.
 * Returns an error message, or undefined when the entry is well-formed.
 */
export function allowEntryProblem(entry: string, environments?: readonly string[]): string | undefined {
  const e = entry.trim();
  const hint = 'name the environment: <env>/<LogicalId>, <env>/<Stack>/<LogicalId> or a construct path like prod/Data/Database/Instance/Resource';
  if (e === '') return `--allow needs a value; ${hint}`;
  if (/\s/.test(e)) return `--allow ${JSON.stringify(entry)} contains whitespace; ${hint}`;
  if (/^AWS::/i.test(e) || /::/.test(e.split('/')[0] ?? '')) return `--allow ${e}: a resource type would accept every such resource in every environment; ${hint}`;
  const [env, ...rest] = e.split('/');
  if (rest.length === 0 || rest.some((x) => x === '')) return `--allow ${e} is not environment-qualified; ${hint}`;
  if (environments && !environments.includes(env)) return `--allow ${e}: "${env}" is not an environment (${environments.join(', ')})`;
  return undefined;
}

/**
 * An allow entry matches a finding by environment-qualified logical ID (`prod/DatabaseInstance1A2B3C4D`),
 * stack-qualified logical ID (`prod/Data/DatabaseInstance1A2B3C4D`) or construct path
 * (`prod/Data/Database/Instance/Resource`); see {@link allowEntryProblem}. A bare logical ID or a
 * resource type matches nothing.
 */
export function evaluateGate(stacks: readonly StackDiff[], allow: readonly string[] = []): GateResult {
  const blocking: Finding[] = [];
  const allowed: Finding[] = [];
  const used = new Set<string>();
  for (const s of stacks) {
    for (const change of s.resources) {
      if (!change.stateful || !DESTRUCTIVE.has(change.kind)) continue;
      const keys = [`${s.environment}/${change.logicalId}`, `${s.displayName}/${change.logicalId}`, change.path].filter(Boolean);
      const allowedBy = allow.find((a) => keys.includes(a));
      const finding: Finding = {
        stack: s.displayName,
        environment: s.environment,
        stackId: s.stackId,
        change,
        why: explain(change, s.status === 'removed' ? s.displayName : undefined),
        allowedBy,
      };
      if (allowedBy) {
        used.add(allowedBy);
        allowed.push(finding);
      } else {
        blocking.push(finding);
      }
    }
  }
  return {
    blocking,
    allowed,
    unusedAllows: [...new Set(allow)].filter((a) => !used.has(a)),
    exitCode: blocking.length > 0 ? 1 : 0,
  };
}

/** One sentence: what happens, what becomes of the data, and why the resource holds data. */
export function explain(c: ResourceChange, removedStack?: string): string {
  let what: string;
  switch (c.kind) {
    case 'replaced': {
      const causes = c.replacementCauses.length > 0 ? c.replacementCauses.join(', ') : 'a property';
      what = c.conditional
        ? `may be replaced: changing ${causes} can require a new resource`
        : `replaced: changing ${causes} requires a new resource`;
      switch (c.updateReplacePolicy) {
        case 'Snapshot': what += '; the old one is snapshotted, then deleted'; break;
        case 'Retain':
        case 'RetainExceptOnCreate': what += '; the old one is kept but detached, and the stack uses a new, empty one'; break;
        default: what += '; the old one and its data are deleted';
      }
      break;
    }
    case 'destroyed':
      what = removedStack ? `destroyed: its stack ${removedStack} is removed` : 'destroyed: removed from the template';
      what += c.deletionPolicy === 'Snapshot' ? ' (DeletionPolicy Snapshot: a final snapshot is taken, then it is deleted)' : '; it and its data are deleted';
      break;
    case 'orphaned':
      what = removedStack ? `orphaned: its stack ${removedStack} is removed` : 'orphaned: removed from the template';
      what += ` with DeletionPolicy ${c.deletionPolicy ?? 'Retain'}; CloudFormation stops managing it (it keeps running and costing, and re-creating it under the same name fails)`;
      break;
    default:
      what = c.kind;
  }
  return `${what}. ${c.stateful}.`;
}
