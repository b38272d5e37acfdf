import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Repository root, so entries can be named relative to it (`lambda/notifier/handler.ts`). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface PlatformFunctionProps {
  /** Handler file relative to the repository root, e.g. `lambda/notifier/handler.ts`. */
  readonly entry: string;
  /** Exported handler name. @default 'handler' */
  readonly handler?: string;
  /** What the function is for; shown in the console. */
  readonly description: string;
  /** Memory in MiB. @default 256 */
  readonly memorySize?: number;
  /** Timeout. @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** Environment variables. No secrets: pass secret ARNs/names and read them at run time. @default {} */
  readonly environment?: Record<string, string>;
  /** VPC to run in; the function then sits in the `app` (private with egress) subnets. @default - not in a VPC */
  readonly vpc?: ec2.IVpc;
  /** Security groups when in a VPC. @default - a new one per function */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** Days its log group keeps logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Reserved concurrency. @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * X-Ray tracing is off, deliberately (cdk-nag Serverless-LambdaTracing). Each function is one
 * short hop whose outside calls (Slack, PostgreSQL, Secrets Manager) are already logged as JSON
 * with their timings and errors; a trace would add per-invocation cost, a daemon segment on
 * every cold start, and an `xray:PutTraceSegments` grant on "*" to every role, for no question
 * the logs and metrics cannot answer.
 */
export const XRAY_DECISION =
  'X-Ray off by decision: each function is one short hop whose outside calls are logged as JSON with timings and errors; traces would add cost and an xray:* grant on "*" for no question the logs and metrics cannot answer.';

/**
 * The one way this app builds a Lambda: Node.js 24 on arm64 (cheaper and faster to start than
 * x86), bundled by local esbuild (no Docker here), `.sql` imported as text, JSON logs into a log
 * group with a retention, and the AWS SDK v3 left out of the bundle because the Node.js 24
 * runtime ships it (smaller bundle, faster cold start).
 */
export class PlatformFunction extends Construct {
  /** The function. */
  public readonly function: nodejs.NodejsFunction;
  /** Its log group. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      // Operational logs are cheap to lose and must not block a stack delete.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, props.entry),
      handler: props.handler ?? 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? { subnetGroupName: 'app' } : undefined,
      securityGroups: props.securityGroups,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node24',
        loader: { '.sql': 'text' },
        externalModules: ['@aws-sdk/*'],
        // esbuild's own output line on every synth is noise in `cdk synth`.
        logLevel: nodejs.LogLevel.ERROR,
      },
    });
    // The managed basic-execution policy only grants logs:CreateLogStream/PutLogEvents.
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'AWSLambdaBasicExecutionRole only allows writing this function\'s own logs; a hand-written copy would add nothing.',
    });
    Validations.of(this.function).acknowledge({ id: 'Serverless-LambdaTracing', reason: XRAY_DECISION });
    if (props.vpc) {
      Validations.of(this.function).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: 'AWSLambdaVPCAccessExecutionRole only manages the ENIs a VPC function needs; it is the documented minimum.',
      });
    }
  }
}
