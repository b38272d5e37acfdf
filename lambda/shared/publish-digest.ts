/**
 * Publishes a probe's daily digest to the info topic, tagged with its `kind` message attribute,
 * which the notifier's digest family reads (the db-health and cache-health digests alike).
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';

export async function publishDigest(sns: Pick<SNSClient, 'send'>, topicArn: string, kind: string, message: { readonly title: string }): Promise<string | undefined> {
  const out = await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      // SNS subjects are at most 100 characters.
      Subject: message.title.slice(0, 100),
      Message: JSON.stringify(message),
      MessageAttributes: { kind: { DataType: 'String', StringValue: kind } },
    }),
  );
  return out.MessageId;
}
