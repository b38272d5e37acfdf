/**
 * The README's first command: `npx cdk synth` synthesizes every environment with no AWS account
 * or credentials. globalSetup ran the real CLI once with every AWS variable removed and the
 * config/credentials files pointed at nothing; this checks what it produced.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ASSEMBLY_DIR, readManifest, stacksOf, synthResult } from '../support/assembly';
import { failOnValidationFindings } from '../../lib/stages/validation-gate';

describe('cdk synth with no AWS credentials', () => {
  test('succeeded', () => {
    const r = synthResult();
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/Unable to resolve AWS account|credentials|Need to perform AWS calls/i);
  });

  test('synthesized all three environments as nested Stage assemblies', () => {
    synthResult();
    const nested = Object.values(readManifest().artifacts).filter((a) => a.type === 'cdk:cloud-assembly').map((a) => a.properties?.directoryName);
    expect(nested.sort()).toEqual(['assembly-dev', 'assembly-prod', 'assembly-staging']);
  });

  test.each(['dev', 'staging', 'prod'])('%s needed no context lookups (nothing missing, no account baked in)', (env) => {
    const m = readManifest(path.join(ASSEMBLY_DIR, `assembly-${env}`));
    expect(m.missing ?? []).toEqual([]);
    for (const [, a] of Object.entries(m.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack')) {
      expect((a as { environment?: string }).environment).toBe('aws://unknown-account/unknown-region');
    }
    expect(stacksOf(env).length).toBeGreaterThanOrEqual(4);
  });

  test('cdk-nag ran: acknowledgements are recorded as aws:cdk:acknowledged-rules metadata', () => {
    const file = stacksOf('prod').find((s) => s.displayName === 'prod/Data')!.templateFile.replace(/\.template\.json$/, '.metadata.json');
    const metadata = fs.readFileSync(file, 'utf8');
    expect(metadata).toMatch(/aws:cdk:acknowledged-rules/);
    expect(metadata).toMatch(/AwsSolutions-RDS2/);
  });
});

describe('validation gate', () => {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'vr-'));
  const write = (report: unknown) => fs.writeFileSync(path.join(dir, 'validation-report.json'), JSON.stringify(report));
  const exit = jest.fn((code: number) => {
    throw new Error(`exit ${code}`);
  }) as unknown as (code: number) => never;
  beforeEach(() => {
    (exit as unknown as jest.Mock).mockClear();
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });

  test('an unacknowledged cdk-nag finding fails synth and names the construct', () => {
    write({ pluginReports: [{ pluginName: 'AwsSolutions', conclusion: 'failure', violations: [{ ruleName: 'AwsSolutions-RDS3', description: 'not Multi-AZ', severity: 'error', violatingConstructs: [{ constructPath: 'prod/Data/Postgres/Primary/Resource' }] }] }] });
    expect(() => failOnValidationFindings(dir, exit)).toThrow('exit 1');
    expect((console.error as jest.Mock).mock.calls[0][0]).toMatch(/AwsSolutions-RDS3 at prod\/Data\/Postgres\/Primary\/Resource/);
  });

  test('warnings alone do not fail synth', () => {
    write({ pluginReports: [{ pluginName: 'CloudFormation Validate', conclusion: 'success', violations: [{ ruleName: 'W2531', description: 'deprecated runtime', severity: 'warning' }] }] });
    expect(() => failOnValidationFindings(dir, exit)).not.toThrow();
  });
});
