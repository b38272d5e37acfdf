/**
 * cdk-nag's Serverless pack runs for the whole app beside AwsSolutions (issue 16). Its findings
 * are fixed where the fix is real (EventBridge target DLQs, SNS redrive policies, an explicit
 * memory size) and otherwise acknowledged on the narrowest construct with a reason; the shared
 * synth passing proves there is nothing else. Rules: https://awslabs.github.io/serverless-rules/
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { registerNagPacks } from '../../lib/stages/platform-stage';
import { ASSEMBLY_DIR, synthResult } from '../support/assembly';

/** Serverless acknowledgements of one environment: rule → construct paths (without `/<env>/`). */
function serverlessAcknowledgements(env: string): Record<string, string[]> {
  synthResult();
  const dir = path.join(ASSEMBLY_DIR, `assembly-${env}`);
  const out: Record<string, string[]> = {};
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.metadata.json'))) {
    const metadata = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Record<string, { type: string; data: Record<string, string> }[]>;
    for (const [constructPath, entries] of Object.entries(metadata)) {
      for (const e of entries.filter((x) => x.type === 'aws:cdk:acknowledged-rules')) {
        for (const [key, reason] of Object.entries(e.data)) {
          const rule = key.replace(/^Annotation::/, '');
          if (!rule.startsWith('Serverless-')) continue;
          expect({ rule, constructPath, reasonLength: reason.length >= 60 }).toEqual({ rule, constructPath, reasonLength: true });
          (out[rule] ??= []).push(constructPath.slice(env.length + 2));
        }
      }
    }
  }
  for (const paths of Object.values(out)) paths.sort();
  return out;
}

/** Every function of an environment (each is acknowledged for tracing and an async DLQ). */
const FUNCTIONS = [
  'Alerting/SlackNotifier/Function/Function',
  'Data/RoleSchema/Handler/Function',
  'Data/RoleSchema/Provider/framework-onEvent',
  'Data/RoleSchema/Rotation/Function',
  'Observability/CacheHealth/Probe/Function',
  'Observability/DbHealth/Probe/Function',
];

describe.each(['dev', 'staging', 'prod'])('%s', (env) => {
  test('every Serverless acknowledgement, on the narrowest construct', () => {
    const acks = serverlessAcknowledgements(env);
    expect(acks).toEqual({
      // X-Ray off by decision (platform-function.ts XRAY_DECISION), on each function.
      'Serverless-LambdaTracing': FUNCTIONS,
      // Each function's own failure path instead of an async DLQ (the reasons in the constructs).
      'Serverless-LambdaDLQ': FUNCTIONS,
      'Serverless-LambdaEventSourceMappingDestination': ['Critical', 'Warning', 'Info'].map((s) => `Alerting/SlackNotifier/Function/Function/SqsEventSource:${env}AlertingSlackNotifier${s}Queue`).sort().map((p) => expect.stringMatching(new RegExp(`^${p}[0-9A-F]{8}$`))),
      // The dead-letter queues themselves.
      'Serverless-SQSRedrivePolicy': ['Alerting/DeadLetters/ByEventBridge', 'Alerting/DeadLetters/BySns', 'Alerting/SlackNotifier/DeadLetters'],
    });
  });
});

test('registerNagPacks: an unacknowledged Serverless finding fails synth', () => {
  const app = new App();
  const stack = new Stack(app, 'Probe');
  // No explicit memory size, no DLQ, no tracing: Serverless findings AwsSolutions does not have.
  new lambda.CfnFunction(stack, 'Fn', {
    code: { zipFile: 'exports.handler = async () => {}' },
    role: 'arn:aws:iam::123456789012:role/x',
    runtime: 'nodejs24.x',
    handler: 'index.handler',
    timeout: Duration.seconds(10).toSeconds(),
  });
  registerNagPacks(app);
  // In a test process aws-cdk-lib throws on any unacknowledged validation finding.
  expect(() => app.synth()).toThrow(/Serverless-LambdaDefaultMemorySize/);
});
