import { ConfigError, ENVIRONMENTS, keyMatches, loadEnvironment, patternsOverlap, SEED_000_NAMESPACES, deriveCacheUsers } from '../../lib/config';

/** dev's raw config with `cache` fields replaced. */
function devWithCache(cache: Record<string, unknown>): unknown {
  const raw = structuredClone(ENVIRONMENTS.dev) as Record<string, any>;
  raw.cache = { ...raw.cache, ...cache };
  return raw;
}

describe('cache registry in the environment config', () => {
  test.each(Object.keys(ENVIRONMENTS))('%s: the seed-000 namespaces are assigned and must expire by default', (env) => {
    const c = loadEnvironment(env, ENVIRONMENTS[env as keyof typeof ENVIRONMENTS]);
    expect(c.cache.mustExpire).toEqual([...SEED_000_NAMESPACES]);
    expect(c.cache.services.map((s) => s.service)).toEqual(['scheduler', 'requester']);
    expect(c.cache.services[0]).toMatchObject({ ownPrefix: true, keyPatterns: [...SEED_000_NAMESPACES] });
  });

  // [cache fields, the message naming the field]
  test.each([
    [{ services: [{ service: 'scheduler', keyPatterns: ['progress*'] }] }, /cache\.services\[0\]\.keyPatterns\[0\]: must be a namespace.*\(got "progress\*"\)/],
    [{ services: [{ service: 'scheduler', keyPatterns: ['a b:*'] }] }, /cache\.services\[0\]\.keyPatterns\[0\]: must be a namespace/],
    [{ services: [{ service: 'scheduler', keyPatterns: ['*'] }] }, /cache\.services\[0\]\.keyPatterns\[0\]: must be a namespace/],
    [{ services: [{ service: 'scheduler', keyPatterns: ['job:[a]:*'] }] }, /cache\.services\[0\]\.keyPatterns\[0\]: must be a namespace/],
    [{ services: [{ service: 'scheduler', channels: ['~evil'] }] }, /cache\.services\[0\]\.channels\[0\]: must be a namespace/],
    [{ services: [{ service: 'schedular' }] }, /cache\.services\[0\]\.service: "schedular" is not a service in roles\.services/],
    [{ services: [{ service: 'scheduler' }, { service: 'scheduler' }] }, /cache\.services\[1\]\.service: "scheduler" is listed twice/],
    [
      { services: [{ service: 'scheduler', keyPatterns: ['progress:*'] }, { service: 'gatherer', keyPatterns: ['progress:video:*'] }] },
      /cache\.services\[1\]\.keyPatterns\[0\]: "progress:video:\*" overlaps "progress:\*" of service "scheduler"/,
    ],
    [{ services: [{ service: 'scheduler', keyPatterns: ['sc:jobs:*'] }] }, /cache\.services\[0\]\.keyPatterns\[0\]: "sc:jobs:\*" overlaps "sc:\*" of another of its own/],
    [{ services: [{ service: 'requester', readPatterns: ['progress:*'] }] }, /cache\.services\[0\]\.readPatterns\[0\]: "progress:\*" is not inside any namespace a service writes/],
    [{ services: [{ service: 'scheduler', ownPrefix: false }] }, /cache\.services\[0\]\.ownPrefix: "scheduler" would own no namespace/],
    [{ mustExpire: ['session:*'] }, /cache\.mustExpire\[0\]: "session:\*" is not inside any namespace a service writes/],
    [{ engineVersion: '6.2' }, /cache\.engineVersion: must be 7\.0 or later/],
  ])('%j is rejected, naming the field', (cache, message) => {
    const raw = devWithCache(cache);
    expect(() => loadEnvironment('dev', raw)).toThrow(ConfigError);
    expect(() => loadEnvironment('dev', raw)).toThrow(message);
  });

  test('a namespace nested in another service\'s may be read', () => {
    const c = loadEnvironment('dev', devWithCache({ services: [{ service: 'scheduler', keyPatterns: ['progress:*'] }, { service: 'gatherer', readPatterns: ['progress:video:*'] }], mustExpire: ['progress:*'] }));
    const gt = deriveCacheUsers('dev', c.cache, c.roles.services).find((u) => u.userId === 'dev-gt-app');
    expect(gt?.accessString).toContain('%R~progress:video:*');
    expect(gt?.accessString).toContain('~gt:*');
  });

  test('deriveCacheUsers refuses an inconsistent registry even without the schema, naming the field', () => {
    expect(() => deriveCacheUsers('dev', { services: [{ service: 'nobody', ownPrefix: true, keyPatterns: [], readPatterns: [], channels: [] }], mustExpire: [] }, [{ name: 'gatherer', prefix: 'gt_' }])).toThrow(
      /cache\.services\[0\]\.service: "nobody" is not a service/,
    );
  });
});

describe('namespace patterns', () => {
  test.each([
    ['progress:*', 'progress:video:*', true],
    ['sc:*', 'scx:*', false],
    ['job:status:*', 'job:*', true],
    ['job:status:*', 'video:status:*', false],
  ])('%s and %s overlap: %s', (a, b, overlap) => {
    expect(patternsOverlap(a, b)).toBe(overlap);
    expect(patternsOverlap(b, a)).toBe(overlap);
  });

  test.each([
    ['progress:*', 'progress:video:123:tenant:1', true],
    ['progress:*', 'progress', false],
    ['sc:*', 'scx:1', false],
  ])('%s matches %s: %s', (p, key, m) => {
    expect(keyMatches(p, key)).toBe(m);
  });
});
