/**
 * Renders a classified notification as a Slack message (header + coloured detail attachment,
 * with a `text` fallback) and as a one-line summary for storm digests. Pure: the clock and the
 * environment name come in through the context.
 */
import { context, esc, escFit, fields, fit, formatDuration, header, link, section, slackDate, enforceLimits, truncate } from './slack';
import type { AlarmMetric, AlarmTransition, Block, EventBridgeEvent, Item, Notification, RdsEvent, Rendered, SlackMessage } from './types';

export interface RenderContext {
  /** Environment name shown on every message (`prod`). */
  readonly environment?: string;
  /** "Now", for "in ALARM for 3m". */
  readonly now: Date;
  /** Region for console links when the message does not say. */
  readonly defaultRegion?: string;
}

export const COLOURS = { alarm: '#E01E5A', ok: '#2EB67D', warning: '#ECB22E', info: '#1D9BD1', neutral: '#9E9EA6' } as const;

const COMPARISON: Record<string, string> = {
  GreaterThanOrEqualToThreshold: '≥',
  GreaterThanThreshold: '>',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '≤',
  LessThanLowerOrGreaterThanUpperThreshold: 'outside the band',
  LessThanLowerThreshold: 'below the band',
  GreaterThanUpperThreshold: 'above the band',
};

export function comparisonSymbol(op: string | undefined): string {
  return (op && COMPARISON[op]) ?? op ?? 'vs';
}

const trimNumber = (n: number, digits = 2) => {
  const fixed = Math.abs(n) >= 1000 ? n.toLocaleString('en-US', { maximumFractionDigits: 0 }) : Number(n.toFixed(digits)).toString();
  return fixed;
};

/** A value with its CloudWatch unit, readable: `92.5%`, `12.3 ms`, `4.2 GiB`, `1,234`. */
export function formatValue(value: number, unit?: string): string {
  switch (unit) {
    case 'Percent':
      return `${trimNumber(value, 1)}%`;
    case 'Seconds':
      return Math.abs(value) < 1 ? `${trimNumber(value * 1000, 1)} ms` : `${trimNumber(value, 2)} s`;
    case 'Milliseconds':
      return `${trimNumber(value, 1)} ms`;
    case 'Microseconds':
      return `${trimNumber(value / 1000, 2)} ms`;
    case 'Bytes':
    case 'Kilobytes':
    case 'Megabytes':
    case 'Gigabytes': {
      const factor = { Bytes: 1, Kilobytes: 1024, Megabytes: 1024 ** 2, Gigabytes: 1024 ** 3 }[unit];
      let v = value * factor;
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let i = 0;
      while (Math.abs(v) >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
      }
      return `${trimNumber(v, 1)} ${units[i]}`;
    }
    case 'Count/Second':
      return `${trimNumber(value, 1)}/s`;
    default:
      return trimNumber(value, 2);
  }
}

function regionOf(a: AlarmTransition, ctx: RenderContext): string | undefined {
  return a.region ?? ctx.defaultRegion;
}

export function alarmConsoleUrl(name: string, region: string | undefined): string | undefined {
  if (!region) return undefined;
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#alarmsV2:alarm/${encodeURIComponent(name)}`;
}

