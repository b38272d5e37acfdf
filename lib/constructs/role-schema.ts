import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnResource, CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { parseServiceRegistry, roleNames, type Service, type ServiceInput } from '../config/service-registry';
import { MONITORING_ROLE, validateAppSchema } from '../../lambda/role-schema/desired';
import { PlatformFunction, REPO_ROOT, XRAY_DECISION } from './platform-function';

/** Characters generated passwords leave out (CDK DatabaseSecret's set): all printable ASCII, none that needs quoting in a URL or a shell. */
export const PASSWORD_EXCLUDE_CHARACTERS = " %+~`#$&*()|[]{}:;<>?!'/@\"\\";

export interface RoleSchemaProps {
  /** VPC the apply and rotation functions run in (its `app` subnets). */
  readonly vpc: ec2.IVpc;
  /** Security group that may reach PostgreSQL (the network stack's `dbClientSecurityGroup`). */
  readonly dbClientSecurityGroup: ec2.ISecurityGroup;
  /** The primary instance: the roles are applied there and every login secret is attached to it. */
  readonly instance: rds.IDatabaseInstance;
  /** The master user's secret; the applier logs in with it (on RDS the master is not a superuser, but rds_superuser). */
  readonly masterSecret: secretsmanager.ISecret;
  /** The instance's listener port. */
  readonly port: number;
  /** The application database the schema is applied to. */
  readonly databaseName: string;
  /** Environment name; login secrets are named `platform/<env>/postgres/<role>`. */
  readonly environmentName: string;
  /** The environment's `roles` config: application schema and service registry. */
  readonly roles: { readonly appSchema: string; readonly services: readonly ServiceInput[] };
  /** Rotation period of the login secrets. @default Duration.days(30) */
  readonly rotationInterval?: Duration;
  /**
   * Install the prefix-enforcement event trigger. Set to false and deploy before a major version
   * upgrade (the trigger is dropped; RDS upgrades fail with event triggers present), upgrade, then
   * set it back to true and deploy again.
   * @default true
   */
  readonly enforcePrefixes?: boolean;
  /** Key that encrypts the login secrets. @default - the AWS managed key `aws/secretsmanager` */
  readonly encryptionKey?: kms.IKey;
  /** Retention of the functions' logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The three-tier role schema of the shared PostgreSQL (seed 004): for every service `{p}own`
 * (DDL), `{p}app` (DML) and `{p}user` (SELECT), prefix enforcement, and the `platform_monitor`
 * login role (pg_monitor) for the db-health probe.
 *
 * - A custom resource (custom-resources Provider, handler in the VPC) applies
 *   lambda/role-schema to the database on create and on every update (registry change, or a
 *   change of the SQL or applier code); delete leaves the database as it is.
 * - Each password login role gets a CDK-generated secret attached to the instance (host, port,
 *   dbname, username, password), rotated single-user by one shared function that sets SCRAM
 *   verifiers; `auth: iam` services get `rds_iam` and no secret.
 */
export class RoleSchema extends Construct {
  /** Name of the monitoring login role (member of pg_monitor). */
  public readonly monitoringRoleName = MONITORING_ROLE;
  /** The monitoring role's secret (attached: host, port, dbname, username, password). */
  public readonly monitoringSecret: secretsmanager.ISecret;
  /** Every login secret, by role name (`gtapp` → secret). */
  public readonly secrets: ReadonlyMap<string, secretsmanager.ISecret>;
  /** The validated registry. */
  public readonly services: readonly Service[];
  /** The apply function (custom resource handler). */
  public readonly handler: PlatformFunction;
  /** The single-user rotation function shared by all login secrets. */
  public readonly rotationFunction: PlatformFunction;
  /** The custom resource; depend on it to run after the roles exist. */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: RoleSchemaProps) {
    super(scope, id);
    // Validated at synth, naming the bad entry; the handler validates again.
    this.services = parseServiceRegistry(props.roles.services, 'roles.services');
    validateAppSchema(props.roles.appSchema);
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(props.databaseName)) throw new Error(`RoleSchema: invalid databaseName ${JSON.stringify(props.databaseName)}`);
    if (!Number.isInteger(props.port) || props.port < 1 || props.port > 65535) throw new Error(`RoleSchema: invalid port ${props.port}`);
    const rotationInterval = props.rotationInterval ?? Duration.days(30);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    // --- login secrets -------------------------------------------------------------------------
    const loginRoles = [
      ...this.services.filter((s) => s.auth === 'password').flatMap((s) => Object.values(roleNames(s.prefix))),
      MONITORING_ROLE,
    ];
    const secrets = new Map<string, secretsmanager.ISecret>();
    for (const role of loginRoles) {
      const secret = new rds.DatabaseSecret(this, `Secret-${role}`, {
        username: role,
        dbname: props.databaseName,
        secretName: `platform/${props.environmentName}/postgres/${role}`,
        encryptionKey: props.encryptionKey,
        excludeCharacters: PASSWORD_EXCLUDE_CHARACTERS,
      });
      // The attachment adds host, port, engine and the instance identifier to the secret.
      secrets.set(role, secret.attach(props.instance));
    }
    this.secrets = secrets;
    this.monitoringSecret = secrets.get(MONITORING_ROLE)!;

