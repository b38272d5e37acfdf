/**
 * The cost section of the PR diff report: each environment's estimated monthly total before and
 * after, the delta, and the resources whose cost changed most. A production environment whose
 * estimate rises by more than its `cost.flagIncreaseShare` is flagged; the gate never blocks on cost.
 */
import type { Assembly } from '../diff/assembly';
import { configOf, environmentsIn, estimateFromAssembly } from './environments';
import { byResource } from './estimate';
import { usd } from './line';
import type { EnvironmentEstimate } from './types';

export interface ResourceChange {
  readonly stack: string;
  readonly logicalId: string;
  readonly resourceType: string;
  readonly beforeUsd: number;
  readonly afterUsd: number;
  readonly deltaUsd: number;
  /** What is billed after the change (before, for a removed resource). */
  readonly items: readonly string[];
}

export interface CostDiff {
  readonly environment: string;
  readonly region?: string;
  readonly beforeUsd?: number;
  readonly afterUsd?: number;
  readonly deltaUsd?: number;
  /** delta / before; undefined when there was nothing before. */
  readonly share?: number;
  readonly threshold?: number;
  /** A production environment whose estimate rose by more than `threshold`. */
  readonly flagged: boolean;
  /** Resources whose monthly cost changed, largest change first. */
  readonly changes: readonly ResourceChange[];
  /** Resources the new templates leave unpriced (not in the totals). */
  readonly notPricedAfter: number;
  readonly priceFile?: { readonly region: string; readonly readOn: string };
  /** Why there is no estimate (unknown environment, missing price file …). */
  readonly unavailable?: string;
}

/** Compares two estimates of one environment (either may be missing: environment added or removed). */
export function compareEstimates(before: EnvironmentEstimate | undefined, after: EnvironmentEstimate | undefined, opts: { production: boolean; threshold: number }): CostDiff {
  const env = (after ?? before)!;
  const b = new Map((before ? byResource(before) : []).map((g) => [`${g.stack}/${g.logicalId}`, g]));
  const a = new Map((after ? byResource(after) : []).map((g) => [`${g.stack}/${g.logicalId}`, g]));
  const changes: ResourceChange[] = [];
  for (const key of new Set([...b.keys(), ...a.keys()])) {
    const x = b.get(key);
    const y = a.get(key);
    const delta = (y?.monthlyUsd ?? 0) - (x?.monthlyUsd ?? 0);
    if (Math.abs(delta) < 0.005) continue;
    const g = (y ?? x)!;
    changes.push({ stack: g.stack, logicalId: g.logicalId, resourceType: g.resourceType, beforeUsd: x?.monthlyUsd ?? 0, afterUsd: y?.monthlyUsd ?? 0, deltaUsd: delta, items: g.items });
  }
  changes.sort((p, q) => Math.abs(q.deltaUsd) - Math.abs(p.deltaUsd) || p.logicalId.localeCompare(q.logicalId));
  const beforeUsd = before?.totalUsd ?? 0;
  const afterUsd = after?.totalUsd ?? 0;
  const deltaUsd = afterUsd - beforeUsd;
  const share = before && beforeUsd > 0 ? deltaUsd / beforeUsd : undefined;
  return {
    environment: env.environment,
    region: env.region,
    beforeUsd: before?.totalUsd,
    afterUsd: after?.totalUsd,
    deltaUsd,
    share,
    threshold: opts.threshold,
    flagged: opts.production && share !== undefined && share > opts.threshold,
    changes,
    notPricedAfter: after?.notPriced.length ?? 0,
    priceFile: env.priceFile,
  };
}