/** The runbook link in a description: the URL after "runbook", else the first URL. */
export function runbookUrl(description: string | undefined): string | undefined {
  if (!description) return undefined;
  const clean = (u: string) => u.replace(/[)\].,;:'"!?>]+$/, '');
  const labelled = /runbook\s*[:=\-–—]?\s*<?(https?:\/\/[^\s<>|"]+)/i.exec(description);
  if (labelled) return clean(labelled[1]);
  const any = /(https?:\/\/[^\s<>|"]+)/i.exec(description);
  return any ? clean(any[1]) : undefined;
}

/** The resource an alarm watches, as `Name=value` pairs from every metric's dimensions. */
export function alarmDimensions(a: AlarmTransition): [string, string][] {
  const seen = new Map<string, string>();
  for (const m of a.metrics) for (const [k, v] of Object.entries(m.dimensions)) if (!seen.has(k)) seen.set(k, v);
  return [...seen.entries()];
}

function metricTitle(m: AlarmMetric): string {
  if (m.expression) return m.label ?? m.expression;
  const name = m.metricName ?? m.label ?? m.id ?? 'metric';
  const stat = m.stat && /^[A-Z]+$/.test(m.stat) ? m.stat[0] + m.stat.slice(1).toLowerCase() : m.stat;
  const bits = [stat, m.period ? formatDuration(m.period * 1000) : undefined].filter(Boolean);
  return bits.length > 0 ? `${name} (${bits.join(', ')})` : name;
}

/** SNS alarm messages often say `"Unit": null`; these metrics' units are documented. */
const KNOWN_UNITS: Record<string, string> = {
  CPUUtilization: 'Percent',
  EngineCPUUtilization: 'Percent',
  DatabaseMemoryUsagePercentage: 'Percent',
  disk_used_percent: 'Percent',
  mem_used_percent: 'Percent',
  FreeStorageSpace: 'Bytes',
  FreeableMemory: 'Bytes',
  ReadLatency: 'Seconds',
  WriteLatency: 'Seconds',
  ReplicaLag: 'Seconds',
  ReplicationLag: 'Seconds',
  DatabaseConnections: 'Count',
  CurrConnections: 'Count',
  Evictions: 'Count',
};

export function unitOf(m: AlarmMetric | undefined): string | undefined {
  if (!m) return undefined;
  return m.unit ?? (m.metricName ? KNOWN_UNITS[m.metricName] : undefined);
}

/** The query whose value is compared (`ReturnData: true`, not the band), else the only metric. */
function primaryMetric(a: AlarmTransition): AlarmMetric | undefined {
  if (a.metrics.length === 1) return a.metrics[0];
  const returned = a.metrics.filter((m) => m.returnData !== false && m.id !== a.thresholdMetricId);
  return returned[0] ?? a.metrics[0];
}

/** `CPUUtilization (Average, 5m) 92.5% ≥ 80%`; band, composite and reason-only variants. */
export function alarmValueLine(a: AlarmTransition): string {
  const primary = primaryMetric(a);
  const unit = unitOf(primary);
  const values = a.observed.slice(0, 5).map((v) => formatValue(v, unit));
  const subject = primary ? metricTitle(primary) : a.name;
  if (a.kind === 'composite') {
    const rule = a.alarmRule ? `rule \`${escFit(a.alarmRule, 300)}\`` : 'composite alarm';
    return rule;
  }
  if (a.kind === 'anomaly') {
    const band = a.band ? `[${a.band.lower !== undefined ? formatValue(a.band.lower, unit) : '?'} – ${a.band.upper !== undefined ? formatValue(a.band.upper, unit) : '?'}]` : 'the expected band';
    const verb = a.newState === 'OK' ? 'within' : comparisonSymbol(a.comparison ?? 'LessThanLowerOrGreaterThanUpperThreshold');
    return `${esc(subject)} ${values.length ? values.join(', ') : 'value'} ${verb === 'within' ? 'within the band' : esc(verb)} ${band}`;
  }
  if (a.threshold === undefined) return esc(subject) + (values.length ? ` ${values.join(', ')}` : '');
  const op = comparisonSymbol(a.comparison);
  const shown = values.length ? values.join(', ') : 'value';
  return `${esc(subject)} ${shown} ${esc(a.newState === 'OK' ? `(threshold ${op} ${formatValue(a.threshold, unit)})` : `${op} ${formatValue(a.threshold, unit)}`)}`;
}

function stateEmoji(state: string, critical: boolean): string {
  if (state === 'ALARM') return critical ? '🚨' : '🔴';
  if (state === 'OK') return '✅';
  if (state === 'INSUFFICIENT_DATA') return '❔';
  return '🔔';
}

function stateColour(state: string): string {
  if (state === 'ALARM') return COLOURS.alarm;
  if (state === 'OK') return COLOURS.ok;
  if (state === 'INSUFFICIENT_DATA') return COLOURS.warning;
  return COLOURS.neutral;
}

/** Guesses the environment from a name like `prod-db-cpu` when none is configured. */
function envOf(ctx: RenderContext, name: string | undefined): string | undefined {
  if (ctx.environment) return ctx.environment;
  const m = name ? /^(dev|staging|stage|prod|production|qa|test)\b/i.exec(name) : null;
  return m ? m[1] : undefined;
}

function message(title: string, colour: string, blocks: (Block | undefined)[], text: string): SlackMessage {
  return enforceLimits({
    text,
    blocks: [header(title)],
    attachments: [{ color: colour, blocks: blocks.filter((b): b is Block => !!b) }],
  });
}

function renderAlarm(item: Item, a: AlarmTransition, ctx: RenderContext): Rendered {
  const critical = item.severity === 'critical';
  const emoji = stateEmoji(a.newState, critical);
  const env = envOf(ctx, a.name);
  const region = regionOf(a, ctx);
  const consoleUrl = alarmConsoleUrl(a.name, region);
  const runbook = runbookUrl(a.description);
  const dims = alarmDimensions(a);
  const resource = dims.length ? dims.map(([k, v]) => `\`${escFit(`${k}=${v}`, 200)}\``).join(' ') : undefined;
  const value = alarmValueLine(a);
  const e = item.enrichment;

  let timing: string | undefined;
  let recoveredAfter: string | undefined;
  if (a.newState === 'OK') {
    const since = a.previousChangedAt && a.oldState === 'ALARM' ? a.previousChangedAt : e?.alarmSince;
    if (since && a.changedAt) recoveredAfter = formatDuration(a.changedAt.getTime() - since.getTime());
    timing = recoveredAfter
      ? `Recovered after *${recoveredAfter}* in ${esc(a.oldState ?? 'ALARM')} (since ${slackDate(since!)})`
      : `Recovered from ${esc(a.oldState ?? 'a previous state')}${a.changedAt ? ` at ${slackDate(a.changedAt)}` : ''}`;
  } else if (a.changedAt) {
    const forMs = ctx.now.getTime() - a.changedAt.getTime();
    timing = `Since ${slackDate(a.changedAt)}${forMs >= 60_000 ? ` (for ${formatDuration(forMs)})` : ''}${a.oldState ? ` · was ${esc(a.oldState)}` : ''}`;
  }

  const title = a.newState === 'OK' ? `${emoji} Recovered: ${a.name}` : `${emoji} ${a.newState}: ${a.name}`;
  const kindLabel = { metric: 'metric alarm', math: 'metric-math alarm', anomaly: 'anomaly-detection alarm', composite: 'composite alarm' }[a.kind];

  const blocks: (Block | undefined)[] = [
    section(`*${escFit(a.name, 300)}* · ${kindLabel}\n${value}`),
    fields([
      ['Environment', env ? esc(env) : undefined],
      ['Severity', item.severity],
      ['Resource', resource],
      [a.newState === 'OK' ? 'Recovered' : 'In state', timing],
      ['Account / region', [a.accountId, region].filter(Boolean).map((s) => esc(s!)).join(' / ') || undefined],
    ]),
  ];
  if (a.kind === 'math' && a.metrics.length > 1) {
    blocks.push(section(`*Queries*\n${a.metrics.map((m) => `• \`${escFit(m.id ?? '?', 40)}\` ${escFit(m.expression ? `${m.label ? `${m.label}: ` : ''}${m.expression}` : metricTitle(m), 200)}${Object.keys(m.dimensions).length ? ` — ${escFit(Object.entries(m.dimensions).map(([k, v]) => `${k}=${v}`).join(', '), 200)}` : ''}`).join('\n')}`));
  }
  if (a.kind === 'composite') {
    const kids = a.children.map((c) => `• ${stateEmoji(c.state ?? '', false)} ${escFit(c.name, 200)}${c.state ? ` (${esc(c.state)})` : ''}`);
    if (kids.length) blocks.push(section(`*Triggered by*\n${kids.join('\n')}`));
  }
  if (a.description) blocks.push(section(`*Description*\n${escFit(a.description, 1500)}`));
  if (e && a.newState !== 'OK') {
    const db = [e.instanceClass, e.instanceStatus, e.engineVersion && `PostgreSQL ${e.engineVersion}`].filter(Boolean).map((s) => esc(s!)).join(' · ');
    const waits = e.waitEvents?.length ? e.waitEvents.map((w) => `\`${esc(w.name)}\` ${Math.round(w.percent)}%`).join(' · ') : undefined;
    const lines = [db && `*Database* ${db}`, waits && `*Top wait events* ${waits}`, e.performanceInsightsUrl && link(e.performanceInsightsUrl, 'Open Performance Insights')].filter(Boolean);
    if (lines.length) blocks.push(section(lines.join('\n')));
  }
  if (a.reason) blocks.push(context(escFit(a.reason, 600)));
  blocks.push(context(consoleUrl ? link(consoleUrl, 'Open the alarm in CloudWatch') : undefined, runbook ? link(runbook, '📖 Runbook') : undefined));

  const plainValue = value.replace(/`/g, '');
  const text = a.newState === 'OK'
    ? `${emoji} Recovered: ${esc(a.name)}${env ? ` (${esc(env)})` : ''}${recoveredAfter ? ` after ${recoveredAfter}` : ''}`
    : `${emoji} ${esc(a.newState)}: ${esc(a.name)}${env ? ` (${esc(env)})` : ''} — ${plainValue}`;
  const line = `${emoji} *${esc(a.newState === 'OK' ? 'OK' : a.newState)}* ${link(consoleUrl, truncate(a.name, 120))} — ${a.newState === 'OK' ? (recoveredAfter ? `recovered after ${recoveredAfter}` : 'recovered') : fit(value, 160)}${resource ? ` · ${dims.map(([k, v]) => escFit(`${k}=${v}`, 80)).join(', ')}` : ''}`;
  return { item, message: message(title, stateColour(a.newState), blocks, text), line, bad: a.newState === 'ALARM', at: a.changedAt?.getTime() ?? 0 };
}

function rdsConsoleUrl(ev: RdsEvent, region: string | undefined): string | undefined {
  if (ev.link) return ev.link;
  if (!region || !ev.sourceId) return undefined;
  const kind = ev.sourceType === 'db-cluster' ? 'is-cluster=true' : 'is-cluster=false';
  return `https://${region}.console.aws.amazon.com/rds/home?region=${region}#database:id=${encodeURIComponent(ev.sourceId)};${kind}`;
}

/** RDS event categories that need someone now. */
const RDS_BAD = /fail|failover|low storage|(storage|memory)[^.]*\b(low|full|exhausted)\b|shut ?down|stopped|error|restart|recovery|unavailable|incompatible/i;

function renderRds(item: Item, ev: RdsEvent, ctx: RenderContext): Rendered {
  const region = regionOfEnvelope(item) ?? ctx.defaultRegion;
  const bad = RDS_BAD.test(ev.message);
  const isSetup = !ev.sourceId && !ev.eventId;
  const emoji = isSetup ? 'ℹ️' : bad ? (item.severity === 'critical' ? '🚨' : '🔴') : '🗄️';
  const title = isSetup ? `${emoji} RDS event subscription` : `${emoji} RDS ${ev.eventId ?? 'event'}: ${ev.sourceId ?? ''}`.trim();
  const url = rdsConsoleUrl(ev, region);
  const env = envOf(ctx, ev.sourceId);
  const blocks: (Block | undefined)[] = [
    section(escFit(ev.message || '(empty message)', 2500)),
    fields([
      ['Environment', env ? esc(env) : undefined],
      ['Source', ev.sourceId ? `\`${escFit(ev.sourceId, 200)}\`${ev.sourceType ? ` (${esc(ev.sourceType)})` : ''}` : undefined],
      ['Event', ev.eventId ? link(`https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html`, ev.eventId) : undefined],
      ['Time', ev.time ? esc(ev.time) + ' UTC' : undefined],
    ]),
    context(url ? link(url, 'Open in the RDS console') : undefined),
  ];
  const text = `${emoji} RDS${ev.eventId ? ` ${esc(ev.eventId)}` : ''}${ev.sourceId ? ` on ${esc(ev.sourceId)}` : ''}: ${escFit(ev.message, 200)}`;
  const line = `${emoji} *RDS* ${ev.sourceId ? `\`${escFit(ev.sourceId, 80)}\` ` : ''}${ev.eventId ? `${esc(ev.eventId)} ` : ''}— ${escFit(ev.message, 160)}`;
  return { item, message: message(title, bad ? COLOURS.alarm : isSetup ? COLOURS.neutral : COLOURS.info, blocks, text), line, bad, at: ev.time ? Date.parse(ev.time.replace(' ', 'T') + 'Z') || 0 : 0 };
}

const CACHE_BAD = /Failover|Failed|Error|Reboot|Replac|Unavailable|OutOfMemory|Shut/i;

function renderCache(item: Item, events: readonly { name: string; value: string }[], ctx: RenderContext): Rendered {
  const bad = events.some((e) => CACHE_BAD.test(e.name));
  const emoji = bad ? (item.severity === 'critical' ? '🚨' : '🟠') : '🧠';
  const first = events[0];
  const region = regionOfEnvelope(item) ?? ctx.defaultRegion;
  const cluster = first?.value.replace(/-\d{4}(-\d{3})?$/, '');
  const url = region && cluster ? `https://${region}.console.aws.amazon.com/elasticache/home?region=${region}#/redis/${encodeURIComponent(cluster)}` : undefined;
  const env = envOf(ctx, first?.value);
  const title = `${emoji} ElastiCache ${first?.name ?? 'notification'}${first ? `: ${first.value}` : ''}`;
  const blocks: (Block | undefined)[] = [
    section(events.map((e) => `*${escFit(e.name, 100)}* \`${escFit(e.value, 300)}\``).join('\n')),
    fields([['Environment', env ? esc(env) : undefined], ['Severity', item.severity]]),
    context(url ? link(url, 'Open in the ElastiCache console') : undefined),
  ];
  const text = `${emoji} ElastiCache ${events.map((e) => `${esc(e.name)}: ${esc(e.value)}`).join('; ')}`;
  const line = `${emoji} *ElastiCache* ${events.map((e) => `${esc(e.name)} \`${escFit(e.value, 80)}\``).join(', ')}`;
  return { item, message: message(title, bad ? COLOURS.alarm : COLOURS.info, blocks, truncate(text, 1000)), line, bad, at: item.envelope.receivedAt?.getTime() ?? 0 };
}

const BACKUP_BAD = /FAILED|ABORTED|EXPIRED|PARTIAL/i;

function renderBackup(item: Item, n: Extract<Notification, { kind: 'backup' }>, ctx: RenderContext): Rendered {
  const state = n.state ?? 'UNKNOWN';
  const bad = BACKUP_BAD.test(state);
  const emoji = bad ? (item.severity === 'critical' ? '🚨' : '🔴') : /COMPLETED|SUCCESS/i.test(state) ? '💾' : '⏳';
  const kind = (n.eventType ?? 'BACKUP_JOB').replace(/_/g, ' ').toLowerCase();
  const title = `${emoji} AWS Backup ${kind} ${state}`;
  const env = envOf(ctx, undefined);
  const blocks: (Block | undefined)[] = [
    section(escFit(n.message || '(no message)', 2000)),
    fields([
      ['Environment', env ? esc(env) : undefined],
      ['State', esc(state)],
      ['Resource', n.resourceArn ? `\`${escFit(n.resourceArn, 300)}\`` : undefined],
      ['Job', n.jobId ? `\`${escFit(n.jobId, 100)}\`` : undefined],
      ['Recovery point', n.recoveryPointArn ? `\`${escFit(n.recoveryPointArn, 300)}\`` : undefined],
    ]),
  ];
  const text = `${emoji} AWS Backup ${esc(kind)} ${esc(state)}${n.resourceArn ? ` for ${esc(n.resourceArn)}` : ''}`;
  const line = `${emoji} *Backup* ${esc(kind)} *${esc(state)}*${n.resourceArn ? ` \`${escFit(n.resourceArn.split(':').pop() ?? n.resourceArn, 80)}\`` : ''}`;
  return { item, message: message(title, bad ? COLOURS.alarm : COLOURS.ok, blocks, text), line, bad, at: item.envelope.receivedAt?.getTime() ?? 0 };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

function codeBlock(v: unknown, max: number): string {
  let json: string;
  try {
    json = JSON.stringify(v, null, 2) ?? '';
  } catch {
    json = String(v);
  }
  // Three backticks inside would close the block early.
  return '```' + escFit(json.replace(/```/g, 'ʼʼʼ'), max) + '```';
}

function renderEventBridge(item: Item, ev: EventBridgeEvent, ctx: RenderContext): Rendered {
  const d = ev.detail;
  const region = ev.region ?? ctx.defaultRegion;
  const env = envOf(ctx, undefined);
  let emoji = '📣';
  let title = `${ev.detailType}`;
  let summary: string;
  let bad = false;
  const extra: [string, string | undefined][] = [];
  let url: string | undefined;
  if (ev.detailType === 'EC2 Instance State-change Notification') {
    const id = str(d['instance-id']) ?? '?';
    const state = str(d.state) ?? '?';
    bad = /stopping|stopped|shutting-down|terminated/.test(state);
    emoji = bad ? '🔴' : state === 'running' ? '🟢' : '🖥️';
    title = `${emoji} EC2 ${id} is ${state}`;
    summary = `Instance \`${esc(id)}\` is now *${esc(state)}*.`;
    url = region ? `https://${region}.console.aws.amazon.com/ec2/home?region=${region}#InstanceDetails:instanceId=${encodeURIComponent(id)}` : undefined;
  } else if (ev.detailType === 'EBS Snapshot Notification' || ev.detailType === 'EBS Multi-Volume Snapshots Completion Status') {
    const result = str(d.result) ?? '?';
    bad = result !== 'succeeded';
    emoji = bad ? '🔴' : '📸';
    const snap = str(d.snapshot_id)?.split('/').pop() ?? str(d.snapshot_id);
    const source = str(d.source)?.split('/').pop() ?? str(d.source);
    title = `${emoji} EBS ${str(d.event) ?? 'snapshot'} ${result}${source ? `: ${source}` : ''}`;
    summary = `${esc(str(d.event) ?? 'Snapshot')} *${esc(result)}*${source ? ` for \`${esc(source)}\`` : ''}${snap ? ` → \`${esc(snap)}\`` : ''}.${d.cause ? `\n*Cause* ${escFit(str(d.cause) ?? '', 1500)}` : ''}`;
    extra.push(['Started', str(d.startTime) && esc(str(d.startTime)!)], ['Ended', str(d.endTime) && esc(str(d.endTime)!)]);
    url = region ? `https://${region}.console.aws.amazon.com/ec2/home?region=${region}#Snapshots:` : undefined;
  } else if (ev.detailType === 'Backup Job State Change' || ev.detailType === 'Copy Job State Change' || ev.detailType === 'Restore Job State Change') {
    const state = str(d.state) ?? str(d.status) ?? '?';
    bad = BACKUP_BAD.test(state);
    emoji = bad ? '🔴' : state === 'COMPLETED' ? '💾' : '⏳';
    const resource = str(d.resourceArn);
    title = `${emoji} ${ev.detailType.replace(' State Change', '')} ${state}${str(d.resourceType) ? `: ${str(d.resourceType)}` : ''}`;
    summary = `AWS Backup ${esc(ev.detailType.replace(' State Change', '').toLowerCase())} *${esc(state)}*${resource ? ` for \`${escFit(resource, 300)}\`` : ''}.${str(d.statusMessage) ? `\n${escFit(str(d.statusMessage)!, 1500)}` : ''}`;
    extra.push(['Vault', str(d.backupVaultName) && esc(str(d.backupVaultName)!)], ['Job', (str(d.backupJobId) ?? str(d.copyJobId) ?? str(d.restoreJobId)) && `\`${esc((str(d.backupJobId) ?? str(d.copyJobId) ?? str(d.restoreJobId))!)}\``]);
    url = region ? `https://${region}.console.aws.amazon.com/backup/home?region=${region}#/jobs` : undefined;
  } else {
    bad = /fail|error|unhealthy|impaired/i.test(`${ev.detailType} ${JSON.stringify(d).slice(0, 2000)}`);
    emoji = bad ? '🟠' : '📣';
    title = `${emoji} ${ev.detailType}`;
    summary = `*${escFit(ev.detailType, 200)}* from \`${esc(ev.source)}\`\n${codeBlock(d, 2400)}`;
  }
  const blocks: (Block | undefined)[] = [
    section(summary),
    fields([
      ['Environment', env ? esc(env) : undefined],
      ['Source', `\`${esc(ev.source)}\``],
      ['Resources', ev.resources.length ? ev.resources.slice(0, 5).map((r) => `\`${escFit(r, 200)}\``).join('\n') : undefined],
      ['Time', ev.time ? esc(ev.time) : undefined],
      ...extra,
    ]),
    context(url ? link(url, 'Open in the console') : undefined, [ev.account, region].filter(Boolean).map((s) => esc(s!)).join(' / ') || undefined),
  ];
  const text = `${title}`;
  const line = `${emoji} *${escFit(ev.detailType, 80)}* — ${escFit(title.replace(/^\S+\s/, ''), 160)}`;
  return { item, message: message(title, bad ? COLOURS.alarm : COLOURS.info, blocks, esc(text)), line, bad, at: ev.time ? Date.parse(ev.time) || 0 : 0 };
}

