/**
 * cfn-lint (AWS's CloudFormation linter: resource schemas, allowed values per region, intrinsic
 * functions) on every template of every environment in the shared assembly. Any error or warning
 * fails, except W3005 ("DependsOn already enforced by a Ref/GetAtt"), which CDK itself emits.
 * https://github.com/aws-cloudformation/cfn-lint/blob/main/docs/rules.md
 *
 * The lint starts in the jest global setup and runs while the other files do (test/support/cfn-lint.ts).
 */
import * as path from 'node:path';
import { CANARY_TEMPLATE, type CfnLintFinding, type CfnLintResult, cfnLintResult } from '../support/cfn-lint';
import { REPO } from '../support/assembly';

/** Findings that may stay, with why. Nothing else may. */
const ALLOWED: Record<string, string> = {
  W3005: 'CDK adds DependsOn next to a Ref/GetAtt to the same resource (e.g. a function on its role policy); harmless and not ours to remove',
};

const where = (f: CfnLintFinding) =>
  `${path.relative(REPO, f.Filename)} ${f.Rule.Id} ${f.Level} at ${(f.Location.Path ?? []).join('/')}: ${f.Message}`;

describe('cfn-lint on every environment\'s templates', () => {
  let result: CfnLintResult;
  let ours: CfnLintFinding[];

  beforeAll(async () => {
    result = await cfnLintResult();
    ours = result.findings.filter((f) => path.resolve(REPO, f.Filename) !== CANARY_TEMPLATE);
  }, 1_200_000); // only a guard against a hang: on this shared machine (load 30) the lint once took 418 s

  test('cfn-lint ran (installed, did not crash)', () => {
    expect(result.error).toBeUndefined();
    expect(result.version).toMatch(/^cfn-lint \d+\.\d+/);
  });

  test('it linted every stack of every environment', () => {
    const stacks = result.templates.filter((t) => t !== CANARY_TEMPLATE).map((t) => path.basename(t));
    for (const env of ['dev', 'staging', 'prod']) {
      for (const stack of ['Network', 'Data', 'Workers', 'Alerting', 'Observability']) {
        expect(stacks.filter((s) => s.startsWith(`${env}${stack}`))).toHaveLength(1);
      }
    }
  });

  test('the rules really ran: the canary template\'s known error is reported', () => {
    const canary = result.findings.filter((f) => path.resolve(REPO, f.Filename) === CANARY_TEMPLATE);
    expect(canary.map((f) => `${f.Rule.Id} ${(f.Location.Path ?? []).join('/')}`)).toEqual(['E3012 Resources/Canary/Properties/TopicName']);
  });

  test('no error or warning other than the allowed ones', () => {
    const bad = ours.filter((f) => f.Level !== 'Informational' && !(f.Rule.Id in ALLOWED)).map(where);
    expect(bad).toEqual([]);
  });
});
