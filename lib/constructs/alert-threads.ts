import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { THREAD_TABLE_KEY, THREAD_TABLE_TTL } from '../../lambda/notifier/app/contract';

export interface AlertThreadsProps {
  /** Environment name, for the key's description. */
  readonly envName: string;
  /**
   * What happens to the table when the stack goes. It holds only Slack threading state (losing it
   * loses threading, never a message), so it need not outlive the stack.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The Slack app mode's thread table: alarm → channel, parent `ts` and last state (plus resource →
 * alarm pointers). On demand (a handful of writes per alert), encrypted with its own rotating KMS
 * key, items expiring through TTL, point-in-time recovery on.
 */
export class AlertThreads extends Construct {
  public readonly table: dynamodb.Table;
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AlertThreadsProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the ${props.envName} Slack alert thread table`,
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(7),
    });
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: THREAD_TABLE_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      timeToLiveAttribute: THREAD_TABLE_TTL,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
  }

  /** Read and conditional write of single items: all the notifier does. */
  public grantThreading(grantee: iam.IGrantable): void {
    this.table.grant(grantee, 'dynamodb:GetItem', 'dynamodb:PutItem');
    // What DynamoDB asks of the caller for a customer-managed key; no wildcard actions.
    this.key.grant(grantee, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey');
  }
}
