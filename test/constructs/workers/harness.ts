/**
 * A small app with the real Network stack, the alert topics, the worker volumes (as the Data stack
 * holds them) and the real Workers stack: enough to test the workers without synthesizing the
 * database, the cache or any Lambda bundle.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENVIRONMENTS, loadEnvironment, type EnvironmentConfig, type EnvironmentConfigInput } from '../../../lib/config';
import { AlertTopics } from '../../../lib/constructs/alert-topics';
import { WorkerDataVolumes, type WorkerDataVolumesProps } from '../../../lib/constructs/workers/worker-data-volumes';
import { NetworkStack } from '../../../lib/stacks/network-stack';
import { WorkersStack } from '../../../lib/stacks/workers-stack';

export interface Harness {
  app: App;
  config: EnvironmentConfig;
  volumesStack: Stack;
  volumes: WorkerDataVolumes;
  workers: WorkersStack;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export function configFor(env: 'dev' | 'staging' | 'prod', overrides: DeepPartial<EnvironmentConfigInput> = {}): EnvironmentConfig {
  const raw = ENVIRONMENTS[env];
  const merged = { ...raw, ...overrides, workers: { ...raw.workers, ...(overrides.workers ?? {}) } } as EnvironmentConfigInput;
  return loadEnvironment(env, merged);
}

export function buildHarness(
  config: EnvironmentConfig,
  opts: { nag?: boolean; volumeProps?: Partial<WorkerDataVolumesProps>; workersProps?: Partial<ConstructorParameters<typeof WorkersStack>[2]> } = {},
): Harness {
  const app = new App();
  const network = new NetworkStack(app, 'Network', { config });
  const alerting = new Stack(app, 'Alerting');
  const topics = new AlertTopics(alerting, 'Topics', { envName: config.name });
  const volumesStack = new Stack(app, 'Data');
  const volumes = new WorkerDataVolumes(volumesStack, 'WorkerVolumes', {
    envName: config.name,
    vpc: network.vpc,
    count: config.workers.count,
    sizeGiB: config.workers.dataVolumeGiB,
    ...opts.volumeProps,
  });
  const workers = new WorkersStack(app, 'Workers', {
    config,
    vpc: network.vpc,
    workerSecurityGroup: network.workerSecurityGroup,
    volumes: volumes.volumes,
    alertTopics: topics.topics,
    ...opts.workersProps,
  });
  if (opts.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, config, volumesStack, volumes, workers };
}
