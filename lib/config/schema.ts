/**
 * The typed, validated configuration of one environment. Validated with zod at synth, so a bad
 * value fails `cdk synth` with the environment and field named, long before CloudFormation sees it.
 */
import { z } from 'zod';
import { cacheParameterGroupFamily, knownCacheVersions, minMaxAllocatedStorageGiB } from './aws-limits';
import { cacheServiceSchema, checkCacheRegistry, DEFAULT_CACHE_SERVICES, keyPatternSchema, SEED_000_NAMESPACES } from './cache-registry';
import { costSchema } from './cost';
import { serviceRegistrySchema } from './service-registry';

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const identifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier (letters, digits, "_"; at most 63 characters)');

/** `t4g.medium`, `r7g.large`: the class without the `db.`/`cache.` prefix. */
const instanceClass = z
  .string()
  .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must look like "t4g.medium" (family.size, without a "db." or "cache." prefix)');

export const networkSchema = z.strictObject({
  /** CIDR of the VPC. */
  cidr: z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-4])$/, 'must be an IPv4 CIDR between /16 and /24'),
  /** Availability zones the VPC spans: 2 in dev, 3 in prod. */
  maxAzs: int(2, 6),
  /** NAT gateways: 1 in dev (cheap), one per AZ in prod (no cross-AZ single point of failure). */
  natGateways: int(1, 6),
  /** Retention of VPC flow logs, in days. */
  flowLogRetentionDays: z.union([z.literal(7), z.literal(14), z.literal(30), z.literal(90), z.literal(365)]),
  /**
   * How private subnets reach the internet: `gateway` (managed NAT gateways) or `instance` (a
   * t4g.nano NAT instance per gateway slot: ~$40/month cheaper each, but no managed failover or
   * patching, and bandwidth of a nano). `instance` is refused in production. @default 'gateway'
   */
  nat: z.enum(['gateway', 'instance']).default('gateway'),
  /**
   * Interface endpoints (Secrets Manager, CloudWatch, Logs, SSM, KMS): in `every-az`, in `one-az`
   * (other AZs cross the AZ boundary), or `none` (AWS API calls go out through NAT). Production
   * requires `every-az`. @default 'every-az' in production, 'one-az' elsewhere
   */
  interfaceEndpoints: z.enum(['every-az', 'one-az', 'none']).optional(),
});

export const databaseSchema = z.strictObject({
  /** RDS instance class without `db.`, e.g. `t4g.medium`. */
  instanceClass,
  /** Initial gp3 storage in GiB. */
  allocatedStorageGiB: int(20, 65536),
  /** Upper bound for storage autoscaling in GiB. */
  maxAllocatedStorageGiB: int(20, 65536),
  /** Standby in a second AZ. */
  multiAz: z.boolean(),
  /** A read replica of the primary (seed 004: primary plus replica). */
  readReplica: z.boolean(),
  /** Instance class of the replica; defaults to the primary's. */
  replicaInstanceClass: instanceClass.optional(),
  /** Automated backup retention in days (seed 004: 30). */
  backupRetentionDays: int(1, 35),
  /** Deletion protection and snapshot-on-delete. */
  deletionProtection: z.boolean(),
  /** Listener port; deliberately not 5432 so default-port scans miss it. */
  port: int(1150, 65535).refine((p) => p !== 5432, 'must not be the default 5432'),
  /** Name of the application database. */
  databaseName: identifier,
  /** Master user name. */
  masterUsername: identifier.refine((u) => !['postgres', 'rdsadmin', 'admin'].includes(u), 'is reserved on RDS'),
  /** Enhanced monitoring interval in seconds. */
  monitoringIntervalSeconds: z.union([z.literal(1), z.literal(5), z.literal(10), z.literal(15), z.literal(30), z.literal(60)]),
  /** Performance Insights retention in days: 7 is free; otherwise a multiple of 31 up to 731. */
  performanceInsightsRetentionDays: z.number().int().refine((d) => d === 7 || d === 731 || (d % 31 === 0 && d >= 31 && d <= 713), 'must be 7, 731 or a multiple of 31 up to 713'),
  /** Statements slower than this are logged (`log_min_duration_statement`), in ms. */
  slowQueryMs: int(0, 600000),
  /** Sessions idle inside a transaction longer than this are ended, in ms. */
  idleInTransactionTimeoutMs: int(0, 86400000),
  /** Rotation period of the master secret, in days. */
  secretRotationDays: int(1, 365),
});

