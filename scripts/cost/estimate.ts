/**
 * Estimates the monthly cost of one environment from its synthesized templates: every resource is
 * handed to the pricer for its type; types AWS does not bill for are counted as "no charge" with the
 * reason; anything else is "not priced" and never counted as zero.
 */
import type { CostAssumptions } from '../../lib/config/cost';
import type { StackArtifact } from '../diff/assembly';
import { MissingPrice, type LineDraft } from './line';
import { customMetricsLine } from './pricers/monitoring';
import { NO_CHARGE, PRICERS } from './pricers';
import type { PriceFile } from './prices/schema';
import type { CostLine, EnvironmentEstimate, NoCharge, NotPriced, PricingContext, ResourceRef } from './types';

export interface EstimateInput {
  readonly environment: string;
  /** The environment's stacks (their templates). */
  readonly stacks: readonly Pick<StackArtifact, 'stackId' | 'template'>[];
  readonly prices: PriceFile;
  readonly assumptions: CostAssumptions;
  /** The environment had no region of its own; the price file is the default region's. @default false */
  readonly regionAssumed?: boolean;
}

export function estimateEnvironment(input: EstimateInput): EnvironmentEstimate {
  const resources: ResourceRef[] = input.stacks.flatMap((s) => Object.entries(s.template.Resources ?? {}).map(([logicalId, resource]) => ({ stack: s.stackId, logicalId, resource })));
  const index = new Map(resources.map((r) => [`${r.stack}\0${r.logicalId}`, r]));
  const ctx: PricingContext = {
    prices: input.prices,
    assumptions: input.assumptions,
    resources,
    find: (stack, logicalId) => index.get(`${stack}\0${logicalId}`),
  };
  const lines: CostLine[] = [];
  const notPriced: NotPriced[] = [];
  const free = new Map<string, NoCharge>();
  const attach = (ref: ResourceRef, drafts: readonly LineDraft[]) => {
    for (const d of drafts) lines.push({ stack: ref.stack, logicalId: ref.logicalId, resourceType: ref.resource.Type, ...d });
  };

  for (const ref of resources) {
    const type = ref.resource.Type;
    const pricer = PRICERS[type];
    if (pricer) {
      try {
        const r = pricer(ref, ctx);
        attach(ref, r.lines ?? []);
        for (const reason of r.notPriced ?? []) notPriced.push({ stack: ref.stack, logicalId: ref.logicalId, resourceType: type, reason });
      } catch (e) {
        if (!(e instanceof MissingPrice)) throw e;
        notPriced.push({ stack: ref.stack, logicalId: ref.logicalId, resourceType: type, reason: e.message });
      }
    } else if (NO_CHARGE[type] !== undefined) {
      const f = free.get(type);
      free.set(type, { resourceType: type, count: (f?.count ?? 0) + 1, reason: NO_CHARGE[type] });
    } else {
      notPriced.push({ stack: ref.stack, logicalId: ref.logicalId, resourceType: type, reason: `no pricer for resource type ${type}` });
    }
  }

  // Custom metrics are published at run time, not declared: one line for the environment.
  if (resources.length > 0 && input.assumptions.customMetrics > 0) {
    try {
      lines.push({ stack: '(environment)', logicalId: 'CustomMetrics', resourceType: 'AWS::CloudWatch::Metric', ...customMetricsLine(ctx) });
    } catch (e) {
      if (!(e instanceof MissingPrice)) throw e;
      notPriced.push({ stack: '(environment)', logicalId: 'CustomMetrics', resourceType: 'AWS::CloudWatch::Metric', reason: e.message });
    }
  }

  return {
    environment: input.environment,
    region: input.prices.region,
    regionAssumed: input.regionAssumed ?? false,
    priceFile: { region: input.prices.region, readOn: input.prices.readOn },
    lines,
    notPriced,
    noCharge: [...free.values()].sort((a, b) => a.resourceType.localeCompare(b.resourceType)),
    totalUsd: lines.reduce((s, l) => s + l.monthlyUsd, 0),
    assumptions: input.assumptions,
  };
}

/** Lines grouped by resource (stack + logical ID), largest first: the "top items" view. */
export function byResource(e: EnvironmentEstimate): Array<{ stack: string; logicalId: string; resourceType: string; monthlyUsd: number; items: string[] }> {
  const m = new Map<string, { stack: string; logicalId: string; resourceType: string; monthlyUsd: number; items: string[] }>();
  for (const l of e.lines) {
    const k = `${l.stack}/${l.logicalId}`;
    const g = m.get(k) ?? { stack: l.stack, logicalId: l.logicalId, resourceType: l.resourceType, monthlyUsd: 0, items: [] };
    g.monthlyUsd += l.monthlyUsd;
    g.items.push(l.item);
    m.set(k, g);
  }
  return [...m.values()].sort((a, b) => b.monthlyUsd - a.monthlyUsd);
}
