/**
 * Runs the real `npx cdk synth` once per jest run, with every AWS credential source removed, and
 * shares the cloud assembly with all test files (test/support/assembly.ts). The result is cached
 * under .tmp/ keyed by a hash of the sources, so re-running one test file does not re-synth.
 */
import { synthesizeOnce } from './assembly';

export default async function globalSetup(): Promise<void> {
  const r = await synthesizeOnce();
  process.stderr.write(`\n[assembly] ${r.cached ? 'reused cached' : 'synthesized'} cloud assembly (${r.exitCode === 0 ? 'ok' : 'FAILED'}) in ${(r.durationMs / 1000).toFixed(1)} s\n`);
}
