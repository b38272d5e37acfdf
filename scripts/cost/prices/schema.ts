/**
 * The shape of a pinned price file (`scripts/cost/prices/<region>.json`): where each figure was
 * read, when, and whether it is a published list price or an estimate (with the reason). The
 * estimator never reaches the network; a price that is not in the file makes its line "not priced".
 */
import { z } from 'zod';

/** Units a price can be quoted in; the estimator multiplies by the matching monthly quantity. */
export const PRICE_UNITS = ['hour', 'month', 'GB-month', 'GB', 'vCPU-month', 'IOPS-month', 'MBps-month', 'million requests', 'GB-second'] as const;

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be an ISO date (YYYY-MM-DD)');

export const priceSchema = z
  .strictObject({
    /** US dollars per `unit`. */
    usd: z.number().min(0),
    unit: z.enum(PRICE_UNITS),
    /** Id of the entry in `sources` the figure was read from. */
    source: z.string().min(1),
    /** True when the figure is not a published list price read for this file (derived, or from a secondary source). */
    estimate: z.boolean().default(false),
    /** Why it is an estimate, or what the figure covers. Required for an estimate. */
    note: z.string().min(1).optional(),
  })
  .refine((p) => !p.estimate || p.note !== undefined, { message: 'an estimate needs a note saying how the figure was obtained', path: ['note'] });

/** The keys every price file must have; instance-class keys (`rds.instance.db.t4g.medium`) are open-ended. */
export const REQUIRED_PRICE_KEYS = [
  'rds.storage.gp3',
  'rds.backup',
  'rds.performanceInsights.firstMonth',
  'rds.performanceInsights.additionalMonth',
  'elasticache.backup',
  'ebs.gp3',
  'ebs.gp3.iops',
  'ebs.gp3.throughput',
  'ebs.snapshot',
  'vpc.natGateway.hour',
  'vpc.natGateway.gb',
  'vpc.publicIpv4.hour',
  'vpc.interfaceEndpoint.hour',
  'vpc.interfaceEndpoint.gb',
  'kms.key',
  'secretsManager.secret',
  'cloudwatch.alarm.standard',
  'cloudwatch.alarm.highResolution',
  'cloudwatch.alarm.composite',
  'cloudwatch.dashboard',
  'cloudwatch.metric',
  'cloudwatch.logs.ingest',
  'cloudwatch.logs.vendedIngest',
  'cloudwatch.logs.storage',
  'backup.rds',
  'backup.ebs',
  'lambda.requests',
  'lambda.gbSecond.arm64',
  'lambda.gbSecond.x86_64',
  'sqs.requests',
  'sns.requests',
] as const;

const KEY = /^[a-zA-Z0-9]+(\.[a-zA-Z0-9_-]+)+$/;

export const priceFileSchema = z
  .strictObject({
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as "ap-northeast-2"'),
    currency: z.literal('USD'),
    /** Hours in the billing month the estimate uses (AWS's calculator uses 730). */
    hoursPerMonth: z.number().positive(),
    /** The date the prices were read. */
    readOn: isoDate,
    sources: z.array(z.strictObject({ id: z.string().min(1), url: z.url({ protocol: /^https$/ }), title: z.string().min(1) })).min(1),
    prices: z.record(z.string().regex(KEY, 'must be a dotted key such as "rds.instance.db.t4g.medium"'), priceSchema),
  })
  .superRefine((f, ctx) => {
    const ids = new Set(f.sources.map((s) => s.id));
    if (ids.size !== f.sources.length) ctx.addIssue({ code: 'custom', path: ['sources'], message: 'source ids must be unique' });
    for (const [key, p] of Object.entries(f.prices)) {
      if (!ids.has(p.source)) ctx.addIssue({ code: 'custom', path: ['prices', key, 'source'], message: `unknown source "${p.source}"; known: ${[...ids].join(', ')}` });
    }
    for (const key of REQUIRED_PRICE_KEYS) {
      if (!(key in f.prices)) ctx.addIssue({ code: 'custom', path: ['prices', key], message: 'is required' });
    }
  });

export type Price = z.output<typeof priceSchema>;
export type PriceFile = z.output<typeof priceFileSchema>;
