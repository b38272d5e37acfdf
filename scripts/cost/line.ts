/** Builds priced lines from price-file keys, so every pricer computes money the same way. */
import type { PriceFile } from './prices/schema';
import type { CostLine } from './types';

export type LineDraft = Omit<CostLine, 'stack' | 'logicalId' | 'resourceType'>;

/** Thrown by {@link line} when the price file lacks a key; the estimator turns it into "not priced". */
export class MissingPrice extends Error {
  constructor(readonly key: string, readonly region: string) {
    super(`no price "${key}" in scripts/cost/prices/${region}.json`);
  }
}

/** Rounds to cents only for display; totals are summed unrounded. */
export function usd(n: number): string {
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(n);
  const digits = abs > 0 && abs < 0.01 ? 4 : 2;
  return `${sign}$${abs.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}

/** One line: `quantity` of the price-file item `key`. */
export function line(prices: PriceFile, key: string, item: string, quantity: number, assumption?: string): LineDraft {
  const p = prices.prices[key];
  if (!p) throw new MissingPrice(key, prices.region);
  return {
    item,
    quantity,
    unit: p.unit,
    unitUsd: p.usd,
    monthlyUsd: quantity * p.usd,
    priceKey: key,
    estimatedPrice: p.estimate,
    ...(assumption ? { assumption } : {}),
  };
}

/** A literal number (or numeric string) from a template property; undefined for an intrinsic. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** A literal string from a template property; undefined for an intrinsic. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The logical IDs a value refers to through Ref / Fn::GetAtt, anywhere inside it. */
export function refsIn(v: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => refsIn(x, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'Ref' && typeof x === 'string') out.add(x);
      else if (k === 'Fn::GetAtt' && Array.isArray(x) && typeof x[0] === 'string') out.add(x[0]);
      else refsIn(x, out);
    }
  }
  return out;
}
