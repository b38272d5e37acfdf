/**
 * The daily digest (key TTLs and namespaces, the checks progress polling relies on), from one probe result
 * (pure): keys per registered namespace, the biggest keys of the sample, namespaces whose keys
 * carry no TTL (must-expire ones first), and keys outside every namespace. It is a self-describing
 * SNS message with ready Slack Block Kit blocks, the shape the notifier posts as it is (the same
 * path as the db-health digest).
 */
import { codeSpan, escapeSlack, fitLines, formatBytes, layoutDigest, type SlackBlock } from '../shared/slack-text';
import { DIGEST_KIND, type MetricMap } from './contract';
import type { KeySample, PatternStat, ProbeResult, SampleInfo } from './probe';

/** The digest's data (what the message renders), for anything that wants to render it another way. */
export interface DigestData {
  readonly metrics: MetricMap;
  readonly patterns: readonly PatternStat[];
  readonly unregistered: ProbeResult['unregistered'];
  readonly missingTtl: ProbeResult['missingTtl'];
  readonly biggest: readonly KeySample[];
  readonly sample: SampleInfo;
}

export interface DigestMessage {
  readonly kind: typeof DIGEST_KIND;
  readonly version: 1;
  readonly environment: string;
  readonly generatedAt: string;
  /** Human title, also the SNS subject. */
  readonly title: string;
  /** Plain mrkdwn rendering (Slack's notification/fallback text), ≤ 3000 characters. */
  readonly text: string;
  /** Ready Block Kit blocks (≤ 50; section text ≤ 3000; header ≤ 150). */
  readonly blocks: readonly SlackBlock[];
  readonly data: DigestData;
}

const count = (v: number): string => Math.round(v).toLocaleString('en-US');

/** The digest data of a probe result. */
export function digestData(r: ProbeResult): DigestData {
  return { metrics: r.metrics, patterns: r.patterns, unregistered: r.unregistered, missingTtl: r.missingTtl, biggest: r.biggest, sample: r.sample };
}

function sampleNote(s: SampleInfo): string {
  return s.complete ? `all ${count(s.keysSampled)} keys scanned` : `estimated from a sample of ${count(s.keysSampled)} keys`;
}

function sections(d: DigestData): string[] {
  const est = d.sample.complete ? '' : '~';
  const out: string[] = [];
  out.push(
    fitLines(`*Keys per namespace* (${sampleNote(d.sample)})`, [
      ...d.patterns.map(
        (p) => `• ${codeSpan(p.pattern, 80)}: ${est}${count(p.keys)} keys${p.withoutTtl > 0 ? ` · ${est}${count(p.withoutTtl)} without TTL` : ''}${p.mustExpire ? ' · must expire' : ''}`,
      ),
      `• _no registered namespace_: ${est}${count(d.unregistered.keys)} keys${d.unregistered.examples.length > 0 ? ` (e.g. ${d.unregistered.examples.map((k) => codeSpan(k, 60)).join(', ')})` : ''}`,
    ]),
  );
  out.push(
    fitLines(
      '*Biggest keys in the sample* (MEMORY USAGE)',
      d.biggest.length === 0 ? ['_no keys_'] : d.biggest.map((k, i) => `${i + 1}. ${codeSpan(k.key, 120)}: ${formatBytes(k.bytes)}${k.ttl === -1 ? ' · no TTL' : ''}`),
    ),
  );
  const noTtl = d.patterns.filter((p) => p.withoutTtl > 0).sort((a, b) => Number(b.mustExpire) - Number(a.mustExpire) || b.withoutTtl - a.withoutTtl);
  out.push(
    fitLines(
      `*Namespaces with keys without a TTL*: ${noTtl.length === 0 ? 'none' : noTtl.length}`,
      noTtl.map(
        (p) =>
          `• ${p.mustExpire ? ':warning: ' : ''}${codeSpan(p.pattern, 80)}: ${est}${count(p.withoutTtl)} of ${est}${count(p.keys)}${p.mustExpire ? ' (must expire: these keys are a leak)' : ''}`,
      ).concat(d.missingTtl.examples.length > 0 ? [`e.g. ${d.missingTtl.examples.map((k) => codeSpan(k, 60)).join(', ')}`] : []),
    ),
  );
  return out;
}

/** Builds the digest message. Pure: the same data and time give the same message. */
export function formatDigest(d: DigestData, environment: string, now: Date): DigestMessage {
  const title = `Cache health digest: ${environment}`;
  const when = now.toISOString().slice(0, 16).replace('T', ' ');
  const m = d.metrics;
  const memory = `${formatBytes(m.memory_used_bytes)}${m.maxmemory_bytes !== undefined ? ` of ${formatBytes(m.maxmemory_bytes)}` : ''}`;
  const context = `${escapeSlack(environment)} · ${count(m.keys_total)} keys · memory ${memory} · ${when} UTC`;
  const { blocks, text } = layoutDigest(title, context, sections(d));
  return { kind: DIGEST_KIND, version: 1, environment, generatedAt: now.toISOString(), title, text, blocks, data: d };
}