    // --- the applier ----------------------------------------------------------------------------
    this.handler = new PlatformFunction(this, 'Handler', {
      entry: 'lambda/role-schema/handler.ts',
      description: `${props.environmentName}: applies the three-tier role schema to PostgreSQL (custom resource)`,
      vpc: props.vpc,
      securityGroups: [props.dbClientSecurityGroup],
      // PBKDF2 for the SCRAM verifiers is CPU-bound: more memory, more CPU.
      memorySize: 1024,
      // Connection retries stop 60 s before this; the apply itself takes about a second.
      timeout: Duration.minutes(5),
      logRetention,
    });
    props.masterSecret.grantRead(this.handler.function);
    for (const s of secrets.values()) s.grantRead(this.handler.function);

    const providerLogs = new logs.LogGroup(this, 'ProviderLogs', { retention: logRetention });
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler.function,
      logGroup: providerLogs,
    });
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "The Provider framework's own function (aws-cdk-lib) uses the basic execution role, which only writes its own logs.",
    });
    // The framework's own function: cdk-nag Serverless wants an explicit memory size; 128 MiB is
    // what it gets by default and all it needs (it forwards one request).
    const onEvent = provider.node.findChild('framework-onEvent') as lambda.Function;
    (onEvent.node.defaultChild as lambda.CfnFunction).memorySize = 128;
    Validations.of(onEvent).acknowledge(
      { id: 'Serverless-LambdaDLQ', reason: 'CloudFormation invokes the custom-resource framework; a failure fails the deployment in front of whoever deploys, and a queued copy of a CloudFormation request cannot be replayed.' },
      { id: 'Serverless-LambdaTracing', reason: XRAY_DECISION },
    );
    Validations.of(this.handler.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'Invoked synchronously by the custom-resource framework; its errors fail the CloudFormation deployment, which is where they must be seen.',
    });
    const handlerLogicalId = Stack.of(this).getLogicalId(this.handler.function.node.defaultChild as CfnResource);
    Validations.of(provider).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${handlerLogicalId}.Arn>:*]`,
      reason: 'The Provider framework invokes the handler by any version or alias of that one function (lambda:InvokeFunction on <arn>:*); aws-cdk-lib generates this statement.',
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::RoleSchema',
      // The handler fails in minutes at worst; never let CloudFormation wait its default hour.
      serviceTimeout: Duration.minutes(10),
      properties: {
        DatabaseHost: props.instance.dbInstanceEndpointAddress,
        DatabasePort: String(props.port),
        DatabaseName: props.databaseName,
        MasterSecretArn: props.masterSecret.secretArn,
        AppSchema: props.roles.appSchema,
        Services: JSON.stringify(this.services),
        LoginSecrets: Stack.of(this).toJsonString(Object.fromEntries([...secrets].map(([role, s]) => [role, s.secretArn]))),
        EventTrigger: props.enforcePrefixes === false ? 'absent' : 'present',
        // A change to the SQL or the applier re-runs the apply on the next deploy.
        SchemaVersion: schemaVersion(),
      },
    });

    // --- rotation -------------------------------------------------------------------------------
    this.rotationFunction = new PlatformFunction(this, 'Rotation', {
      entry: 'lambda/role-schema/rotate-handler.ts',
      description: `${props.environmentName}: single-user rotation of the role schema's login secrets (SCRAM verifiers)`,
      vpc: props.vpc,
      securityGroups: [props.dbClientSecurityGroup],
      timeout: Duration.minutes(1),
      environment: { EXCLUDE_CHARACTERS: PASSWORD_EXCLUDE_CHARACTERS },
      logRetention,
    });
    for (const secret of secrets.values()) {
      // Single-user, not alternating users: see lambda/role-schema/rotate.ts. In short, a clone
      // role would be unknown to the registry, hold none of the direct grants, escape the
      // `FOR ROLE {p}own` default privileges and the prefix check, and never be locked out on removal.
      const schedule = secret.addRotationSchedule('Rotation', {
        rotationLambda: this.rotationFunction.function,
        automaticallyAfter: rotationInterval,
      });
      // Rotation starts right after the schedule is created: the role must exist by then.
      schedule.node.addDependency(this.resource);
    }
    // Secrets Manager may invoke the rotation function only for this account's secrets (the
    // permissions addRotationSchedule creates carry no condition; Control Tower CT.LAMBDA.PR.2).
    for (const child of this.rotationFunction.function.node.findAll()) {
      if (child instanceof lambda.CfnPermission && child.principal === 'secretsmanager.amazonaws.com') {
        child.sourceAccount = Stack.of(this).account;
      }
    }
    Validations.of(this.rotationFunction.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'Secrets Manager drives rotation step by step and records a failed step itself (rotation status, the RotationFailed event) and retries on the next schedule; a queued copy of a step request cannot be replayed.',
    });
    Validations.of(this.rotationFunction).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'secretsmanager:GetRandomPassword has no resource type and must be granted on "*"; every other rotation permission is scoped to the login secrets.',
    });
  }
}

/** Hash of the role schema's SQL and applier code. */
function schemaVersion(): string {
  const h = crypto.createHash('sha256');
  for (const dir of ['sql/roles', 'lambda/role-schema']) {
    const full = path.join(REPO_ROOT, dir);
    for (const f of fs.readdirSync(full).sort()) h.update(f).update('\0').update(fs.readFileSync(path.join(full, f)));
  }
  return h.digest('hex').slice(0, 16);
}
