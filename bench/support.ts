/**
 * What every bench here shares: its command line (`what` and `--name N` flags), medians, cold
 * module loads of a bundle, and bundling a handler the way PlatformFunction does
 * (lib/constructs/platform-function.ts: minified, node24, cjs, `@aws-sdk/*` left to the runtime).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';

export const REPO = path.resolve(__dirname, '..');

/** The first bare word of argv (the bench to run, `all` without one) and its `--name N` flags. */
export function commandLine(args: readonly string[]) {
  return {
    what: args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a)) ?? 'all',
    flag(name: string, fallback: number): number {
      const i = args.indexOf(`--${name}`);
      return i >= 0 ? Number(args[i + 1]) : fallback;
    },
  };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Wall time of `node -e script` from this repository (its node_modules resolve `@aws-sdk/*`), ms. */
export function coldStart(script: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-e', script], { cwd: REPO, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`node -e ${script} failed (${r.status})`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Bundles like PlatformFunction into `outfile`; `over` adds or replaces esbuild options. */
export async function bundleLikeLambda(outfile: string, over: BuildOptions): Promise<{ file: string; bytes: number; gzipBytes: number }> {
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  await build({ bundle: true, platform: 'node', format: 'cjs', target: 'node24', minify: true, loader: { '.sql': 'text' }, external: ['@aws-sdk/*'], outfile, logLevel: 'error', ...over });
  const code = fs.readFileSync(outfile);
  return { file: outfile, bytes: code.length, gzipBytes: zlib.gzipSync(code).length };
}
