import { App, Stack } from 'aws-cdk-lib';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { AlertTopicMap } from '../../../lib/constructs/alert-topics';
import { ENVIRONMENTS, environmentSchema } from '../../../lib/config';

export const PROD = environmentSchema.parse(ENVIRONMENTS.prod);
export const DEV = environmentSchema.parse(ENVIRONMENTS.dev);

/** A fresh stack with three plain topics and imported DB instances: no VPC, quick to synth. */
export function fixtureStack() {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'ap-northeast-2' } });
  const topics: AlertTopicMap = {
    critical: new sns.Topic(stack, 'Critical'),
    warning: new sns.Topic(stack, 'Warning'),
    info: new sns.Topic(stack, 'Info'),
  };
  const db = (id: string) => rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, id, { instanceIdentifier: id, instanceEndpointAddress: `${id}.example`, port: 6432, securityGroups: [] });
  return { app, stack, topics, primary: db('prod-db'), replica: db('prod-db-replica') };
}

/** Logical ID of a topic, for `{ Ref }` comparisons. */
export function refOf(stack: Stack, topic: sns.ITopic): { Ref: string } {
  return { Ref: stack.getLogicalId((topic as sns.Topic).node.defaultChild as sns.CfnTopic) };
}