export const cacheSchema = z.strictObject({
  /** `redis` (default) or `valkey`. */
  engine: z.enum(['redis', 'valkey']),
  /** Engine version, e.g. `7.1`. */
  engineVersion: z.string().regex(/^\d+\.\d+$/, 'must be major.minor, e.g. "7.1"'),
  /** Node type without `cache.`, e.g. `t4g.micro`. */
  nodeType: instanceClass,
  /** Replicas of the primary: 0 in dev (one node), at least 1 in prod for failover. */
  replicas: int(0, 5),
  /** Daily snapshots kept, in days. */
  snapshotRetentionDays: int(0, 35),
  /** Listener port. */
  port: int(1024, 65535),
  /**
   * Services that use the cache: each gets an app user (read/write) and a read-only user, limited
   * to its namespaces and channels (lib/config/cache-registry.ts). @default DEFAULT_CACHE_SERVICES
   */
  services: z.array(cacheServiceSchema).default(() => DEFAULT_CACHE_SERVICES.map((s) => cacheServiceSchema.parse(s))),
  /**
   * Migration only (docs/cache-rbac-migration.md): keep the old shared AUTH token working through
   * the group's "default" user while clients move to their IAM users. @default false
   */
  legacyAuthToken: z.boolean().default(false),
  /** Namespaces whose keys must carry a TTL; the cache-health probe counts those without. @default the seed-000 progress namespaces */
  mustExpire: z.array(keyPatternSchema).default(() => [...SEED_000_NAMESPACES]),
});

export const workersSchema = z.strictObject({
  /** Number of worker hosts: 2 in prod, 1 in dev. */
  count: int(0, 20),
  /** Graviton instance type, e.g. `t4g.medium` or `c7g.large`. */
  instanceType: instanceClass.refine((t) => /^[a-z]+\d+g[a-z]*\./.test(t), 'must be a Graviton (arm64) type such as "t4g.medium" or "c7g.large"'),
  /** Size of each standalone `/data` volume in GiB. */
  dataVolumeGiB: int(1, 16384),
  /** Hours between DLM snapshots of the data volumes. */
  snapshotIntervalHours: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(6), z.literal(8), z.literal(12), z.literal(24)]),
  /** Interval snapshots kept (24 hourly = a day's worth). */
  snapshotsRetained: int(1, 1000),
  /** Daily snapshots kept. */
  dailySnapshotsRetained: int(0, 1000),
});

export const backupSchema = z.strictObject({
  /** Days each daily/weekly/monthly recovery point is kept (seed 004: 30). */
  retentionDays: int(1, 36500),
  /** AWS Backup vault lock (compliance); off by default because it cannot be undone after its grace period. */
  vaultLock: z.boolean(),
  /** Time zone of the backup schedule (seed 004: 02:00 in Seoul). */
  timezone: z.string().min(1),
});

export const alarmsSchema = z.strictObject({
  /** RDS CPUUtilization, percent (seed 004: 80). */
  dbCpuPercent: z.number().min(1).max(100),
  /** RDS memory in use, percent of the class's memory (seed 004: 85). */
  dbMemoryPercent: z.number().min(1).max(100),
  /** RDS storage in use, percent of allocated (seed 004: 90). */
  dbDiskPercent: z.number().min(1).max(100),
  /** ReplicaLag, seconds (seed 004: 5). */
  dbReplicaLagSeconds: z.number().positive(),
  /** Connections as a fraction of max_connections (seed 004: 0.8). */
  dbConnectionsRatio: z.number().gt(0).max(1),
  /** Read/Write latency, seconds. */
  dbReadLatencySeconds: z.number().positive(),
  dbWriteLatencySeconds: z.number().positive(),
  /** DBLoad as a multiple of the vCPU count. */
  dbLoadPerVcpu: z.number().positive(),
  /** ElastiCache EngineCPUUtilization, percent. */
  cacheCpuPercent: z.number().min(1).max(100),
  /** ElastiCache DatabaseMemoryUsagePercentage. */
  cacheMemoryPercent: z.number().min(1).max(100),
  /** ElastiCache CurrConnections. */
  cacheConnections: z.number().int().positive(),
  /** Worker `/data` disk_used_percent (seed 004: 90). */
  workerDiskPercent: z.number().min(1).max(100),
  /** Worker memory used percent (seed 004: 85). */
  workerMemoryPercent: z.number().min(1).max(100),
});

