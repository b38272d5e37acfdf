/**
 * Runs the real `npx cdk synth` once per jest run, with every AWS credential source removed, and
 * shares the cloud assembly with all test files (test/support/assembly.ts). The result is cached
 * under .tmp/ keyed by a hash of the sources, so re-running one test file does not re-synth.
 *
 * Then, when the run includes the cfn-lint test, it starts cfn-lint on every template in the
 * background (test/support/cfn-lint.ts), so the lint overlaps the other test files.
 */
import * as path from 'node:path';
import type { Config } from '@jest/types';
import { synthesizeOnce } from './assembly';
import { startCfnLint } from './cfn-lint';

const CFN_LINT_TEST = path.resolve(__dirname, '..', 'compliance', 'cfn-lint.test.ts');

export default async function globalSetup(globalConfig: Config.GlobalConfig): Promise<void> {
  const r = await synthesizeOnce();
  process.stderr.write(`\n[assembly] ${r.cached ? 'reused cached' : 'synthesized'} cloud assembly (${r.exitCode === 0 ? 'ok' : 'FAILED'}) in ${(r.durationMs / 1000).toFixed(1)} s\n`);
  const patterns = globalConfig.testPathPatterns;
  const runsLint = !patterns?.isSet() || patterns.toExecutor({ rootDir: globalConfig.rootDir }).isMatch(CFN_LINT_TEST);
  // Not awaited: the lint runs while the test files do; its test waits for the result.
  // A failure to start is reported by that test (which then lints itself), not here.
  if (r.exitCode === 0 && runsLint) startCfnLint().catch(() => undefined);
}
