/**
 * Helpers for the contract tests: AWS's published sample events, and the app's resources read
 * from the shared cloud assembly with cross-stack references followed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stacksOf, templateJson } from '../support/assembly';

export const ENVS = ['dev', 'staging', 'prod'] as const;
export type EnvName = (typeof ENVS)[number];

const SAMPLES = path.resolve(__dirname, '..', 'fixtures', 'aws-samples');

/** A sample event as AWS published it, e.g. `sample('backup/eventbridge-backup-job-failed.json')` (a fresh copy). */
export function sample(file: string): Record<string, any> {
  return JSON.parse(fs.readFileSync(path.join(SAMPLES, file), 'utf8'));
}

/**
 * A CloudTrail record as EventBridge delivers a service event: `AWS Service Event via CloudTrail`,
 * the record as `detail` (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html).
 * AWS prints the records, not this envelope.
 */
export function cloudTrailServiceEvent(record: Record<string, any>): Record<string, any> {
  const source = `aws.${String(record.eventSource).replace(/\.amazonaws\.com$/, '')}`;
  return { version: '0', id: record.eventID, 'detail-type': 'AWS Service Event via CloudTrail', source, account: record.recipientAccountId, time: record.eventTime, region: record.awsRegion, resources: [], detail: record };
}

export interface Resource {
  /** `dev/Data` */
  stack: string;
  logicalId: string;
  Type: string;
  Properties: Record<string, any>;
  [key: string]: any;
}

/** Every resource of an environment (all stacks), optionally of one type. */
export function resources(env: EnvName, type?: string): Resource[] {
  return stacksOf(env).flatMap((s) =>
    Object.entries((templateJson(env, s.displayName.split('/')[1]).Resources ?? {}) as Record<string, any>)
      .filter(([, r]) => !type || r.Type === type)
      .map(([logicalId, r]) => ({ ...r, stack: s.displayName, logicalId })),
  );
}

/**
 * The resource a property points at: `{ Ref }` / `{ Fn::GetAtt }` in the same stack, or another
 * stack's output (`Fn::GetStackOutput`, or `Fn::ImportValue` of an export), followed to that stack.
 */
export function target(env: EnvName, fromStack: string, value: unknown): Resource | undefined {
  const v = value as Record<string, any>;
  if (v?.Ref || v?.['Fn::GetAtt']) {
    const id = v.Ref ?? v['Fn::GetAtt'][0];
    return resources(env).find((r) => r.stack === fromStack && r.logicalId === id);
  }
  if (v?.['Fn::GetStackOutput']) {
    const { StackName, OutputName } = v['Fn::GetStackOutput'];
    const s = stacksOf(env).find((x) => x.stackName === StackName);
    const out = s && (templateJson(env, s.displayName.split('/')[1]).Outputs ?? {})[OutputName];
    return out ? target(env, s!.displayName, out.Value) : undefined;
  }
  if (v?.['Fn::ImportValue']) {
    const name = v['Fn::ImportValue'];
    for (const s of stacksOf(env)) {
      const outputs = (templateJson(env, s.displayName.split('/')[1]).Outputs ?? {}) as Record<string, any>;
      for (const o of Object.values(outputs)) {
        if (o.Export?.Name === name) return target(env, s.displayName, o.Value);
      }
    }
  }
  return undefined;
}

/**
 * A rule's pattern with CloudFormation references written as `<LogicalId>` / `<LogicalId.Attr>`,
 * so that it can be matched; a test puts the same string into the sample to say "this resource".
 */
export function literalPattern(pattern: unknown): any {
  if (Array.isArray(pattern)) return pattern.map(literalPattern);
  if (pattern && typeof pattern === 'object') {
    const p = pattern as Record<string, any>;
    if (p.Ref) return `<${p.Ref}>`;
    if (p['Fn::GetAtt']) return `<${p['Fn::GetAtt'].join('.')}>`;
    // An ARN built from parts (`arn:<AWS::Partition>:rds:<AWS::Region>:…:db:<PrimaryLogicalId>`).
    if (p['Fn::Join']) return (p['Fn::Join'][1] as unknown[]).map(literalPattern).join(p['Fn::Join'][0]);
    return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, literalPattern(v)]));
  }
  return pattern;
}
