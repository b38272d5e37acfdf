import { classify } from '../../../lambda/notifier/classify';
import { parseEvent } from '../../../lambda/notifier/parse';
import { fixture } from './support';

describe('parseEvent', () => {
  test('an SQS batch: one envelope per record, with the message ID and the queue and topic ARNs', () => {
    const envs = parseEvent(fixture('cloudwatch-alarm-rds-cpu-ok.sqs.json'));
    expect(envs).toHaveLength(1);
    expect(envs[0].itemId).toBe('0c1d2e3f-0000-4b5c-8d9e-crit00000000');
    expect(envs[0].sourceArns[0]).toMatch(/^arn:aws:sqs:.*CriticalQueue/);
    expect(envs[0].sourceArns[1]).toMatch(/^arn:aws:sns:.*CriticalTopic/);
    expect(envs[0].subject).toBe('OK: "prod-db-cpu" in Asia Pacific (Seoul)');
    expect((envs[0].body as any).AlarmName).toBe('prod-db-cpu');
  });

  test('an SNS-to-Lambda event keeps the message attributes (AWS Backup puts the state there)', () => {
    const [env] = parseEvent(fixture('backup-job-failed.sns-lambda.json'));
    expect(env.attributes).toMatchObject({ EventType: 'BACKUP_JOB', State: 'FAILED' });
    expect(env.itemId).toBeUndefined();
    expect(typeof env.body).toBe('string');
  });

  test('SQS message attributes in SQS spelling are flattened too', () => {
    const body = JSON.stringify({ Type: 'Notification', TopicArn: 'arn:aws:sns:ap-northeast-2:1:t', Message: 'hi', MessageAttributes: { State: { dataType: 'String', stringValue: 'FAILED' } } });
    const [env] = parseEvent({ Records: [{ eventSource: 'aws:sqs', messageId: 'm1', body, eventSourceARN: 'arn:aws:sqs:ap-northeast-2:1:q' }] });
    expect(env.attributes.State).toBe('FAILED');
  });

  test.each([
    ['an EventBridge event', fixture('eventbridge-ec2-state-change.json'), 'ec2-instance'],
    ['a bare alarm message', JSON.parse((fixture('cloudwatch-alarm-metric-math.sns-envelope.json') as any).Message), 'alarm'],
    ['an SNS envelope', fixture('rds-event-failover.sns-envelope.json'), 'rds-event'],
    ['plain text', fixture('plain-text.txt'), 'text'],
    ['malformed JSON', fixture('malformed.json'), 'text'],
    ['null', null, 'text'],
    ['a number', 42, 'text'],
    ['an empty object', {}, 'text'],
    ['records that are not objects', { Records: [1, 'two', null] }, 'text'],
  ])('%s: never throws, and is classified as expected', (_name, event, kind) => {
    const envs = parseEvent(event);
    expect(envs.length).toBeGreaterThanOrEqual(1);
    for (const e of envs) expect(classify(e).kind).toBe(kind);
  });

  test('an array of events (the CLI with several files) is one batch', () => {
    const envs = parseEvent([fixture('eventbridge-ec2-state-change.json'), fixture('plain-text.txt'), fixture('cloudwatch-alarm-composite.sqs.json')]);
    expect(envs.map((e) => classify(e).kind)).toEqual(['ec2-instance', 'text', 'alarm']);
  });

  test('an SQS body that is itself an EventBridge event (rule → queue) is recognised', () => {
    const [env] = parseEvent({ Records: [{ eventSource: 'aws:sqs', messageId: 'm', body: JSON.stringify(fixture('eventbridge-backup-job-failed.json')) }] });
    expect(classify(env).kind).toBe('backup');
  });
});
