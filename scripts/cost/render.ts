/**
 * Renders estimates as a plain-text table (terminal), Markdown (README, PR comment) or JSON.
 * Each line shows its unit price and whether that price is an estimate (†) or the quantity rests
 * on a usage assumption (‡); the assumptions are listed under the table.
 */
import { byResource } from './estimate';
import { usd } from './line';
import { CENTS_TYPES } from './pricers';
import type { CostLine, EnvironmentEstimate } from './types';

export const FORMATS = ['table', 'json', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

function qty(n: number): string {
  if (n === 0) return '0';
  if (Math.abs(n) < 0.01) return n.toExponential(1);
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

function marks(l: CostLine): string {
  return `${l.estimatedPrice ? '†' : ''}${l.assumption ? '‡' : ''}`;
}

function unitPrice(l: CostLine): string {
  const digits = l.unitUsd >= 1 ? 2 : Math.min(10, Math.max(2, 1 - Math.floor(Math.log10(l.unitUsd || 1)) + 2));
  return `$${Number(l.unitUsd.toFixed(digits)).toString()}/${l.unit}`;
}

/** Lambda, SQS, SNS and EventBridge together: the issue asks that these be shown to come to cents. */
export function centsSubtotal(e: EnvironmentEstimate): number {
  return e.lines.filter((l) => CENTS_TYPES.has(l.resourceType)).reduce((s, l) => s + l.monthlyUsd, 0);
}

function heading(e: EnvironmentEstimate): string {
  return `${e.environment}: ${usd(e.totalUsd)}/month in ${e.region}${e.regionAssumed ? ' (no region in config; cost.assumptions.defaultRegion)' : ''}, prices read ${e.priceFile.readOn}`;
}

function assumptionList(e: EnvironmentEstimate): string[] {
  return [...new Set(e.lines.filter((l) => l.assumption).map((l) => l.assumption!))].sort();
}

function pad(rows: string[][], right: Set<number>): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => [...r[i]].length)));
  return rows.map((r) => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd());
}

export function renderTable(estimates: readonly EnvironmentEstimate[]): string {
  const out: string[] = [];
  for (const e of estimates) {
    out.push(heading(e), '');
    const rows = [['Stack', 'Resource', 'Item', 'Quantity', 'Unit price', 'Monthly', '']];
    for (const l of [...e.lines].sort((a, b) => b.monthlyUsd - a.monthlyUsd)) {
      rows.push([l.stack, l.logicalId, l.item, qty(l.quantity), unitPrice(l), usd(l.monthlyUsd), marks(l)]);
    }
    out.push(...pad(rows, new Set([3, 4, 5])), '');
    out.push(`Lambda, SQS, SNS and EventBridge together: ${usd(centsSubtotal(e))}/month (cents).`);
    out.push(`† price marked as an estimate in scripts/cost/prices/${e.priceFile.region}.json; ‡ usage-based, assumption:`);
    for (const a of assumptionList(e)) out.push(`    ${a}`);
    if (e.notPriced.length > 0) {
      out.push(`NOT PRICED (${e.notPriced.length}; not included in the total):`);
      for (const n of e.notPriced) out.push(`    ${n.stack}/${n.logicalId} (${n.resourceType}): ${n.reason}`);
    }
    out.push(`No charge: ${e.noCharge.map((n) => `${n.count} × ${n.resourceType}`).join(', ')}.`, '');
  }
  out.push(...summaryTable(estimates, 'text'));
  return out.join('\n') + '\n';
}

function summaryTable(estimates: readonly EnvironmentEstimate[], kind: 'text' | 'markdown'): string[] {
  const rows = [['Environment', 'Region', 'Monthly', 'Not priced', 'Largest items']];
  for (const e of estimates) {
    const top = byResource(e)
      .slice(0, 3)
      .map((g) => `${g.logicalId} ${usd(g.monthlyUsd)}`)
      .join(', ');
    rows.push([e.environment, e.region, usd(e.totalUsd), String(e.notPriced.length), top]);
  }
  if (kind === 'text') return pad(rows, new Set([2, 3]));
  return [`| ${rows[0].join(' | ')} |`, '|---|---|--:|--:|---|', ...rows.slice(1).map((r) => `| ${r.map(mdCell).join(' | ')} |`)];
}

function mdCell(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function renderMarkdown(estimates: readonly EnvironmentEstimate[]): string {
  const out: string[] = summaryTable(estimates, 'markdown');
  out.push('');
  for (const e of estimates) {
    out.push(`<details><summary><b>${mdCell(heading(e))}</b></summary>`, '');
    out.push('| Stack | Resource | Item | Quantity | Unit price | Monthly | |', '|---|---|---|--:|--:|--:|---|');
    for (const l of [...e.lines].sort((a, b) => b.monthlyUsd - a.monthlyUsd)) {
      out.push(`| ${[l.stack, `\`${l.logicalId}\``, l.item, qty(l.quantity), unitPrice(l), usd(l.monthlyUsd), marks(l)].map((c, i) => (i === 1 ? c : mdCell(c))).join(' | ')} |`);
    }
    out.push('', `Lambda, SQS, SNS and EventBridge together: ${usd(centsSubtotal(e))}/month.`, '');
    out.push(`† price marked as an estimate in \`scripts/cost/prices/${e.priceFile.region}.json\`; ‡ usage-based:`, '');
    for (const a of assumptionList(e)) out.push(`- ${mdCell(a)}`);
    if (e.notPriced.length > 0) {
      out.push('', `**Not priced** (${e.notPriced.length}, not in the total):`, '');
      for (const n of e.notPriced) out.push(`- \`${n.stack}/${n.logicalId}\` (${n.resourceType}): ${mdCell(n.reason)}`);
    }
    out.push('', `No charge: ${e.noCharge.map((n) => `${n.count} × ${n.resourceType}`).join(', ')}.`, '', '</details>', '');
  }
  return out.join('\n');
}

export function renderJson(estimates: readonly EnvironmentEstimate[]): string {
  return JSON.stringify({ environments: estimates.map((e) => ({ ...e, centsSubtotalUsd: centsSubtotal(e) })) }, null, 2) + '\n';
}

export function render(estimates: readonly EnvironmentEstimate[], format: Format): string {
  return format === 'json' ? renderJson(estimates) : format === 'markdown' ? renderMarkdown(estimates) : renderTable(estimates);
}
