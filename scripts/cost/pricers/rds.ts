/**
 * `AWS::RDS::DBInstance`: instance hours (twice for Multi-AZ), gp3 storage (twice for Multi-AZ;
 * the autoscaling ceiling is shown, not billed), Performance Insights retention beyond the free 7
 * days, Enhanced Monitoring's log volume, and automated-backup storage beyond the free allowance.
 * Billing rules: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_OnDemandDBInstances.html
 */
import { line, num, refsIn, str, usd, type LineDraft } from '../line';
import type { Pricer, PricingContext, ResourceRef } from '../types';

const HOURS_SECONDS = 3600;

/** vCPUs of an RDS class by size (Graviton and Intel classes alike up to 16xlarge). */
export function rdsVcpus(dbClass: string): number | undefined {
  const size = dbClass.split('.').pop() ?? '';
  if (['micro', 'small', 'medium', 'large'].includes(size)) return 2;
  if (size === 'xlarge') return 4;
  const m = /^(\d+)xlarge$/.exec(size);
  return m ? Number(m[1]) * 4 : undefined;
}

/** Months of paid Performance Insights retention: 7 days is free, 731 days is 24 months. */
export function piPaidMonths(days: number): number {
  if (days <= 7) return 0;
  if (days === 731) return 24;
  return Math.round(days / 31);
}

/** The primary a replica reads from, when it is in the same environment. */
function sourceOf(ref: ResourceRef, ctx: PricingContext): ResourceRef | undefined {
  const src = ref.resource.Properties?.SourceDBInstanceIdentifier;
  for (const id of refsIn(src)) {
    const r = ctx.find(ref.stack, id);
    if (r?.resource.Type === 'AWS::RDS::DBInstance') return r;
  }
  return undefined;
}

export const priceDbInstance: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  const { prices, assumptions: a } = ctx;
  const lines: LineDraft[] = [];
  const notPriced: string[] = [];
  const hours = prices.hoursPerMonth;
  const multiAz = p.MultiAZ === true;
  const copies = multiAz ? 2 : 1;
  const az = multiAz ? ', Multi-AZ (primary + standby)' : '';
  const replica = p.SourceDBInstanceIdentifier !== undefined;
  const source = replica ? sourceOf(ref, ctx) : undefined;

  const dbClass = str(p.DBInstanceClass) ?? str(source?.resource.Properties?.DBInstanceClass);
  if (!dbClass) notPriced.push('DBInstanceClass is not a literal');
  else lines.push(line(prices, `rds.instance.${dbClass}`, `${dbClass} instance hours${replica ? ' (read replica)' : ''}${az}`, hours * copies));

  const storageType = str(p.StorageType) ?? str(source?.resource.Properties?.StorageType) ?? 'gp2';
  const allocated = num(p.AllocatedStorage) ?? num(source?.resource.Properties?.AllocatedStorage);
  if (storageType !== 'gp3') notPriced.push(`storage type ${storageType} is not priced (only gp3)`);
  else if (allocated === undefined) notPriced.push('AllocatedStorage is not a literal');
  else {
    const ceiling = num(p.MaxAllocatedStorage) ?? num(source?.resource.Properties?.MaxAllocatedStorage);
    const perGb = prices.prices['rds.storage.gp3']?.usd;
    const ceilingNote = ceiling !== undefined && perGb !== undefined ? `; autoscaling may grow it to ${ceiling} GiB (${usd(ceiling * perGb * copies)}/month at the ceiling)` : '';
    lines.push(line(prices, 'rds.storage.gp3', `gp3 storage ${allocated} GiB${az}${ceilingNote}`, allocated * copies));
    const iops = num(p.Iops);
    if (iops !== undefined && iops > (allocated >= 400 ? 12000 : 3000)) notPriced.push(`provisioned gp3 IOPS ${iops} above the baseline`);
  }

  if (p.EnablePerformanceInsights === true) {
    const days = num(p.PerformanceInsightsRetentionPeriod) ?? 7;
    const months = piPaidMonths(days);
    if (months > 0 && dbClass) {
      const vcpus = rdsVcpus(dbClass);
      if (vcpus === undefined) notPriced.push(`Performance Insights: unknown vCPU count of ${dbClass}`);
      else {
        const n = vcpus * copies;
        lines.push(line(prices, 'rds.performanceInsights.firstMonth', `Performance Insights ${days}-day retention: first paid month, ${n} vCPU`, n));
        if (months > 1) lines.push(line(prices, 'rds.performanceInsights.additionalMonth', `Performance Insights ${days}-day retention: ${months - 1} more months, ${n} vCPU`, n * (months - 1)));
      }
    }
  }

  const interval = num(p.MonitoringInterval) ?? 0;
  if (interval > 0) {
    const samples = (hours * HOURS_SECONDS) / interval;
    const gib = (samples * a.enhancedMonitoringSampleKiB) / (1024 * 1024);
    lines.push(
      line(prices, 'cloudwatch.logs.ingest', `Enhanced Monitoring every ${interval} s (RDSOSMetrics log ingestion)`, gib, `${a.enhancedMonitoringSampleKiB} KiB a sample (cost.assumptions.enhancedMonitoringSampleKiB)`),
    );
  }

  const retention = num(p.BackupRetentionPeriod) ?? (replica ? 0 : 1);
  if (!replica && retention > 0 && allocated !== undefined) {
    const used = (allocated * a.dbStorageUsedPercent) / 100;
    const stored = used * (1 + (a.dbDailyChangePercent / 100) * Math.max(0, retention - 1));
    const billable = Math.max(0, stored - allocated);
    lines.push(
      line(
        prices,
        'rds.backup',
        `automated backups, ${retention} days: ~${stored.toFixed(1)} GiB, beyond the free ${allocated} GiB`,
        billable,
        `${a.dbStorageUsedPercent}% of storage used, ${a.dbDailyChangePercent}% changed a day (cost.assumptions.dbStorageUsedPercent, dbDailyChangePercent); free allowance = provisioned storage`,
      ),
    );
  }
  return { lines, notPriced };
};
