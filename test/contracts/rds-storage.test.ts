/**
 * RDS storage autoscaling, as the RDS user guide documents it, on every environment's templates:
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html
 *
 * - The maximum storage threshold must be at least 10% above the allocated storage, or RDS
 *   rejects it ("Invalid max storage size").
 * - Autoscaling is per instance: a read replica without its own MaxAllocatedStorage never grows,
 *   and a replica whose disk fills stops replicating.
 * - Autoscaling grows the volume once free space is at most 10% of the allocation for 5 minutes;
 *   the allocation never shrinks below the initial one. CloudWatch has no allocated-size metric
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html lists FreeStorageSpace
 *   only), so a storage alarm that stays true after growth is one at or below 10% of the initial
 *   allocation: it then always means "autoscaling did not add space".
 */
import { minMaxAllocatedStorageGiB } from '../../lib/config/aws-limits';
import { ENVS, resources, type Resource } from './support';

const alarmsOn = (env: (typeof ENVS)[number], metric: string, instance: Resource) =>
  resources(env, 'AWS::CloudWatch::Alarm').filter((a) =>
    a.Properties.Namespace === 'AWS/RDS' && a.Properties.MetricName === metric &&
    JSON.stringify(a.Properties.Dimensions ?? []).includes(`"Ref":"${instance.logicalId}"`));

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

  test('every instance, the replica included, has a storage alarm that stays true once storage grows, and a CPU alarm', () => {
    const allocatedBytes = Number(primary().Properties.AllocatedStorage) * 1024 ** 3;
    for (const inst of instances()) {
      const storage = alarmsOn(env, 'FreeStorageSpace', inst);
      expect(storage).toHaveLength(1);
      expect(storage[0].Properties.ComparisonOperator).toBe('LessThanThreshold');
      expect(storage[0].Properties.Threshold).toBeLessThanOrEqual(allocatedBytes * 0.1);
      expect(storage[0].Properties.AlarmDescription).toMatch(/autoscaling/i);
      expect(storage[0].Properties.AlarmDescription).not.toMatch(/of the \d+ GiB allocated is used/);
      expect(alarmsOn(env, 'CPUUtilization', inst)).toHaveLength(1);
    }
  });
});

test('prod has a replica, so the replica rule above is not vacuous', () => {
  expect(resources('prod', 'AWS::RDS::DBInstance').filter((r) => r.Properties.SourceDBInstanceIdentifier)).toHaveLength(1);
});
