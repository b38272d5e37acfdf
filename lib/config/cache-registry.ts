/**
 * The cache registry: which services use the cache, which key namespaces each one owns
 * (read/write) or may read, its Pub/Sub channels, and which namespaces must always carry a TTL.
 * The ElastiCache users and their ACLs (lib/config/cache-acl.ts) and the cache-health probe
 * (lambda/cache-health/) are both derived from it, so it depends on nothing but zod.
 *
 * A key pattern is a namespace: `:`-separated segments of `a-z 0-9 _ . -` ending in `:*`, e.g.
 * `progress:*` or `sc:jobs:*`. Nothing else is accepted: no spaces (they would split an ACL
 * access string), no `?`, `[` or `\` (glob syntax that makes overlap undecidable by eye), no bare
 * `*`. So two patterns overlap exactly when one's literal part starts with the other's.
 */
import { z } from 'zod';
import { PREFIX_PATTERN } from './service-registry';

/** `progress:*`, `video:status:*`, `sc:*`. */
export const KEY_PATTERN = /^[a-z0-9_.-]+(:[a-z0-9_.-]+)*:\*$/;
const KEY_PATTERN_MESSAGE =
  'must be a namespace: ":"-separated segments of lower-case letters, digits, "_", "." or "-", ending in ":*" (e.g. "progress:*")';

export const keyPatternSchema = z.string().regex(KEY_PATTERN, KEY_PATTERN_MESSAGE);

export const cacheServiceSchema = z.strictObject({
  /** Name of a service in `roles.services`; its prefix names its users and its own namespace. */
  service: z.string().min(1),
  /** Give the service its own namespace `{p}:*` (e.g. `sc:*` for `sc_`) and channels `{p}:*`. @default true */
  ownPrefix: z.boolean().default(true),
  /** Further namespaces the service writes (read/write); no other service may write them. @default [] */
  keyPatterns: z.array(keyPatternSchema).default([]),
  /** Namespaces owned by another service that this one may read (never write). @default [] */
  readPatterns: z.array(keyPatternSchema).default([]),
  /** Further Pub/Sub channel patterns the service may publish and subscribe to. @default [] */
  channels: z.array(keyPatternSchema).default([]),
});

export type CacheServiceInput = z.input<typeof cacheServiceSchema>;
export type CacheService = z.output<typeof cacheServiceSchema>;

/** The progress namespaces of seed 000: polling reads them from Redis only, and each must expire. */
export const SEED_000_NAMESPACES = ['progress:*', 'video:status:*', 'job:status:*'] as const;

/**
 * Who uses the cache by default. Seed 000 names the namespaces but not the services, so they are
 * assigned here, in config: the scheduler runs the jobs (video encoding, AI work) and writes
 * their progress and status; the requester serves the `/progress/` endpoints and only reads them.
 */
export const DEFAULT_CACHE_SERVICES: readonly CacheServiceInput[] = [
  { service: 'scheduler', keyPatterns: [...SEED_000_NAMESPACES] },
  { service: 'requester', readPatterns: [...SEED_000_NAMESPACES] },
];

/** The literal part of a namespace pattern: `progress:*` → `progress:`. */
export function patternPrefix(pattern: string): string {
  return pattern.slice(0, -1);
}

/** True when some key could match both patterns. */
export function patternsOverlap(a: string, b: string): boolean {
  const pa = patternPrefix(a);
  const pb = patternPrefix(b);
  return pa.startsWith(pb) || pb.startsWith(pa);
}

/** True when every key matching `inner` also matches `outer`. */
export function patternCovers(outer: string, inner: string): boolean {
  return patternPrefix(inner).startsWith(patternPrefix(outer));
}

/** True when `key` matches the namespace pattern. */
export function keyMatches(pattern: string, key: string): boolean {
  return key.startsWith(patternPrefix(pattern));
}

/** Own namespace of a table prefix: `sc_` → `sc:*`. */
export function ownNamespace(prefix: string): string {
  return `${prefix.slice(0, -1)}:*`;
}

/** A cache service with everything resolved: the patterns it writes, reads and its channels. */
export interface ResolvedCacheService {
  readonly service: string;
  readonly prefix: string;
  /** Written and read: the own namespace (when `ownPrefix`) plus `keyPatterns`. */
  readonly writes: readonly string[];
  /** Read only: `readPatterns`. */
  readonly reads: readonly string[];
  readonly channels: readonly string[];
}

