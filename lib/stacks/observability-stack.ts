import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import type { AlertTopicMap } from '../constructs/alert-topics';
import type { Cache } from '../constructs/cache';
import type { Database } from '../constructs/database';

export interface ObservabilityStackProps extends StackProps {
  /** The environment's validated config. */
  readonly config: EnvironmentConfig;
  /** The environment's VPC (for in-VPC probes). */
  readonly vpc: ec2.IVpc;
  /** Security group of in-VPC functions that reach PostgreSQL. */
  readonly dbClientSecurityGroup: ec2.ISecurityGroup;
  /** The database, for the dashboard and the db-health probe. */
  readonly database: Database;
  /** The cache, for the dashboard. */
  readonly cache: Cache;
  /** Alert topics. */
  readonly alertTopics: AlertTopicMap;
}

/**
 * Wiring only: the dashboard, scheduled probes and event rules. The alarms themselves belong to
 * the constructs that own the resources.
 */
export class ObservabilityStack extends Stack {
  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    void props;
  }
}
