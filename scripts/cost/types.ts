/** The shapes the estimator, its per-service pricers and its renderers share. */
import type { CostAssumptions } from '../../lib/config/cost';
import type { TemplateResource } from '../diff/assembly';
import type { PriceFile } from './prices/schema';

/** One priced item of the monthly bill. */
export interface CostLine {
  /** Stack id inside the environment, e.g. `Data`. */
  readonly stack: string;
  readonly logicalId: string;
  readonly resourceType: string;
  /** What is billed, e.g. `db.m7g.large instance hours, Multi-AZ (2 instances)`. */
  readonly item: string;
  /** Monthly quantity in `unit`. */
  readonly quantity: number;
  readonly unit: string;
  readonly unitUsd: number;
  readonly monthlyUsd: number;
  /** The price file key the unit price came from. */
  readonly priceKey: string;
  /** The unit price is marked as an estimate in the price file. */
  readonly estimatedPrice: boolean;
  /** For a usage-based line: the assumption behind the quantity (and the config field that overrides it). */
  readonly assumption?: string;
}

/** A billable resource (or part of one) the estimator cannot price. Never counted as zero. */
export interface NotPriced {
  readonly stack: string;
  readonly logicalId: string;
  readonly resourceType: string;
  readonly reason: string;
}

/** Resource types that AWS does not bill for, counted so the reader sees nothing was skipped silently. */
export interface NoCharge {
  readonly resourceType: string;
  readonly count: number;
  readonly reason: string;
}

export interface EnvironmentEstimate {
  readonly environment: string;
  readonly region: string;
  /** `ap-northeast-2.json, read 2026-12-06`. */
  readonly priceFile: { readonly region: string; readonly readOn: string };
  /** True when the environment has no region of its own and `cost.assumptions.defaultRegion` was used. */
  readonly regionAssumed: boolean;
  readonly lines: readonly CostLine[];
  readonly notPriced: readonly NotPriced[];
  readonly noCharge: readonly NoCharge[];
  readonly totalUsd: number;
  readonly assumptions: CostAssumptions;
}

/** One resource of the environment, with where it lives. */
export interface ResourceRef {
  readonly stack: string;
  readonly logicalId: string;
  readonly resource: TemplateResource;
}

/** What a pricer may read: the price file, the assumptions and every resource of the environment. */
export interface PricingContext {
  readonly prices: PriceFile;
  readonly assumptions: CostAssumptions;
  /** Every resource of the environment, across its stacks. */
  readonly resources: readonly ResourceRef[];
  /** The resource with `logicalId` in `stack`, if any. */
  find(stack: string, logicalId: string): ResourceRef | undefined;
}

/** What a pricer returns for one resource. */
export interface Priced {
  readonly lines?: readonly Omit<CostLine, 'stack' | 'logicalId' | 'resourceType'>[];
  readonly notPriced?: readonly string[];
}

/** Prices one resource of a given type. */
export type Pricer = (ref: ResourceRef, ctx: PricingContext) => Priced;
