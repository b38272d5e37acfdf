/**
 * The per-environment values. dev is the cheap profile, prod the production-grade one, staging
 * mirrors prod's shape at a smaller size so that failover and replica behaviour are exercised
 * before prod. Defaults follow seed 004 where it names a number.
 */
import type { EnvironmentConfigInput } from './schema';
import { DEFAULT_SERVICES } from './service-registry';

const common = {
  backup: { retentionDays: 30, vaultLock: false, timezone: 'Asia/Seoul' },
  alarms: {
    dbCpuPercent: 80,
    dbMemoryPercent: 85,
    dbDiskPercent: 90,
    dbReplicaLagSeconds: 5,
    dbConnectionsRatio: 0.8,
    dbReadLatencySeconds: 0.02,
    dbWriteLatencySeconds: 0.02,
    dbLoadPerVcpu: 1,
    cacheCpuPercent: 80,
    cacheMemoryPercent: 80,
    cacheConnections: 1000,
    workerDiskPercent: 90,
    workerMemoryPercent: 85,
  },
  roles: { appSchema: 'public', services: [...DEFAULT_SERVICES] },
} satisfies Partial<EnvironmentConfigInput>;

const slack = (env: string) => ({
  critical: `platform/${env}/slack/critical`,
  warning: `platform/${env}/slack/warning`,
  info: `platform/${env}/slack/info`,
});

const database = {
  port: 6432,
  databaseName: 'platform',
  masterUsername: 'platform_admin',
  slowQueryMs: 500,
  idleInTransactionTimeoutMs: 600_000,
  secretRotationDays: 30,
};

export const ENVIRONMENTS: Record<'dev' | 'staging' | 'prod', EnvironmentConfigInput> = {
  dev: {
    name: 'dev',
    production: false,
    // Cheap profile (issue 15, README "What each environment costs"): a NAT instance and no interface
    // endpoints save ~$90 a month; AWS API calls go out through the NAT instance.
    network: { cidr: '10.10.0.0/16', maxAzs: 2, natGateways: 1, flowLogRetentionDays: 7, nat: 'instance', interfaceEndpoints: 'none' },
    database: {
      ...database,
      instanceClass: 't4g.small', // 2 GiB: RDS's default max_connections (~225) still covers seed 004's 200
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 100,
      multiAz: false,
      readReplica: false,
      backupRetentionDays: 7,
      deletionProtection: false,
      monitoringIntervalSeconds: 60,
      performanceInsightsRetentionDays: 7,
    },
    cache: { engine: 'redis', engineVersion: '7.1', nodeType: 't4g.micro', replicas: 0, snapshotRetentionDays: 1, port: 6380 },
    workers: { count: 1, instanceType: 't4g.small', dataVolumeGiB: 20, snapshotIntervalHours: 1, snapshotsRetained: 24, dailySnapshotsRetained: 7 },
    ...common,
    backup: { ...common.backup, retentionDays: 7 },
    alerting: { slackWebhookSecrets: slack('dev'), criticalMention: 'none' },
    dbHealth: { scheduleMinutes: 5, longQuerySeconds: 300, databaseSizeLimitGiB: 5, xidAgeLimit: 1_000_000_000, unusedIndexMinBytes: 1_048_576 },
  },
  staging: {
    name: 'staging',
    production: false,
    network: { cidr: '10.20.0.0/16', maxAzs: 2, natGateways: 1, flowLogRetentionDays: 30 },
    database: {
      ...database,
      instanceClass: 't4g.large',
      allocatedStorageGiB: 50,
      maxAllocatedStorageGiB: 200,
      multiAz: true,
      readReplica: true,
      backupRetentionDays: 7,
      deletionProtection: true,
      monitoringIntervalSeconds: 30,
      performanceInsightsRetentionDays: 7,
    },
    cache: { engine: 'redis', engineVersion: '7.1', nodeType: 't4g.small', replicas: 1, snapshotRetentionDays: 3, port: 6380 },
    workers: { count: 1, instanceType: 't4g.medium', dataVolumeGiB: 50, snapshotIntervalHours: 1, snapshotsRetained: 24, dailySnapshotsRetained: 7 },
    ...common,
    alerting: { slackWebhookSecrets: slack('staging'), criticalMention: 'none' },
    dbHealth: { scheduleMinutes: 5, longQuerySeconds: 300, databaseSizeLimitGiB: 10, xidAgeLimit: 1_000_000_000, unusedIndexMinBytes: 1_048_576 },
  },
  prod: {
    name: 'prod',
    production: true,
    network: { cidr: '10.30.0.0/16', maxAzs: 3, natGateways: 3, flowLogRetentionDays: 365 },
    database: {
      ...database,
      instanceClass: 'm7g.large',
      allocatedStorageGiB: 100,
      maxAllocatedStorageGiB: 1000,
      multiAz: true,
      readReplica: true,
      backupRetentionDays: 30,
      deletionProtection: true,
      monitoringIntervalSeconds: 15,
      performanceInsightsRetentionDays: 31,
    },
    cache: { engine: 'redis', engineVersion: '7.1', nodeType: 'm7g.large', replicas: 1, snapshotRetentionDays: 7, port: 6380 },
    workers: { count: 2, instanceType: 'c7g.large', dataVolumeGiB: 100, snapshotIntervalHours: 1, snapshotsRetained: 24, dailySnapshotsRetained: 14 },
    ...common,
    // A placeholder so that prod synthesizes offline; an account-bound synth refuses it, so a
    // deploy passes the real mailbox: -c prod:alertEmail=… or PLATFORM_PROD_ALERT_EMAIL.
    alerting: { slackWebhookSecrets: slack('prod'), criticalMention: 'here', alertEmail: 'platform-oncall@example.com' },
    dbHealth: { scheduleMinutes: 1, longQuerySeconds: 300, databaseSizeLimitGiB: 10, xidAgeLimit: 1_000_000_000, unusedIndexMinBytes: 1_048_576 },
  },
};