function renderText(item: Item, subject: string | undefined, text: string, ctx: RenderContext, fallbackReason?: string): Rendered {
  const env = envOf(ctx, undefined);
  const title = `📨 ${subject ? subject : 'Notification'}`;
  const body = text.trim() === '' ? '(empty message)' : text;
  const blocks: (Block | undefined)[] = [
    section('```' + escFit(body.replace(/```/g, 'ʼʼʼ'), 2800) + '```'),
    context(env ? `Environment ${esc(env)}` : undefined, item.envelope.sourceArns.length ? `via ${escFit(item.envelope.sourceArns[item.envelope.sourceArns.length - 1], 200)}` : undefined),
    context(fallbackReason ? `Shown as text: ${escFit(fallbackReason, 300)}` : undefined),
  ];
  const line = `📨 ${subject ? `*${escFit(subject, 80)}* ` : ''}${escFit(body.replace(/\s+/g, ' '), 160)}`;
  return { item, message: message(title, COLOURS.neutral, blocks, `${esc(truncate(title, 100))}: ${escFit(body, 300)}`), line, bad: false, at: item.envelope.receivedAt?.getTime() ?? 0 };
}

/**
 * A message that brought its own blocks (the db-health digest), checked by `selfRenderedBlocks`
 * in classify: its text and blocks go out as they are (no re-escaping, no attachment), as a post
 * of its own that never mentions anyone.
 */
function renderSelfRendered(item: Item, n: Extract<Notification, { kind: 'self-rendered' }>): Rendered {
  const name = n.title ?? n.source;
  return {
    item,
    message: { text: n.text, blocks: n.blocks },
    line: `📊 ${escFit(name, 160)}`,
    bad: false,
    at: n.at?.getTime() ?? item.envelope.receivedAt?.getTime() ?? 0,
    standalone: true,
  };
}

function regionOfEnvelope(item: Item): string | undefined {
  for (const arn of item.envelope.sourceArns) {
    const r = arn.split(':')[3];
    if (r && /^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(r)) return r;
  }
  return undefined;
}

/** Renders any item. A bug in a specific formatter falls back to the raw text, never an exception. */
export function render(item: Item, ctx: RenderContext): Rendered {
  const n = item.notification;
  try {
    switch (n.kind) {
      case 'alarm':
        return renderAlarm(item, n.alarm, ctx);
      case 'rds-event':
        return renderRds(item, n.event, ctx);
      case 'elasticache':
        return renderCache(item, n.events, ctx);
      case 'backup':
        return renderBackup(item, n, ctx);
      case 'eventbridge':
        return renderEventBridge(item, n.event, ctx);
      case 'self-rendered':
        return renderSelfRendered(item, n);
      case 'text':
        return renderText(item, n.subject, n.text, ctx, n.fallbackReason);
    }
  } catch (err) {
    return renderText(item, `${item.envelope.subject ?? 'Notification'} (formatter error: ${(err as Error).message})`, item.envelope.raw, ctx);
  }
}
