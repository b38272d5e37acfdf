import * as fs from 'node:fs';
import * as path from 'node:path';

interface Violation {
  ruleName: string;
  description: string;
  severity?: string;
  violatingConstructs?: { constructPath?: string }[];
}
interface PluginReport {
  pluginName: string;
  conclusion: string;
  violations: Violation[];
}

/**
 * Makes an unacknowledged cdk-nag finding (or a CloudFormation validation error) fail synth.
 *
 * aws-cdk-lib writes the findings to `validation-report.json`. When the CDK CLI runs the app it
 * tells the library that the CLI will report them (`@aws-cdk/core:failSynthOnValidationErrors`
 * = false), but CLI 2.1148 does not read that report, so `cdk synth` would exit 0 with findings.
 * Checking the report here makes the result the same however the app is run.
 */
export function failOnValidationFindings(assemblyDir: string, exit: (code: number) => never = process.exit): void {
  const file = path.join(assemblyDir, 'validation-report.json');
  if (!fs.existsSync(file)) return;
  const report = JSON.parse(fs.readFileSync(file, 'utf8')) as { pluginReports?: PluginReport[] };
  const failing = (report.pluginReports ?? []).filter(
    (r) => r.conclusion !== 'success' && r.violations.some((v) => v.severity === undefined || v.severity === 'error' || v.severity === 'fatal'),
  );
  if (failing.length === 0) return;
  const lines: string[] = [];
  for (const r of failing) {
    for (const v of r.violations) {
      if (v.severity && v.severity !== 'error' && v.severity !== 'fatal') continue;
      for (const c of v.violatingConstructs ?? [{}]) {
        lines.push(`  ${r.pluginName} ${v.ruleName} at ${c.constructPath ?? '?'}: ${v.description}`);
      }
    }
  }
  console.error(
    `Synth failed: ${lines.length} unacknowledged validation finding(s).\n${lines.join('\n')}\n` +
      `Fix the resource, or acknowledge on the narrowest construct with ` +
      `Validations.of(construct).acknowledge({ id, reason }). Full report: ${file}`,
  );
  exit(1);
}
