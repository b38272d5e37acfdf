/**
 * Small hand-written cloud assemblies for the diff tool's tests: a top-level manifest with one
 * nested Stage assembly per environment, like `cdk synth` writes them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StackArtifact, Template, TemplateResource } from '../../../scripts/diff/assembly';

export function tempDir(prefix = 'diff-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface FixtureOptions {
  /** Asset hashes to list in each stack's asset manifest. */
  readonly assetHashes?: readonly string[];
  /** Asset directories to write at the top level (`asset.<hash>/<file>`), by hash. */
  readonly assetFiles?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Write logical-ID metadata (construct paths) to an additional metadata file. @default true */
  readonly metadataFile?: boolean;
}

/**
 * Writes an assembly with the given stacks (`dev/Data` goes to `assembly-dev/`, `GitHubOidc` to the
 * top level) and returns its directory.
 */
export function writeAssembly(dir: string, stacks: Record<string, Template>, opts: FixtureOptions = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  const top: Record<string, unknown> = {};
  const nested = new Map<string, Record<string, unknown>>();
  for (const [displayName, template] of Object.entries(stacks)) {
    const [env, stack] = displayName.includes('/') ? displayName.split('/') : ['', displayName];
    const artifacts = env ? (nested.get(env) ?? nested.set(env, {}).get(env)!) : top;
    const subdir = env ? path.join(dir, `assembly-${env}`) : dir;
    fs.mkdirSync(subdir, { recursive: true });
    const id = `${env}${stack}ABCD1234`;
    fs.writeFileSync(path.join(subdir, `${id}.template.json`), JSON.stringify(template, null, 1));
    const files: Record<string, unknown> = {
      ['f'.repeat(64)]: { source: { path: `${id}.template.json`, packaging: 'file' }, destinations: {} },
    };
    for (const h of [...(opts.assetHashes ?? []), ...Object.keys(opts.assetFiles ?? {})]) {
      files[h] = { source: { path: env ? `../asset.${h}` : `asset.${h}`, packaging: 'zip' }, destinations: {} };
    }
    fs.writeFileSync(path.join(subdir, `${id}.assets.json`), JSON.stringify({ version: '55.0.0', files, dockerImages: {} }));
    const metadata: Record<string, unknown[]> = {};
    for (const logicalId of Object.keys(template.Resources ?? {})) {
      metadata[`/${displayName}/${logicalId}Construct/Resource`] = [{ type: 'aws:cdk:logicalId', data: logicalId }];
    }
    const withFile = opts.metadataFile ?? true;
    if (withFile) fs.writeFileSync(path.join(subdir, `${id}.metadata.json`), JSON.stringify(metadata));
    artifacts[`${id}.assets`] = { type: 'cdk:asset-manifest', properties: { file: `${id}.assets.json` } };
    artifacts[id] = {
      type: 'aws:cloudformation:stack',
      environment: 'aws://unknown-account/unknown-region',
      properties: { templateFile: `${id}.template.json`, stackName: env ? `${env}-${stack}` : stack },
      ...(withFile ? { additionalMetadataFile: `${id}.metadata.json` } : {}),
      displayName,
    };
  }
  for (const [env, artifacts] of nested) {
    top[`assembly-${env}`] = { type: 'cdk:cloud-assembly', properties: { directoryName: `assembly-${env}`, displayName: env } };
    fs.writeFileSync(path.join(dir, `assembly-${env}`, 'manifest.json'), JSON.stringify({ version: '55.0.0', artifacts }));
  }
  for (const [h, entries] of Object.entries(opts.assetFiles ?? {})) {
    fs.mkdirSync(path.join(dir, `asset.${h}`), { recursive: true });
    for (const [name, content] of Object.entries(entries)) fs.writeFileSync(path.join(dir, `asset.${h}`, name), content);
  }
  top.Tree = { type: 'cdk:tree', properties: { file: 'tree.json' } };
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ version: '55.0.0', artifacts: top }));
  return dir;
}

/** A StackArtifact for diffStack() without touching the disk. */
export function stack(displayName: string, resources: Record<string, TemplateResource>): StackArtifact {
  const [environment, stackId] = displayName.includes('/') ? displayName.split('/') : ['', displayName];
  return { displayName, environment, stackId, stackName: displayName.replace('/', '-'), template: { Resources: resources }, paths: {} };
}

export const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** A stateful-heavy little Data stack, roughly the shape of the real one. */
export function dataResources(): Record<string, TemplateResource> {
  return {
    DatabaseKey: {
      Type: 'AWS::KMS::Key',
      Properties: { EnableKeyRotation: true, KeyPolicy: { Statement: [] } },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    },
    DatabaseSecret: {
      Type: 'AWS::SecretsManager::Secret',
      Properties: { GenerateSecretString: { SecretStringTemplate: '{"username":"platform_admin"}', GenerateStringKey: 'password' } },
      DeletionPolicy: 'Delete',
    },
    DatabaseInstance: {
      Type: 'AWS::RDS::DBInstance',
      Properties: { DBInstanceClass: 'db.t4g.medium', Engine: 'postgres', DBName: 'platform', AllocatedStorage: '20' },
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
      Metadata: { 'aws:cdk:path': 'dev/Data/Database/Instance/Resource' },
    },
    DatabaseReplica: {
      Type: 'AWS::RDS::DBInstance',
      Properties: { DBInstanceClass: 'db.t4g.medium', SourceDBInstanceIdentifier: { Ref: 'DatabaseInstance' } },
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
    },
    Cache: {
      Type: 'AWS::ElastiCache::ReplicationGroup',
      Properties: { ReplicationGroupDescription: 'cache', CacheNodeType: 'cache.t4g.micro', Engine: 'redis' },
    },
    WorkerVolume: { Type: 'AWS::EC2::Volume', Properties: { AvailabilityZone: 'ap-northeast-2a', Size: 20, Encrypted: true }, DeletionPolicy: 'Retain' },
    Vault: { Type: 'AWS::Backup::BackupVault', Properties: { BackupVaultName: 'platform-dev' }, DeletionPolicy: 'Retain' },
    CpuAlarm: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: { ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, Threshold: 80, MetricName: 'CPUUtilization', Namespace: 'AWS/RDS', Period: 60, Statistic: 'Average' },
    },
    Topic: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: 'alerts' } },
  };
}