/** Slack delivery settings beyond the webhooks (issue 14). */
export const slackSchema = z.strictObject({
  /**
   * Web URL under which `docs/runbooks/…` is served, e.g. `https://github.com/acme/platform-infra/blob/main`;
   * every alarm's description then ends with `Runbook: <url>` and Slack shows a Runbook button.
   * Unset: the link is the repository-relative path (shown as text, no button).
   */
  runbookUrlBase: z.string().regex(/^https:\/\/[^\s"<>|]+$/, 'must be an https URL without spaces, e.g. "https://github.com/acme/platform-infra/blob/main"').optional(),
  /**
   * `webhook` (default): one message per notification through the incoming webhooks. `app`: a Slack
   * app's bot token and the Web API, one thread per alarm, its parent updated in place, with the
   * metric graph; needs `botTokenSecret` and `channels`.
   */
  mode: z.enum(['webhook', 'app']).default('webhook'),
  /** Secrets Manager secret name holding the bot token (`xoxb-…`, as the plain secret string); app mode only. */
  botTokenSecret: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'must be a valid Secrets Manager secret name').optional(),
  /** Slack channel ID per severity (`C0123ABCD`, not the name); the app must be a member. App mode only. */
  channels: z
    .strictObject({
      critical: z.string().regex(/^[CG][A-Z0-9]{8,}$/, 'must be a Slack channel ID like "C0123ABCDE" (not "#name")'),
      warning: z.string().regex(/^[CG][A-Z0-9]{8,}$/, 'must be a Slack channel ID like "C0123ABCDE" (not "#name")'),
      info: z.string().regex(/^[CG][A-Z0-9]{8,}$/, 'must be a Slack channel ID like "C0123ABCDE" (not "#name")'),
    })
    .optional(),
  /** An alarm that fires again this many minutes after it was resolved starts a new thread. @default 360 */
  rethreadAfterMinutes: z.number().int().min(5).max(10_080).default(360),
}).superRefine((c, ctx) => {
  if (c.mode !== 'app') return;
  if (!c.botTokenSecret) ctx.addIssue({ code: 'custom', path: ['botTokenSecret'], message: 'is required when mode is "app" (the secret holding the xoxb- bot token)' });
  if (!c.channels) ctx.addIssue({ code: 'custom', path: ['channels'], message: 'is required when mode is "app": { critical, warning, info } channel IDs' });
});

export const alertingSchema = z.strictObject({
  /** Secrets Manager secret names holding the Slack webhook URL per severity. */
  slackWebhookSecrets: z.strictObject({
    critical: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'must be a valid Secrets Manager secret name'),
    warning: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'must be a valid Secrets Manager secret name'),
    info: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'must be a valid Secrets Manager secret name'),
  }),
  /** Who critical alarms @-mention: `here`, `channel`, a user-group ID (`S0123ABCD`), or `none`. */
  criticalMention: z.string().regex(/^(none|here|channel|S[A-Z0-9]{6,})$/, 'must be "none", "here", "channel" or a Slack user-group ID like "S0123ABCD"'),
  /**
   * Who hears about failures of the alert path itself (the `<env>-alerting-health` topic: dead
   * letters, notifier errors, a missing heartbeat), by email, independent of Slack and the
   * notifier. Required in production. Override at synth with `-c <env>:alertEmail=…` or
   * `PLATFORM_<ENV>_ALERT_EMAIL`.
   */
  alertEmail: z.email().optional(),
  /** Slack settings beyond the webhooks: the runbook links and app mode. @default { mode: 'webhook' } */
  slack: slackSchema.prefault({}),
  /**
   * Account-wide event sources routed to Slack, off by default: they belong to the account, so in
   * an account shared by environments switch them on in one. @default { awsHealth: false, guardDuty: false }
   */
  routes: z
    .strictObject({
      /** AWS Health events (issues, scheduled changes, account notifications). @default false */
      awsHealth: z.boolean().default(false),
      /** GuardDuty findings; malware scans with threats found are critical. @default false */
      guardDuty: z.boolean().default(false),
    })
    .prefault({}),
});

