/**
 * With an account and region configured (how people deploy), prod must still synthesize with no
 * credentials: no context lookups, and every cdk-nag acknowledgement still matching its finding
 * (finding IDs embed the account and region once they are known).
 *
 * And a live diff (`npm run diff:live`, the PR workflow's) must compare like with like: the deployed
 * stacks were synthesized bound, so a bound synth of unchanged code must show no change, while an
 * environment-agnostic one shows endpoints, worker instances and the replica as replaced (availability
 * zones and ARNs become tokens), the false alarm issue 12 reported. Both are checked here with
 * @aws-cdk/cloudformation-diff, the library `cdk diff` itself uses; the unbound side is the shared
 * assembly, so this file synthesizes prod twice in-process (the second synth reuses the loaded
 * modules and costs about a third of the first).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import { App } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { ENVIRONMENTS, loadEnvironment } from '../../lib/config';
import { buildPlatform } from '../../lib/stages/platform-stage';
import { templateJson } from '../support/assembly';

const CDK_CONTEXT = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context;

/** prod bound to an account and region, as `deploy-environment.yml` and `diff:live` synthesize it. */
function synthBoundProd(): CloudAssembly {
  // No esbuild bundling (aws:cdk:bundling-stacks empty): the functions' code is not what this file
  // checks, asset changes are never replacements, and bundling printed raw "Bundling asset" lines.
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  // A deployable prod names a real mailbox for the independent alert path (the shipped
  // placeholder on example.com is refused once an account is bound).
  const config = loadEnvironment('prod', { ...ENVIRONMENTS.prod, account: '123456789012', region: 'ap-northeast-2', alerting: { ...ENVIRONMENTS.prod.alerting, alertEmail: 'platform-oncall@company.co.kr' } });
  buildPlatform(app, [config]);
  // In a test process aws-cdk-lib throws on any unacknowledged validation finding.
  return app.synth();
}

/** Templates of prod's stacks by short name (`Data`, `Network`, …). */
function prodTemplates(assembly: CloudAssembly): Record<string, Record<string, unknown>> {
  const prod = assembly.getNestedAssembly('assembly-prod');
  return Object.fromEntries(prod.stacks.map((s) => [s.stackName.replace(/^prod-/, ''), s.template]));
}

const DESTRUCTIVE: readonly ResourceImpact[] = [ResourceImpact.WILL_REPLACE, ResourceImpact.MAY_REPLACE, ResourceImpact.WILL_DESTROY, ResourceImpact.WILL_ORPHAN];

/** `Stack/LogicalId Type IMPACT` for each replaced, destroyed or orphaned resource. */
function destructive(oldT: Record<string, Record<string, unknown>>, newT: Record<string, Record<string, unknown>>): string[] {
  const found: string[] = [];
  for (const stack of Object.keys(newT)) {
    fullDiff(oldT[stack] as never, newT[stack] as never).resources.forEachDifference((id, change) => {
      if (DESTRUCTIVE.includes(change.changeImpact)) found.push(`${stack}/${id} ${change.resourceType} ${change.changeImpact}`);
    });
  }
  return found;
}

let bound: CloudAssembly;
beforeAll(() => {
  bound = synthBoundProd();
});

test('prod bound to an account and region synthesizes, cdk-nag clean, with no lookups', () => {
  const prod = bound.getNestedAssembly('assembly-prod');
  expect(prod.manifest.missing ?? []).toEqual([]);
  const data = prod.stacks.find((s) => s.stackName === 'prod-Data');
  expect(data?.environment).toMatchObject({ account: '123456789012', region: 'ap-northeast-2' });
});

test('a bound synth of unchanged code against the bound deployed stacks: no change at all (what diff:live shows)', () => {
  const deployed = prodTemplates(bound);
  const again = prodTemplates(synthBoundProd());
  expect(Object.keys(again).sort()).toEqual(['Alerting', 'Data', 'Network', 'Observability', 'Workers']);
  expect(destructive(deployed, again)).toEqual([]);
  for (const stack of Object.keys(again)) expect({ stack, changes: fullDiff(deployed[stack] as never, again[stack] as never).differenceCount }).toEqual({ stack, changes: 0 });
});

test('an environment-agnostic synth against the same deployed stacks shows endpoints, workers and the replica replaced (why live diffs must bind)', () => {
  const unbound = Object.fromEntries(['Alerting', 'Data', 'Network', 'Observability', 'Workers'].map((s) => [s, templateJson('prod', s)]));
  const found = destructive(prodTemplates(bound), unbound);
  expect(found).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^Network\/NetworkVpcSecretsManager\w+ AWS::EC2::VPCEndpoint WILL_REPLACE$/),
      expect.stringMatching(/^Workers\/FleetWorker0\w+ AWS::EC2::Instance WILL_(REPLACE|DESTROY)$/),
      expect.stringMatching(/^Data\/PostgresReplica\w+ AWS::RDS::DBInstance (MAY|WILL)_REPLACE$/),
    ]),
  );
});
