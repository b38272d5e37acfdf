/**
 * EC2 and EBS: instance hours, root volumes, detailed monitoring, standalone gp3 volumes and their
 * snapshots. The snapshot estimate follows docs/runbooks/workers.md ("Monthly snapshot storage"): DLM and AWS
 * Backup snapshots of one volume are incremental against each other, so the account pays once for
 * the current image plus every changed block inside the longest retention horizon.
 */
import { line, num, refsIn, str, type LineDraft } from '../line';
import type { Pricer, PricingContext, ResourceRef } from '../types';

type Tag = { Key?: unknown; Value?: unknown };

function gp3Lines(ctx: PricingContext, label: string, size: number, iops: number | undefined, throughput: number | undefined): LineDraft[] {
  const out = [line(ctx.prices, 'ebs.gp3', `${label} gp3 ${size} GiB`, size)];
  if (iops !== undefined && iops > 3000) out.push(line(ctx.prices, 'ebs.gp3.iops', `${label} gp3 IOPS above 3,000`, iops - 3000));
  if (throughput !== undefined && throughput > 125) out.push(line(ctx.prices, 'ebs.gp3.throughput', `${label} gp3 throughput above 125 MiB/s`, throughput - 125));
  return out;
}

export const priceInstance: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  const lines: LineDraft[] = [];
  const notPriced: string[] = [];
  const type = str(p.InstanceType);
  if (!type) notPriced.push('InstanceType is not a literal');
  else lines.push(line(ctx.prices, `ec2.instance.${type}`, `${type} instance hours (Linux, on-demand${type.startsWith('t') ? '; unlimited-mode surplus credits not counted' : ''})`, ctx.prices.hoursPerMonth));
  for (const m of (p.BlockDeviceMappings as Array<{ DeviceName?: string; Ebs?: Record<string, unknown> }> | undefined) ?? []) {
    if (!m.Ebs) continue;
    const size = num(m.Ebs.VolumeSize);
    const vt = str(m.Ebs.VolumeType) ?? 'gp2';
    if (vt !== 'gp3' || size === undefined) notPriced.push(`block device ${m.DeviceName ?? ''}: ${vt} ${size ?? '(size from the AMI)'} GiB is not priced`);
    else lines.push(...gp3Lines(ctx, `root volume ${m.DeviceName ?? ''}`.trim(), size, num(m.Ebs.Iops), num(m.Ebs.Throughput)));
  }
  if (p.Monitoring === true) {
    const n = ctx.assumptions.detailedMonitoringMetricsPerInstance;
    lines.push(line(ctx.prices, 'cloudwatch.metric', `detailed monitoring (1-minute metrics)`, n, `${n} metrics an instance (cost.assumptions.detailedMonitoringMetricsPerInstance)`));
  }
  const eni = (p.NetworkInterfaces as Array<{ AssociatePublicIpAddress?: unknown }> | undefined) ?? [];
  if (eni.some((e) => e.AssociatePublicIpAddress === true)) lines.push(line(ctx.prices, 'vpc.publicIpv4.hour', 'public IPv4 address', ctx.prices.hoursPerMonth));
  return { lines, notPriced };
};

function tagsOf(r: ResourceRef): Tag[] {
  return (r.resource.Properties?.Tags as Tag[] | undefined) ?? [];
}

/** Days the oldest snapshot of `volume` is kept, by DLM policies (by target tag) and AWS Backup plans (by selection). */
export function snapshotHorizonDays(volume: ResourceRef, ctx: PricingContext): { days: number; by: string[] } {
  let days = 0;
  const by: string[] = [];
  const tags = tagsOf(volume);
  for (const r of ctx.resources.filter((x) => x.resource.Type === 'AWS::DLM::LifecyclePolicy')) {
    const d = r.resource.Properties?.PolicyDetails as { TargetTags?: Tag[]; Schedules?: Array<{ CreateRule?: { Interval?: unknown; IntervalUnit?: unknown }; RetainRule?: { Count?: unknown; Interval?: unknown; IntervalUnit?: unknown } }> } | undefined;
    if (!d?.TargetTags?.some((t) => tags.some((v) => v.Key === t.Key && v.Value === t.Value))) continue;
    for (const s of d.Schedules ?? []) {
      const count = num(s.RetainRule?.Count);
      const every = num(s.CreateRule?.Interval);
      const hours = s.CreateRule?.IntervalUnit === 'HOURS' ? every : undefined;
      if (count !== undefined && hours !== undefined) days = Math.max(days, (count * hours) / 24);
      const keepFor = num(s.RetainRule?.Interval);
      if (keepFor !== undefined) days = Math.max(days, keepFor * ({ DAYS: 1, WEEKS: 7, MONTHS: 30, YEARS: 365 }[String(s.RetainRule?.IntervalUnit)] ?? 1));
    }
    by.push('DLM');
  }
  for (const sel of ctx.resources.filter((x) => x.resource.Type === 'AWS::Backup::BackupSelection')) {
    const bs = sel.resource.Properties?.BackupSelection as { Resources?: unknown } | undefined;
    if (!refsIn(bs?.Resources).has(volume.logicalId)) continue;
    for (const planId of refsIn(sel.resource.Properties?.BackupPlanId)) {
      const plan = ctx.find(sel.stack, planId);
      const rules = ((plan?.resource.Properties?.BackupPlan as { BackupPlanRule?: Array<{ Lifecycle?: { DeleteAfterDays?: unknown } }> } | undefined)?.BackupPlanRule) ?? [];
      for (const rule of rules) days = Math.max(days, num(rule.Lifecycle?.DeleteAfterDays) ?? 0);
      by.push('AWS Backup');
    }
  }
  return { days, by };
}

export const priceVolume: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  const size = num(p.Size);
  const vt = str(p.VolumeType) ?? 'gp2';
  if (vt !== 'gp3' || size === undefined) return { notPriced: [`${vt} volume of ${size ?? 'unknown'} GiB is not priced (only literal-size gp3)`] };
  const lines = gp3Lines(ctx, 'volume', size, num(p.Iops), num(p.Throughput));
  const { days, by } = snapshotHorizonDays(ref, ctx);
  if (days > 0) {
    const a = ctx.assumptions;
    const image = (size * a.workerVolumeWrittenPercent) / 100;
    const churn = ((size * a.workerDailyChurnPercent) / 100) * Math.ceil(days);
    lines.push(
      line(
        ctx.prices,
        'ebs.snapshot',
        `snapshots (${by.join(' + ')}, ${Math.ceil(days)}-day horizon): ${image.toFixed(0)} GiB image + ${churn.toFixed(0)} GiB churn`,
        image + churn,
        `${a.workerVolumeWrittenPercent}% of the volume written, ${a.workerDailyChurnPercent}% rewritten a day (cost.assumptions.workerVolumeWrittenPercent, workerDailyChurnPercent; model in docs/runbooks/workers.md)`,
      ),
    );
  }
  return { lines };
};
