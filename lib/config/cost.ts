/**
 * The cost-estimate settings of one environment (`npm run cost`, and the cost section of the PR
 * diff). Usage-based line items (data through NAT, log volume, backup churn, requests) cannot be read
 * from a template, so each rests on a stated assumption here; override any of them per environment
 * in `lib/config/environments.ts` (`cost: { assumptions: { natProcessedGiB: 200 } }`).
 */
import { z } from 'zod';

const nonNegative = z.number().min(0);
const percent = z.number().min(0).max(100);

export const costAssumptionsSchema = z.strictObject({
  /** Region whose price file is used when the environment has no `region` (environment-agnostic synth). */
  defaultRegion: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as "ap-northeast-2"').default('ap-northeast-2'),
  /** GiB a month through all NAT gateways together (package updates, Slack webhooks, AWS APIs without an endpoint). */
  natProcessedGiB: nonNegative.default(20),
  /** GiB a month through all interface endpoints together (Secrets Manager, CloudWatch, Logs, SSM, KMS calls). */
  interfaceEndpointProcessedGiB: nonNegative.default(5),
  /** GiB a month of VPC flow-log records delivered to CloudWatch Logs. */
  flowLogGiB: nonNegative.default(5),
  /** GiB a month ingested by each other log group (function, database and cache logs). */
  logGroupGiB: nonNegative.default(0.2),
  /** KiB of one Enhanced Monitoring sample (RDSOSMetrics log event, process list included). */
  enhancedMonitoringSampleKiB: nonNegative.default(8),
  /** Custom metrics published (db-health EMF metrics, CloudWatch agent memory/disk metrics). */
  customMetrics: z.number().int().min(0).default(30),
  /** Metrics EC2 detailed monitoring bills per instance (CPU, network, disk, status checks). */
  detailedMonitoringMetricsPerInstance: z.number().int().min(0).default(7),
  /** Share of the database's allocated storage that holds data (what backups copy). */
  dbStorageUsedPercent: percent.default(50),
  /** Share of the database's data that changes each day (incremental backup growth). */
  dbDailyChangePercent: percent.default(2),
  /** Share of each worker data volume ever written (docs/runbooks/workers.md: 100% is the upper bound). */
  workerVolumeWrittenPercent: percent.default(100),
  /** Share of each worker data volume rewritten each day (docs/runbooks/workers.md: 2%). */
  workerDailyChurnPercent: percent.default(2),
  /** GiB held by the cache (size of each daily cache snapshot). */
  cacheDataGiB: nonNegative.default(0.5),
  /** Invocations a month of each Lambda function. */
  lambdaInvocationsPerFunction: nonNegative.default(50_000),
  /** Average duration of one invocation, in ms. */
  lambdaAverageMs: nonNegative.default(500),
  /** Requests a month to each SQS queue and each SNS topic. */
  messagesPerMonth: nonNegative.default(100_000),
});

export const costSchema = z.strictObject({
  /** The usage assumptions behind usage-based line items. */
  assumptions: costAssumptionsSchema.prefault({}),
  /**
   * In a production environment, a pull request that raises the monthly estimate by more than this
   * share (0.1 = 10%) is flagged in the diff report. It is never blocked.
   */
  flagIncreaseShare: z.number().gt(0).max(10).default(0.1),
});

export type CostAssumptions = z.output<typeof costAssumptionsSchema>;
export type CostConfig = z.output<typeof costSchema>;
