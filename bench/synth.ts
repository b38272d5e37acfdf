/**
 * Synth time of the whole app (every environment, cdk-nag included) against one empty stack with
 * the same toolchain. Median of N runs (default 3), each a fresh `npx cdk synth --quiet`.
 *
 *   npx tsx bench/synth.ts [runs]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const runs = Number(process.argv[2] ?? 3);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function time(label: string, args: string[]): number[] {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-bench-'));
    const t0 = process.hrtime.bigint();
    const r = spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', out, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    fs.rmSync(out, { recursive: true, force: true });
    if (r.status !== 0) throw new Error(`${label} synth failed:\n${r.stderr}`);
    times.push(ms);
    process.stderr.write(`${label} run ${i + 1}/${runs}: ${(ms / 1000).toFixed(2)} s\n`);
  }
  return times;
}

const empty = time('empty stack', ['--app', 'npx tsx bench/empty-app.ts']);
const full = time('all environments', []);
const result = {
  runs,
  emptyStackMedianSeconds: +(median(empty) / 1000).toFixed(2),
  allEnvironmentsMedianSeconds: +(median(full) / 1000).toFixed(2),
  ratio: +(median(full) / median(empty)).toFixed(2),
};
console.log(JSON.stringify(result, null, 2));
