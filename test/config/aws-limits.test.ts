/**
 * Config values that AWS accepts only at deploy time are rejected at synth, naming the field.
 *
 * - Storage autoscaling ceiling: "at least 10% more than the current allocated storage", e.g.
 *   1000 GiB allocated needs at least 1100 GiB, else "Invalid max storage size".
 *   https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html
 * - Cache engine version → parameter-group family: CacheParameterGroupFamily's documented values
 *   https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticache-parametergroup.html
 *   and which versions share a family,
 *   https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ParameterGroups.Engine.html
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ConfigError, ENVIRONMENTS, loadEnvironment } from '../../lib/config';
import { CACHE_PARAMETER_GROUP_FAMILIES, cacheParameterGroupFamily, minMaxAllocatedStorageGiB } from '../../lib/config/aws-limits';
import { Database } from '../../lib/constructs/database';
import { Duration } from 'aws-cdk-lib';
import * as rds from 'aws-cdk-lib/aws-rds';

type Env = keyof typeof ENVIRONMENTS;
function load(env: Env, patch: (raw: Record<string, any>) => void) {
  const raw = structuredClone(ENVIRONMENTS[env]) as Record<string, any>;
  patch(raw);
  return loadEnvironment(env, raw);
}

describe('storage autoscaling ceiling (RDS: at least 10% above the allocation)', () => {
  test.each([
    [1000, 1100], // the page's own example
    [100, 110],
    [20, 22],
    [21, 24], // 23.1 rounds up: 23 GiB would be less than 10% more
  ])('allocated %i GiB needs a ceiling of at least %i GiB', (allocated, min) => {
    expect(minMaxAllocatedStorageGiB(allocated)).toBe(min);
  });

  test.each(Object.keys(ENVIRONMENTS) as Env[])('%s: exactly 10%% above is accepted, one GiB less is rejected naming the field', (env) => {
    const allocated = ENVIRONMENTS[env].database.allocatedStorageGiB;
    const min = minMaxAllocatedStorageGiB(allocated);
    expect(load(env, (r) => (r.database.maxAllocatedStorageGiB = min)).database.maxAllocatedStorageGiB).toBe(min);
    expect(() => load(env, (r) => (r.database.maxAllocatedStorageGiB = min - 1))).toThrow(ConfigError);
    expect(() => load(env, (r) => (r.database.maxAllocatedStorageGiB = min - 1))).toThrow(
      new RegExp(`database\\.maxAllocatedStorageGiB: must be at least ${min} \\(10% above allocatedStorageGiB ${allocated}`),
    );
  });

  test('the Database construct refuses it too (for callers that bypass the config)', () => {
    const stack = new Stack(new App(), 'S');
    const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, { name: 'app', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    expect(
      () =>
        new Database(stack, 'Db', {
          vpc, clientSecurityGroups: [], instanceClass: 't4g.medium', allocatedStorageGiB: 100, maxAllocatedStorageGiB: 109,
          multiAz: false, backupRetention: Duration.days(1), deletionProtection: false, port: 6432, databaseName: 'app',
          masterUsername: 'platform_admin', monitoringInterval: Duration.seconds(60),
          performanceInsightRetention: rds.PerformanceInsightRetention.DEFAULT, slowQueryMs: 500,
          idleInTransactionTimeoutMs: 60000, secretRotation: Duration.days(30), envName: 'test',
        }),
    ).toThrow(/maxAllocatedStorageGiB \(109\) must be at least 110/);
  });
});

describe('cache engine version → parameter-group family', () => {
  const DOCUMENTED_FAMILIES = ['valkey8', 'valkey7', 'memcached1.4', 'memcached1.5', 'memcached1.6', 'redis2.6', 'redis2.8', 'redis3.2', 'redis4.0', 'redis5.0', 'redis6.x', 'redis7'];

  test('every family in the table is one CloudFormation documents', () => {
    const used = Object.values(CACHE_PARAMETER_GROUP_FAMILIES).flatMap((m) => Object.values(m));
    expect(used.filter((f) => !DOCUMENTED_FAMILIES.includes(f))).toEqual([]);
  });

  test.each([
    ['redis', '7.1', 'redis7'],
    ['redis', '7.0', 'redis7'],
    ['redis', '6.2', 'redis6.x'], // not "redis6": the family of 6.0 and 6.2 is redis6.x
    ['valkey', '7.2', 'valkey7'],
    ['valkey', '8.1', 'valkey8'],
  ] as const)('%s %s uses %s', (engine, version, family) => {
    expect(cacheParameterGroupFamily(engine, version)).toBe(family);
  });

  test.each([
    ['redis', '7.5'],
    ['redis', '8.0'],
    ['valkey', '7.0'],
    ['valkey', '9.0'],
  ] as const)('%s %s is rejected at synth, naming cache.engineVersion and the versions that work', (engine, version) => {
    expect(cacheParameterGroupFamily(engine, version)).toBeUndefined();
    expect(() => load('dev', (r) => Object.assign(r.cache, { engine, engineVersion: version }))).toThrow(
      new RegExp(`cache\\.engineVersion: ${engine} ${version.replace('.', '\\.')} has no documented ElastiCache parameter-group family; use one of `),
    );
  });

  test('every shipped environment maps to a family', () => {
    for (const env of Object.keys(ENVIRONMENTS) as Env[]) {
      const c = load(env, () => undefined).cache;
      expect(cacheParameterGroupFamily(c.engine, c.engineVersion)).toBeDefined();
    }
  });
});