interface Issue {
  readonly path: (string | number)[];
  readonly message: string;
}

/**
 * Resolves the cache registry against the service registry and returns every problem with the
 * field it belongs to (paths relative to the `cache` config object). Pure; used by the config
 * schema (so a bad entry fails synth naming the field) and by the ACL derivation.
 */
export function checkCacheRegistry(
  entries: readonly CacheService[],
  mustExpire: readonly string[],
  services: readonly { name: string; prefix: string }[],
): { resolved: ResolvedCacheService[]; issues: Issue[] } {
  const issues: Issue[] = [];
  const resolved: ResolvedCacheService[] = [];
  const byName = new Map(services.map((s) => [s.name, s]));
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const svc = byName.get(e.service);
    if (!svc) {
      issues.push({ path: ['services', i, 'service'], message: `"${e.service}" is not a service in roles.services (known: ${[...byName.keys()].join(', ')})` });
      return;
    }
    if (!PREFIX_PATTERN.test(svc.prefix)) return; // the service registry reports it
    const before = seen.get(e.service);
    if (before !== undefined) {
      issues.push({ path: ['services', i, 'service'], message: `"${e.service}" is listed twice (also services[${before}]); merge the entries` });
      return;
    }
    seen.set(e.service, i);
    const own = ownNamespace(svc.prefix);
    const writes = [...(e.ownPrefix ? [own] : []), ...e.keyPatterns];
    if (writes.length === 0) {
      issues.push({ path: ['services', i, 'ownPrefix'], message: `"${e.service}" would own no namespace: keep ownPrefix true or list keyPatterns` });
    }
    resolved.push({ service: e.service, prefix: svc.prefix, writes, reads: [...e.readPatterns], channels: [...(e.ownPrefix ? [own] : []), ...e.channels] });
  });

  // Ownership: a key can be written by one service only.
  const owners: { pattern: string; service: string; path: (string | number)[] }[] = [];
  resolved.forEach((r) => {
    const i = seen.get(r.service)!;
    const e = entries[i];
    r.writes.forEach((p) => {
      const k = e.keyPatterns.indexOf(p);
      const path = k >= 0 ? ['services', i, 'keyPatterns', k] : ['services', i, 'ownPrefix'];
      const clash = owners.find((o) => patternsOverlap(o.pattern, p));
      if (clash) {
        const who = clash.service === r.service ? 'another of its own patterns' : `service "${clash.service}"`;
        issues.push({ path, message: `"${p}" overlaps "${clash.pattern}" of ${who}; every key has exactly one writer, so namespaces must not overlap` });
      } else {
        owners.push({ pattern: p, service: r.service, path });
      }
    });
  });
  // Reads: only of namespaces another service owns (a typo here would silently read nothing).
  resolved.forEach((r) => {
    const i = seen.get(r.service)!;
    r.reads.forEach((p, k) => {
      const owner = owners.find((o) => patternCovers(o.pattern, p));
      if (!owner) {
        issues.push({ path: ['services', i, 'readPatterns', k], message: `"${p}" is not inside any namespace a service writes (${owners.map((o) => o.pattern).join(', ')})` });
      } else if (owner.service === r.service) {
        issues.push({ path: ['services', i, 'readPatterns', k], message: `"${p}" is already written by "${r.service}" itself; drop it from readPatterns` });
      }
    });
  });
  mustExpire.forEach((p, k) => {
    if (!owners.some((o) => patternCovers(o.pattern, p))) {
      issues.push({ path: ['mustExpire', k], message: `"${p}" is not inside any namespace a service writes (${owners.map((o) => o.pattern).join(', ')})` });
    }
  });
  return { resolved, issues };
}

/**
 * The registered namespaces: every pattern some service writes, in registry order (what the
 * cache-health probe classifies keys by; a key outside all of them is "unregistered").
 */
export function registeredNamespaces(
  entries: readonly CacheService[],
  mustExpire: readonly string[],
  services: readonly { name: string; prefix: string }[],
): string[] {
  const { resolved, issues } = checkCacheRegistry(entries, mustExpire, services);
  if (issues.length > 0) throw new Error(`Invalid cache registry: ${issues.map((i) => `cache.${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return resolved.flatMap((r) => r.writes);
}
