import { App, Aspects, Stage, Validations, type StageProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import { AlertingStack } from '../stacks/alerting-stack';
import { DataStack } from '../stacks/data-stack';
import { NetworkStack } from '../stacks/network-stack';
import { ObservabilityStack } from '../stacks/observability-stack';
import { WorkersStack } from '../stacks/workers-stack';
import { RunbookLinks } from '../constructs/alarms/runbook-links';
import { LogRetentionFloor } from './log-retention-floor';
import { GrantsForAwsServicesOnly } from './grants-for-aws-services-only';
import { LogGroupsKey } from '../constructs/log-groups-key';

export interface PlatformStageProps extends StageProps {
  /** The environment's validated config. */
  readonly config: EnvironmentConfig;
}

/**
 * One environment. Its id is the environment name, so `npx cdk deploy 'prod/*'` deploys prod and
 * the stacks are named `prod-Network`, `prod-Data`, …
 */
export class PlatformStage extends Stage {
  public readonly network: NetworkStack;
  public readonly alerting: AlertingStack;
  public readonly data: DataStack;
  public readonly workers: WorkersStack;
  public readonly observability: ObservabilityStack;

  constructor(scope: Construct, id: string, props: PlatformStageProps) {
    const { config } = props;
    super(scope, id, {
      ...props,
      env: config.account ? { account: config.account, region: config.region } : undefined,
    });
    const tags = { Environment: config.name, ManagedBy: 'platform-infra' };
    if (config.production) Aspects.of(this).add(new LogRetentionFloor(365));
    // Every alarm's description ends with its runbook link (docs/runbooks/), for the Slack button.
    Aspects.of(this).add(new RunbookLinks({ envName: config.name, urlBase: config.alerting.slack.runbookUrlBase }));

    this.network = new NetworkStack(this, 'Network', { config, tags, description: `${config.name}: VPC, endpoints, flow logs` });
    this.alerting = new AlertingStack(this, 'Alerting', { config, tags, description: `${config.name}: alert topics and the Slack notifier` });
    this.data = new DataStack(this, 'Data', {
      config,
      tags,
      description: `${config.name}: stateful resources (PostgreSQL, cache, volumes, backups)`,
      vpc: this.network.vpc,
      workerSecurityGroup: this.network.workerSecurityGroup,
      dbClientSecurityGroup: this.network.dbClientSecurityGroup,
      secretsManagerEndpoint: this.network.secretsManagerEndpoint,
      alertTopics: this.alerting.alertTopics,
      cacheEventTopic: this.alerting.cacheEvents.topic,
    });
    this.workers = new WorkersStack(this, 'Workers', {
      config,
      tags,
      description: `${config.name}: worker hosts (stateless; their /data volumes live in the Data stack)`,
      vpc: this.network.vpc,
      workerSecurityGroup: this.network.workerSecurityGroup,
      volumes: this.data.workerVolumes.volumes,
      alertTopics: this.alerting.alertTopics,
      cache: { users: this.data.cache.users, replicationGroupId: this.data.cache.replicationGroup.ref },
    });
    this.observability = new ObservabilityStack(this, 'Observability', {
      config,
      tags,
      description: `${config.name}: dashboard, probes and event rules`,
      vpc: this.network.vpc,
      dbClientSecurityGroup: this.network.dbClientSecurityGroup,
      database: this.data.database,
      cache: this.data.cache,
      alertTopics: this.alerting.alertTopics,
      notifier: this.alerting.notifier,
      monitoringSecret: this.data.roleSchema.monitoringSecret,
    });
    // Every log group is encrypted with a customer managed key of its stack (CT.CLOUDWATCH.PR.3),
    // and no key lets anyone but an AWS service create grants (CT.KMS.PR.3).
    for (const stack of [this.network, this.alerting, this.data, this.workers, this.observability]) LogGroupsKey.encryptLogGroupsOf(stack, config.name);
    Aspects.of(this).add(new GrantsForAwsServicesOnly());
    // Every SNS subscription and EventBridge target of this environment, whichever stack or
    // construct adds it, gets a dead-letter queue alarmed on the independent path.
    Aspects.of(this).add(this.alerting.deadLetters.aspect);
  }
}

/**
 * Builds every environment into `app` and registers the cdk-nag packs for the whole app (see
 * `registerNagPacks`): an unacknowledged finding fails synth.
 */
export function buildPlatform(app: App, configs: readonly EnvironmentConfig[]): PlatformStage[] {
  const stages = configs.map((config) => new PlatformStage(app, config.name, { config }));
  registerNagPacks(app);
  return stages;
}

/**
 * cdk-nag's AwsSolutions and Serverless packs, for everything under `app`. Both follow the same
 * rule: a finding fails synth unless it is acknowledged on the narrowest construct with a reason.
 */
export function registerNagPacks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}
