/**
 * The offline matcher against the examples of the EventBridge user guide:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html (the EC2 example)
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html (the operator table)
 */
import { matchesEventPattern } from './event-pattern';

// The EC2 example event and pattern of "Creating Amazon EventBridge event patterns".
const ec2Event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

describe('EventBridge pattern matching (user guide examples)', () => {
  test('the guide\'s EC2 termination pattern matches its event, and not another state', () => {
    const pattern = { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['terminated'] } };
    expect(matchesEventPattern(ec2Event, pattern)).toBe(true);
    expect(matchesEventPattern({ ...ec2Event, detail: { ...ec2Event.detail, state: 'running' } }, pattern)).toBe(false);
  });

  test('an array field in the event matches if any element does', () => {
    expect(matchesEventPattern(ec2Event, { resources: [{ suffix: 'i-1234567890abcdef0' }] })).toBe(true);
    expect(matchesEventPattern(ec2Event, { resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-0'] })).toBe(false);
  });

  // One row per operator of the guide's table: [field value, rule, matches?]
  test.each([
    ['initializing', { 'anything-but': 'initializing' }, false],
    ['running', { 'anything-but': 'initializing' }, true],
    ['us-east-1', { 'anything-but': { prefix: 'us-' } }, false],
    ['eu-west-1', { 'anything-but': { prefix: 'us-' } }, true],
    ['a.png', { 'anything-but': { suffix: '.png' } }, false],
    ['INITIALIZING', { 'anything-but': { 'equals-ignore-case': 'initializing' } }, false],
    ['/a/lib/b', { 'anything-but': { wildcard: '*/lib/*' } }, false],
    ['us-west-2', { prefix: 'us-' }, true],
    ['EventBridge', { prefix: { 'equals-ignore-case': 'eventb' } }, true],
    ['', '', true],
    ['Alice', 'Alice', true],
    ['Alice', { 'equals-ignore-case': 'alice' }, true],
    ['photo.png', { suffix: '.png' }, true],
    ['EVENTBRIDGE', { suffix: { 'equals-ignore-case': 'tBridge' } }, true],
    [null, null, true],
    [100, { numeric: ['=', 100] }, true],
    [15, { numeric: ['>', 10, '<=', 20] }, true],
    [25, { numeric: ['>', 10, '<=', 20] }, false],
    ['dir/a.png', { wildcard: 'dir/*.png' }, true],
    ['other/a.png', { wildcard: 'dir/*.png' }, false],
  ] as [unknown, unknown, boolean][])('%j against %j → %s', (value, rule, expected) => {
    expect(matchesEventPattern({ detail: { f: value } }, { detail: { f: [rule] } })).toBe(expected);
  });

  test('exists looks at presence; a missing field matches nothing else', () => {
    expect(matchesEventPattern({ detail: { p: 'x' } }, { detail: { p: [{ exists: true }] } })).toBe(true);
    expect(matchesEventPattern({ detail: {} }, { detail: { p: [{ exists: false }] } })).toBe(true);
    expect(matchesEventPattern({ detail: {} }, { detail: { p: [{ 'anything-but': 'x' }] } })).toBe(false);
  });

  test('$or: Location is "New York", or Day is "Monday"', () => {
    const pattern = { detail: { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] } };
    expect(matchesEventPattern({ detail: { Day: 'Monday' } }, pattern)).toBe(true);
    expect(matchesEventPattern({ detail: { Location: 'Boston', Day: 'Friday' } }, pattern)).toBe(false);
  });

  test('an unknown operator throws rather than matching by accident', () => {
    expect(() => matchesEventPattern({ detail: { f: 'x' } }, { detail: { f: [{ contains: 'x' }] } })).toThrow(/operator "contains" is not supported/);
  });
});
