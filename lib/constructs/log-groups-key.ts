import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface LogGroupsKeyProps {
  /** Environment name, for the key's description. */
  readonly envName: string;
}

/**
 * A customer managed key for one stack's CloudWatch log groups (Control Tower CT.CLOUDWATCH.PR.3).
 * Its policy lets CloudWatch Logs in this Region use it for this account's log groups only, as the
 * CloudWatch Logs user guide describes
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html): the
 * service principal `logs.<region>.amazonaws.com`, conditioned on the log group's ARN in the
 * encryption context. Publishers (Lambda, RDS, ElastiCache, VPC flow logs) need nothing: CloudWatch
 * Logs encrypts what it receives. The key is always retained: a log group kept after its stack
 * (prod's audit trail, flow logs) cannot be read without it.
 */
export class LogGroupsKey extends Construct {
  /** The key. */
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: LogGroupsKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `${props.envName} ${stack.node.id} CloudWatch log groups`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchLogsForThisAccountsLogGroups',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
      },
    }));
  }

  /**
   * Encrypts every log group of `stack` that has no key with a new LogGroupsKey of that stack
   * (none is created for a stack without log groups). Call once all of the stack's constructs exist.
   */
  public static encryptLogGroupsOf(stack: Stack, envName: string): LogGroupsKey | undefined {
    const groups = stack.node.findAll().filter((c): c is logs.CfnLogGroup => c instanceof logs.CfnLogGroup && c.kmsKeyId === undefined);
    if (groups.length === 0) return undefined;
    const key = new LogGroupsKey(stack, 'LogGroupsKey', { envName });
    for (const g of groups) g.kmsKeyId = key.key.keyArn;
    return key;
  }
}