export const dbHealthSchema = z.strictObject({
  /** Minutes between probes: 1 in prod, 5 in dev. */
  scheduleMinutes: int(1, 60),
  /** Queries active longer than this count as long-running (seed 001: 5 minutes). */
  longQuerySeconds: int(1, 86400),
  /** Alarm when the database is larger than this, in GiB (seed 001: 5 and 10 GB). */
  databaseSizeLimitGiB: z.number().positive(),
  /** Alarm when age(datfrozenxid) passes this (wraparound is at ~2.1 billion). */
  xidAgeLimit: int(1_000_000, 2_000_000_000),
  /** Indexes smaller than this are not reported as unused, in bytes. */
  unusedIndexMinBytes: int(0, 2 ** 40),
});

export const cacheHealthSchema = z.strictObject({
  /** Minutes between probes. @default 5 */
  scheduleMinutes: int(1, 60).default(5),
  /**
   * The probe's SCAN budget: at most this many keys per run, each with a TTL and a MEMORY USAGE
   * (its server cost is measured in bench/cache-health.ts). @default 10000
   */
  scanMaxKeys: int(1, 1_000_000).default(10_000),
  /** SCAN's COUNT hint per call. @default 1000 */
  scanCount: int(10, 10_000).default(1_000),
});

export const rolesSchema = z.strictObject({
  /** Schema in which every `{p}own` may create objects. */
  appSchema: identifier,
  /** The services sharing the database and the prefix each owns. */
  services: serviceRegistrySchema,
  /**
   * Install the prefix-enforcement event trigger. Set to false and deploy before a major-version
   * upgrade (RDS requires event triggers to be dropped first), then back to true afterwards.
   */
  enforcePrefixes: z.boolean().default(true),
});

