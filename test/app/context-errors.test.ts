/**
 * Mistakes in `-c` context are one line naming the value, with no stack trace, and cost no synth:
 * bin/app.ts runs as `cdk synth` runs it (context arrives in CDK_CONTEXT_JSON, how the CDK CLI
 * passes `-c key=value` to the app).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { STACK_FRAME } from '../support/cli';

const REPO = path.resolve(__dirname, '..', '..');

function app(context: Record<string, unknown>) {
  return spawnSync(path.join(REPO, 'node_modules', '.bin', 'tsx'), ['bin/app.ts'], {
    cwd: REPO,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: '/nonexistent/never-written' },
  });
}

test.each([
  [{ githubRepo: 'not a repo' }, /^-c githubRepo must be the GitHub repository as owner\/name, e\.g\. -c githubRepo=acme\/platform-infra \(got "not a repo"\)$/],
  [{ githubRepo: '' }, /^-c githubRepo must be .* \(got ""\)$/],
])('%j: exit 1 with one line', (context, message) => {
  const r = app(context);
  expect(r.status).toBe(1);
  expect(r.stderr.trim()).toMatch(message);
  expect(r.stderr).not.toMatch(STACK_FRAME);
});
