/**
 * Wall time of `npm run diff -- --base <ref>` on this repository, and how much of it is synth.
 * Median of N runs (default 3), both synths at once (the default) and one after the other
 * (`--sequential`). Reads the tool's own phase timings from stderr.
 *
 *   npx tsx bench/diff.ts [runs] [ref]        e.g. npx tsx bench/diff.ts 3 HEAD~1
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const runs = Number(process.argv[2] ?? 3);
const ref = process.argv[3] ?? 'HEAD~1';
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Sample {
  wallSeconds: number;
  totalSeconds: number;
  synthSeconds: number;
  phases: Record<string, number>;
}

function sample(extra: string[]): Sample {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'diff-bench-')), 'diff.md');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('npm', ['run', '--silent', 'diff', '--', '--base', ref, '--out', out, ...extra], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  if (r.status !== 0 && r.status !== 1) throw new Error(`diff failed (exit ${r.status}):\n${r.stderr}`);
  const line = r.stderr.split('\n').find((l) => l.includes('timings:'));
  const m = line?.match(/timings: (.*); total ([\d.]+)s, of which synth ([\d.]+)s/);
  if (!m) throw new Error(`no timings line in:\n${r.stderr}`);
  const phases = Object.fromEntries(m[1].split(', ').map((p) => {
    const i = p.lastIndexOf(' ');
    return [p.slice(0, i), Number(p.slice(i + 1).replace('s', ''))];
  }));
  return { wallSeconds, totalSeconds: Number(m[2]), synthSeconds: Number(m[3]), phases };
}

function bench(label: string, extra: string[]) {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    const s = sample(extra);
    samples.push(s);
    process.stderr.write(`${label} run ${i + 1}/${runs}: wall ${s.wallSeconds.toFixed(1)} s, synth ${s.synthSeconds.toFixed(1)} s\n`);
  }
  const wall = median(samples.map((s) => s.wallSeconds));
  const synth = median(samples.map((s) => s.synthSeconds));
  const phaseNames = Object.keys(samples[0].phases);
  return {
    wallMedianSeconds: +wall.toFixed(1),
    synthMedianSeconds: +synth.toFixed(1),
    synthShare: +(synth / wall).toFixed(2),
    phaseMediansSeconds: Object.fromEntries(phaseNames.map((p) => [p, +median(samples.map((s) => s.phases[p] ?? 0)).toFixed(1)])),
    samples: samples.map((s) => +s.wallSeconds.toFixed(1)),
  };
}

const result = {
  ref,
  runs,
  cores: os.cpus().length,
  parallel: bench('parallel', []),
  sequential: bench('sequential', ['--sequential']),
};
console.log(JSON.stringify(result, null, 2));
