/** A small price file with round numbers, so expected totals can be worked out by hand. */
import { costSchema } from '../../../lib/config/cost';
import { REQUIRED_PRICE_KEYS, priceFileSchema, type PriceFile } from '../../../scripts/cost/prices/schema';

export function testPrices(overrides: Record<string, number> = {}): PriceFile {
  const prices: Record<string, { usd: number; unit: string; source: string; estimate: boolean }> = {};
  for (const k of REQUIRED_PRICE_KEYS) prices[k] = { usd: 1, unit: 'month', source: 'test', estimate: false };
  const set = (k: string, usd: number, unit: string) => (prices[k] = { usd, unit, source: 'test', estimate: false });
  set('rds.instance.db.t4g.medium', 0.1, 'hour');
  set('rds.instance.db.t4g.large', 0.2, 'hour');
  set('rds.storage.gp3', 0.1, 'GB-month');
  set('rds.backup', 0.1, 'GB-month');
  set('vpc.natGateway.hour', 0.05, 'hour');
  set('vpc.natGateway.gb', 0.05, 'GB');
  set('vpc.publicIpv4.hour', 0.005, 'hour');
  set('kms.key', 1, 'month');
  set('secretsManager.secret', 0.4, 'month');
  set('cloudwatch.metric', 0.3, 'month');
  set('cloudwatch.logs.ingest', 0.5, 'GB');
  for (const [k, v] of Object.entries(overrides)) prices[k] = { ...(prices[k] ?? { unit: 'hour', source: 'test', estimate: false }), usd: v };
  return priceFileSchema.parse({
    region: 'us-east-1',
    currency: 'USD',
    hoursPerMonth: 730,
    readOn: '2026-12-06',
    sources: [{ id: 'test', url: 'https://example.com/prices', title: 'test prices' }],
    prices,
  });
}

/** Default assumptions, with some overridden. */
export function assumptions(over: Partial<ReturnType<typeof costSchema.parse>['assumptions']> = {}) {
  return { ...costSchema.parse({}).assumptions, ...over };
}
