import { allowEntryProblem, evaluateGate, explain } from '../../../scripts/diff/gate';
import { diffStack, type StackDiff } from '../../../scripts/diff/template-diff';
import { dataResources, stack } from './fixtures';

function mutated(mutate: (r: ReturnType<typeof dataResources>) => void, name = 'dev/Data'): StackDiff {
  const after = dataResources();
  mutate(after);
  return diffStack(stack(name, dataResources()), stack(name, after));
}

describe('evaluateGate', () => {
  test('no changes and safe changes pass', () => {
    expect(evaluateGate([mutated(() => undefined)]).exitCode).toBe(0);
    const safe = mutated((r) => {
      r.CpuAlarm.Properties!.Threshold = 95;
      r.Topic.Properties!.DisplayName = 'alerts!';
    });
    const g = evaluateGate([safe]);
    expect(g).toMatchObject({ exitCode: 0, blocking: [], allowed: [] });
  });

  test('replacing, destroying and orphaning stateful resources blocks, each named with path and why', () => {
    const d = mutated((r) => {
      r.DatabaseInstance.Properties!.DBName = 'renamed';
      delete r.Cache;
      delete r.WorkerVolume;
    });
    const g = evaluateGate([d]);
    expect(g.exitCode).toBe(1);
    const ids = g.blocking.map((f) => f.change.logicalId).sort();
    expect(ids).toEqual(['Cache', 'DatabaseInstance', 'DatabaseReplica', 'WorkerVolume']);
    const db = g.blocking.find((f) => f.change.logicalId === 'DatabaseInstance')!;
    expect(db).toMatchObject({ stack: 'dev/Data', environment: 'dev', stackId: 'Data' });
    expect(db.change.path).toBe('dev/Data/Database/Instance/Resource');
    expect(db.why).toMatch(/replaced: changing DBName requires a new resource; the old one is snapshotted, then deleted\. RDS DB instance/);
    expect(g.blocking.find((f) => f.change.logicalId === 'Cache')!.why).toMatch(/destroyed: removed from the template; it and its data are deleted\. ElastiCache/);
    expect(g.blocking.find((f) => f.change.logicalId === 'WorkerVolume')!.why).toMatch(/orphaned: .*DeletionPolicy Retain; CloudFormation stops managing it/);
  });

  test('adding or updating stateful resources in place does not block', () => {
    const d = mutated((r) => {
      r.DatabaseInstance.Properties!.AllocatedStorage = '50';
      r.NewSecret = { Type: 'AWS::SecretsManager::Secret', Properties: {} };
    });
    expect(evaluateGate([d]).exitCode).toBe(0);
  });

  test('moving the RDS maintenance window does not block; a possible replacement (AvailabilityZone) does', () => {
    expect(evaluateGate([mutated((r) => (r.DatabaseInstance.Properties!.PreferredMaintenanceWindow = 'sun:17:00-sun:17:30'))]).exitCode).toBe(0);
    const g = evaluateGate([mutated((r) => (r.DatabaseInstance.Properties!.AvailabilityZone = 'ap-northeast-2c'))]);
    expect(g.exitCode).toBe(1);
    expect(g.blocking[0].why).toMatch(/^may be replaced: changing AvailabilityZone can require a new resource/);
  });

  test('destroying a stateless resource does not block', () => {
    expect(evaluateGate([mutated((r) => delete r.Topic)]).exitCode).toBe(0);
  });

  test.each([
    ['environment-qualified logical ID', ['dev/Cache']],
    ['stack-qualified logical ID', ['dev/Data/Cache']],
    ['construct path', ['dev/Data/Database/Instance/Resource', 'dev/DatabaseReplica', 'dev/Cache']],
  ])('--allow by %s accepts exactly the named findings', (_how, allow) => {
    const d = mutated((r) => {
      delete r.Cache;
      if (allow.length > 1) r.DatabaseInstance.Properties!.DBName = 'renamed';
    });
    const g = evaluateGate([d], allow);
    expect(g.exitCode).toBe(0);
    expect(g.blocking).toEqual([]);
    expect(g.allowed.map((f) => f.allowedBy)).toEqual(expect.arrayContaining(allow));
    expect(g.unusedAllows).toEqual([]);
  });

  test('--allow of one resource leaves the others blocking and reports allows that matched nothing', () => {
    const d = mutated((r) => {
      delete r.Cache;
      delete r.WorkerVolume;
    });
    const g = evaluateGate([d], ['dev/WorkerVolume', 'dev/Typo123']);
    expect(g.exitCode).toBe(1);
    expect(g.blocking.map((f) => f.change.logicalId)).toEqual(['Cache']);
    expect(g.allowed.map((f) => f.change.logicalId)).toEqual(['WorkerVolume']);
    expect(g.unusedAllows).toEqual(['dev/Typo123']);
  });

  test('a bare logical ID or a resource type matches nothing (the CLI refuses them)', () => {
    const g = evaluateGate([mutated((r) => delete r.Cache)], ['Cache', 'AWS::ElastiCache::ReplicationGroup']);
    expect(g.blocking.map((f) => f.change.logicalId)).toEqual(['Cache']);
    expect(allowEntryProblem('Cache')).toMatch(/not environment-qualified/);
    expect(allowEntryProblem('AWS::ElastiCache::ReplicationGroup')).toMatch(/resource type/);
    expect(allowEntryProblem('prod/Cache', ['dev', 'prod'])).toBeUndefined();
    expect(allowEntryProblem('prod//Cache')).toMatch(/not environment-qualified/);
  });

  test.each([['dev/Data/Cache'], ['dev/Cache']])('--allow %s only matches its own environment', (entry) => {
    const dev = mutated((r) => delete r.Cache, 'dev/Data');
    const prod = mutated((r) => delete r.Cache, 'prod/Data');
    const g = evaluateGate([dev, prod], [entry]);
    expect(g.blocking.map((f) => f.stack)).toEqual(['prod/Data']);
    expect(g.allowed.map((f) => f.stack)).toEqual(['dev/Data']);
  });

  test('a removed stack says so', () => {
    const g = evaluateGate([diffStack(stack('dev/Data', dataResources()), undefined)]);
    const db = g.blocking.find((f) => f.change.logicalId === 'DatabaseInstance')!;
    expect(db.why).toMatch(/destroyed: its stack dev\/Data is removed \(DeletionPolicy Snapshot: a final snapshot is taken, then it is deleted\)/);
    expect(g.blocking.find((f) => f.change.logicalId === 'DatabaseKey')!.why).toMatch(/orphaned: its stack dev\/Data is removed/);
  });
});

describe('explain', () => {
  const base = { logicalId: 'X', resourceType: 'AWS::EC2::Volume', conditional: false, replacementCauses: ['Size'], changed: ['Size'], stateful: 'EBS volume: holds the data on the disk' };
  test.each([
    [{ kind: 'replaced', conditional: true }, /^may be replaced: changing Size can require a new resource; the old one and its data are deleted\. EBS volume/],
    [{ kind: 'replaced', updateReplacePolicy: 'Retain' }, /the old one is kept but detached, and the stack uses a new, empty one/],
    [{ kind: 'destroyed', deletionPolicy: 'Delete' }, /^destroyed: removed from the template; it and its data are deleted/],
  ] as const)('%j', (over, expected) => {
    expect(explain({ ...base, ...over })).toMatch(expected);
  });
});
