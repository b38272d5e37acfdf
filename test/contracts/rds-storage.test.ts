/**
 * RDS storage autoscaling, as the RDS user guide documents it, on every environment's templates:
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html
 *
 * - The maximum storage threshold must be at least 10% above the allocated storage, or RDS
 *   rejects it ("Invalid max storage size").
 * - Autoscaling is per instance: a read replica without its own MaxAllocatedStorage never grows,
 *   and a replica whose disk fills stops replicating.
 */
import { minMaxAllocatedStorageGiB } from '../../lib/config/aws-limits';
import { ENVS, resources } from './support';

describe.each(ENVS)('%s: RDS storage autoscaling', (env) => {
  const instances = () => resources(env, 'AWS::RDS::DBInstance');
  const primary = () => instances().find((r) => !r.Properties.SourceDBInstanceIdentifier)!;

  test('the primary autoscales, to a ceiling at least 10% above its allocation', () => {
    const p = primary().Properties;
    const allocated = Number(p.AllocatedStorage);
    expect(Number(p.MaxAllocatedStorage)).toBeGreaterThanOrEqual(minMaxAllocatedStorageGiB(allocated));
  });

  test('every read replica autoscales to the primary\'s ceiling (it starts at the primary\'s size)', () => {
    const replicas = instances().filter((r) => r.Properties.SourceDBInstanceIdentifier);
    for (const r of replicas) {
      expect(r.Properties.MaxAllocatedStorage).toBeDefined();
      expect(Number(r.Properties.MaxAllocatedStorage)).toBeGreaterThanOrEqual(Number(primary().Properties.MaxAllocatedStorage));
    }
  });
});

test('prod has a replica, so the replica rule above is not vacuous', () => {
  expect(resources('prod', 'AWS::RDS::DBInstance').filter((r) => r.Properties.SourceDBInstanceIdentifier)).toHaveLength(1);
});
