/**
 * AWS Health and GuardDuty routes (alerting.routes, off by default): each rule's pattern, as it is
 * synthesized, matches AWS's own sample events for its source and no other source's.
 * - Health: https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html
 *   (source aws.health, detail-type "AWS Health Event"); samples in fixtures/aws-samples/health.
 * - GuardDuty: https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html
 *   (source aws.guardduty, detail-type "GuardDuty Finding", the finding as `detail`); the findings in
 *   fixtures/aws-samples/guardduty are wrapped in that documented envelope here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { alertingSchema } from '../../lib/config/schema';
import { AccountEventRoutes } from '../../lib/constructs/account-event-routes';
import { matchesEventPattern } from '../support/event-pattern';
import { ENVS, resources, sample } from './support';

const SAMPLES = path.resolve(__dirname, '..', 'fixtures', 'aws-samples');
const jsonFiles = (dir: string) => fs.readdirSync(path.join(SAMPLES, dir)).filter((f) => f.endsWith('.json')).map((f) => `${dir}/${f}`);
const guardDutyEnvelope = (finding: unknown) => ({ version: '0', id: 'cd2d702e-ab31-411b-9344-793ce56b1bc7', 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', account: '111122223333', time: '1970-01-01T00:00:00Z', region: 'us-east-1', resources: [], detail: finding });
const healthEvents = jsonFiles('health').map((f) => ({ f, event: sample(f) }));
const guardDutyEvents = jsonFiles('guardduty').map((f) => {
  const s = sample(f);
  return { f, event: guardDutyEnvelope(s.detail ?? s) };
});

/** The synthesized rules' patterns (as CloudFormation will send them), by route. */
function synthesizedPatterns(routes: { awsHealth?: boolean; guardDuty?: boolean }) {
  const stack = new Stack(new App(), 'Test');
  new AccountEventRoutes(stack, 'Routes', { envName: 'test', ...routes, topic: new sns.Topic(stack, 'Warning') });
  const rules = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule')) as { Properties: { EventPattern: Record<string, unknown> } }[];
  return rules.map((r) => r.Properties.EventPattern);
}

test('the samples are what the documentation describes (a broken fixture cannot pass vacuously)', () => {
  expect(healthEvents.length).toBeGreaterThanOrEqual(4);
  expect(guardDutyEvents.length).toBeGreaterThanOrEqual(2);
  for (const { event } of healthEvents) expect(event).toMatchObject({ source: 'aws.health', 'detail-type': 'AWS Health Event' });
  for (const { event } of guardDutyEvents) expect((event.detail as { type?: string }).type).toEqual(expect.any(String));
});

test('the Health rule matches every AWS Health sample and no GuardDuty finding', () => {
  const [pattern] = synthesizedPatterns({ awsHealth: true });
  for (const { f, event } of healthEvents) expect({ f, matches: matchesEventPattern(event, pattern) }).toEqual({ f, matches: true });
  for (const { f, event } of guardDutyEvents) expect({ f, matches: matchesEventPattern(event, pattern) }).toEqual({ f, matches: false });
});

test('the GuardDuty rule matches every GuardDuty finding and no AWS Health event', () => {
  const [pattern] = synthesizedPatterns({ guardDuty: true });
  for (const { f, event } of guardDutyEvents) expect({ f, matches: matchesEventPattern(event, pattern) }).toEqual({ f, matches: true });
  for (const { f, event } of healthEvents) expect({ f, matches: matchesEventPattern(event, pattern) }).toEqual({ f, matches: false });
});

test('both routes are off unless the config switches them on, and no environment routes them today', () => {
  expect(synthesizedPatterns({})).toEqual([]);
  expect(synthesizedPatterns({ awsHealth: true, guardDuty: true })).toHaveLength(2);
  const parsed = alertingSchema.parse({ slackWebhookSecrets: { critical: 'a', warning: 'b', info: 'c' }, criticalMention: 'none' });
  expect(parsed.routes).toEqual({ awsHealth: false, guardDuty: false });
  expect(() => alertingSchema.parse({ slackWebhookSecrets: { critical: 'a', warning: 'b', info: 'c' }, criticalMention: 'none', routes: { guardduty: true } })).toThrow(/guardduty/);
  for (const env of ENVS) {
    const sources = resources(env, 'AWS::Events::Rule').flatMap((r) => (r.Properties.EventPattern?.source ?? []) as string[]);
    expect(sources.filter((s) => s === 'aws.health' || s === 'aws.guardduty')).toEqual([]);
  }
});