/** Cost diffs of every environment in either assembly. Pricing problems become `unavailable`, never a failure. */
export function diffCosts(oldAsm: Assembly, newAsm: Assembly): CostDiff[] {
  const envs = [...new Set([...environmentsIn(newAsm), ...environmentsIn(oldAsm)])];
  return envs.map((env) => {
    try {
      const cfg = configOf(env);
      if (!cfg) return { environment: env, flagged: false, changes: [], notPricedAfter: 0, unavailable: 'no config for this environment in lib/config/environments.ts' };
      const has = (asm: Assembly) => asm.stacks.some((s) => s.environment === env);
      const before = has(oldAsm) ? estimateFromAssembly(oldAsm, env) : undefined;
      const after = has(newAsm) ? estimateFromAssembly(newAsm, env) : undefined;
      return compareEstimates(before, after, { production: cfg.production, threshold: cfg.cost.flagIncreaseShare });
    } catch (e) {
      return { environment: env, flagged: false, changes: [], notPricedAfter: 0, unavailable: (e as Error).message.split('\n')[0] };
    }
  });
}

function signed(n: number): string {
  return n > 0 ? `+${usd(n)}` : n < 0 ? usd(n) : '±$0.00';
}

function pct(share: number | undefined): string {
  return share === undefined ? 'new' : `${share > 0 ? '+' : ''}${(share * 100).toFixed(1)}%`;
}

function cell(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The Markdown lines of the report's cost section. */
export function renderCostSection(diffs: readonly CostDiff[], topN = 5): string[] {
  if (diffs.length === 0) return [];
  const L: string[] = ['### 💰 Estimated monthly cost', ''];
  for (const d of diffs.filter((x) => x.flagged)) {
    L.push('> [!WARNING]', `> **${d.environment}'s estimated monthly cost rises by ${pct(d.share)}** (${usd(d.beforeUsd ?? 0)} → ${usd(d.afterUsd ?? 0)}), above the ${((d.threshold ?? 0) * 100).toFixed(0)}% set in \`cost.flagIncreaseShare\`. Flagged for review, not blocked.`, '');
  }
  L.push('| Environment | Before | After | Δ / month | Δ % | |', '|---|--:|--:|--:|--:|---|');
  for (const d of diffs) {
    if (d.unavailable) {
      L.push(`| **${cell(d.environment)}** | | | | | not estimated: ${cell(d.unavailable)} |`);
      continue;
    }
    const note = [d.flagged ? '⚠️ flagged' : '', d.notPricedAfter > 0 ? `${d.notPricedAfter} not priced` : '', d.beforeUsd === undefined ? 'new environment' : d.afterUsd === undefined ? 'environment removed' : ''].filter(Boolean).join(', ');
    L.push(`| **${cell(d.environment)}** | ${d.beforeUsd === undefined ? '–' : usd(d.beforeUsd)} | ${d.afterUsd === undefined ? '–' : usd(d.afterUsd)} | ${signed(d.deltaUsd ?? 0)} | ${pct(d.share)} | ${note} |`);
  }
  L.push('');
  for (const d of diffs.filter((x) => x.changes.length > 0)) {
    const shown = d.changes.slice(0, topN);
    L.push(`<details><summary><b>${cell(d.environment)}</b>: ${d.changes.length} resource${d.changes.length === 1 ? '' : 's'} change the estimate (top ${shown.length})</summary>`, '');
    L.push('| Resource | Before | After | Δ / month | What is billed |', '|---|--:|--:|--:|---|');
    for (const c of shown) L.push(`| \`${c.stack}/${c.logicalId}\` | ${usd(c.beforeUsd)} | ${usd(c.afterUsd)} | ${signed(c.deltaUsd)} | ${cell(c.items.join('; ')).slice(0, 300)} |`);
    L.push('', '</details>', '');
  }
  const files = [...new Set(diffs.filter((d) => d.priceFile).map((d) => `${d.priceFile!.region} (read ${d.priceFile!.readOn})`))];
  L.push(`<sub>Estimated offline from the templates with the pinned prices of ${files.join(', ') || 'no region'} and the usage assumptions in \`cost.assumptions\`; \`npm run cost\` shows every line.</sub>`, '');
  return L;
}
