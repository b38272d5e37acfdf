/**
 * With an account and region configured (how people deploy), prod must still synthesize with no
 * credentials: no context lookups, and every cdk-nag acknowledgement still matching its finding
 * (finding IDs embed the account and region once they are known).
 */
import { App } from 'aws-cdk-lib';
import { ENVIRONMENTS, loadEnvironment } from '../../lib/config';
import { buildPlatform } from '../../lib/stages/platform-stage';

test('prod bound to an account and region synthesizes, cdk-nag clean, with no lookups', () => {
  const app = new App({ context: JSON.parse(require('node:fs').readFileSync(require('node:path').join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context });
  // A deployable prod names a real mailbox for the independent alert path (the shipped
  // placeholder on example.com is refused once an account is bound).
  const config = loadEnvironment('prod', { ...ENVIRONMENTS.prod, account: '123456789012', region: 'ap-northeast-2', alerting: { ...ENVIRONMENTS.prod.alerting, alertEmail: 'platform-oncall@company.co.kr' } });
  buildPlatform(app, [config]);
  // In a test process aws-cdk-lib throws on any unacknowledged validation finding.
  const assembly = app.synth();
  const prod = assembly.getNestedAssembly('assembly-prod');
  expect(prod.manifest.missing ?? []).toEqual([]);
  const data = prod.stacks.find((s) => s.stackName === 'prod-Data');
  expect(data?.environment).toMatchObject({ account: '123456789012', region: 'ap-northeast-2' });
});