export const environmentSchema = z
  .strictObject({
    /** Environment name; it appears in the Stage and stack names. */
    name: z.string().regex(/^[a-z][a-z0-9-]{1,15}$/, 'must be lower-case letters, digits or "-", 2–16 characters'),
    /** Production-grade safety: deletion protection, snapshots on delete, termination protection. */
    production: z.boolean(),
    /** AWS account; omit for an environment-agnostic synth. */
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account ID').optional(),
    /** AWS region; omit for an environment-agnostic synth. */
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as "ap-northeast-2"').optional(),
    network: networkSchema,
    database: databaseSchema,
    cache: cacheSchema,
    workers: workersSchema,
    backup: backupSchema,
    alarms: alarmsSchema,
    alerting: alertingSchema,
    dbHealth: dbHealthSchema,
    /** The cache-health probe (lambda/cache-health): schedule and scan budget; every field has a default. */
    cacheHealth: cacheHealthSchema.prefault({}),
    roles: rolesSchema,
    /** Cost-estimate assumptions and the PR flag threshold (`npm run cost`); every field has a default. */
    cost: costSchema.prefault({}),
  })
  .superRefine((c, ctx) => {
    const minCeiling = minMaxAllocatedStorageGiB(c.database.allocatedStorageGiB);
    if (c.database.maxAllocatedStorageGiB < minCeiling) {
      ctx.addIssue({
        code: 'custom',
        path: ['database', 'maxAllocatedStorageGiB'],
        message: `must be at least ${minCeiling} (10% above allocatedStorageGiB ${c.database.allocatedStorageGiB}; RDS rejects a smaller storage-autoscaling ceiling at deploy), got ${c.database.maxAllocatedStorageGiB}`,
      });
    }
    if (!cacheParameterGroupFamily(c.cache.engine, c.cache.engineVersion)) {
      ctx.addIssue({
        code: 'custom',
        path: ['cache', 'engineVersion'],
        message: `${c.cache.engine} ${c.cache.engineVersion} has no documented ElastiCache parameter-group family; use one of ${knownCacheVersions(c.cache.engine)}`,
      });
    }
    if (c.network.natGateways > c.network.maxAzs) {
      ctx.addIssue({ code: 'custom', path: ['network', 'natGateways'], message: `must not exceed maxAzs (${c.network.maxAzs})` });
    }
    if (c.production) {
      // Prod must survive the loss of one AZ and a fat-fingered delete.
      if (!c.database.multiAz) ctx.addIssue({ code: 'custom', path: ['database', 'multiAz'], message: 'must be true in a production environment' });
      if (!c.database.deletionProtection) ctx.addIssue({ code: 'custom', path: ['database', 'deletionProtection'], message: 'must be true in a production environment' });
      if (c.network.nat !== 'gateway') ctx.addIssue({ code: 'custom', path: ['network', 'nat'], message: 'must be "gateway" in a production environment (a NAT instance is a single, self-patched point of failure)' });
      if ((c.network.interfaceEndpoints ?? 'every-az') !== 'every-az') ctx.addIssue({ code: 'custom', path: ['network', 'interfaceEndpoints'], message: 'must be "every-az" in a production environment (an AZ outage must not cut the functions off from AWS APIs)' });
      if (c.cache.replicas < 1) ctx.addIssue({ code: 'custom', path: ['cache', 'replicas'], message: 'must be at least 1 in a production environment (automatic failover needs a replica)' });
      if (!c.alerting.alertEmail) {
        ctx.addIssue({ code: 'custom', path: ['alerting', 'alertEmail'], message: `is required in a production environment: failures of the alert path itself must reach someone without Slack (set it in lib/config/environments.ts, or pass -c ${c.name}:alertEmail=… / PLATFORM_${c.name.toUpperCase()}_ALERT_EMAIL)` });
      }
    }
    // A placeholder address keeps offline synth working; a deployable (account-bound) environment
    // must name a mailbox somebody reads.
    if (c.account && c.alerting.alertEmail && isReservedEmailDomain(c.alerting.alertEmail)) {
      ctx.addIssue({
        code: 'custom',
        path: ['alerting', 'alertEmail'],
        message: `is a placeholder on a reserved domain (RFC 2606/6761), but the environment is bound to account ${c.account}: nobody would receive alert-path failures. Pass a real address with -c ${c.name}:alertEmail=… or PLATFORM_${c.name.toUpperCase()}_ALERT_EMAIL`,
      });
    }
    // Per-service users (RBAC) with IAM authentication and %R~ read-only key patterns need Redis 7
    // (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html: "Redis OSS version 7.0 and above").
    if (c.cache.engine === 'redis' && Number(c.cache.engineVersion.split('.')[0]) < 7) {
      ctx.addIssue({ code: 'custom', path: ['cache', 'engineVersion'], message: 'must be 7.0 or later: the per-service cache users authenticate with IAM, which needs Redis 7' });
    }
    for (const issue of checkCacheRegistry(c.cache.services, c.cache.mustExpire, c.roles.services).issues) {
      ctx.addIssue({ code: 'custom', path: ['cache', ...issue.path], message: issue.message });
    }
    if ((c.account === undefined) !== (c.region === undefined)) {
      ctx.addIssue({ code: 'custom', path: [c.account === undefined ? 'account' : 'region'], message: 'set both account and region, or neither (environment-agnostic)' });
    }
  });

/**
 * Domains that can never receive mail: `example.com/.net/.org` and the `.example`, `.test`,
 * `.invalid` and `.localhost` top-level domains (RFC 2606 and RFC 6761).
 */
export function isReservedEmailDomain(email: string): boolean {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase().replace(/\.$/, '');
  return /(^|\.)example\.(com|net|org)$/.test(domain) || /(^|\.)(example|test|invalid|localhost)$/.test(domain);
}

export type EnvironmentConfig = z.output<typeof environmentSchema>;
export type EnvironmentConfigInput = z.input<typeof environmentSchema>;
