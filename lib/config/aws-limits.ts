/**
 * Rules AWS enforces only at deploy time, encoded so that synth rejects what CloudFormation would.
 * Both the config schema and the constructs use them (one definition).
 */

/**
 * The smallest storage-autoscaling ceiling RDS accepts for an allocation: "at least 10% more than
 * the current allocated storage" (1000 GiB allocated → at least 1100 GiB), else "Invalid max
 * storage size". Integer arithmetic, so 100 GiB gives exactly 110, not 111.
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html
 */
export function minMaxAllocatedStorageGiB(allocatedStorageGiB: number): number {
  return Math.ceil((allocatedStorageGiB * 11) / 10);
}

/** AWS recommends a ceiling at least 26% above the allocation, or RDS-EVENT-0225 warns it is near (same page). */
export const RECOMMENDED_MAX_STORAGE_HEADROOM = 1.26;

export type CacheEngine = 'redis' | 'valkey';

/**
 * ElastiCache engine versions (major.minor) and the parameter-group family each one needs. The
 * families are the documented values of CacheParameterGroupFamily
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticache-parametergroup.html:
 * valkey8 | valkey7 | … | redis5.0 | redis6.x | redis7), and which version uses which family is from
 * https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ParameterGroups.Engine.html ("Valkey 7.2 and
 * Redis OSS 7" share one set, Valkey 8.0/8.1/8.2 are family valkey8, Redis OSS 6.0/6.2 are redis6.x).
 * A version without a documented family (e.g. Valkey 9.x, whose family the CloudFormation reference
 * does not list yet) is rejected rather than guessed.
 */
export const CACHE_PARAMETER_GROUP_FAMILIES: Readonly<Record<CacheEngine, Readonly<Record<string, string>>>> = {
  redis: { '5.0': 'redis5.0', '6.0': 'redis6.x', '6.2': 'redis6.x', '7.0': 'redis7', '7.1': 'redis7' },
  valkey: { '7.2': 'valkey7', '8.0': 'valkey8', '8.1': 'valkey8', '8.2': 'valkey8' },
};

/** The parameter-group family of an engine version, or undefined when there is no documented one. */
export function cacheParameterGroupFamily(engine: CacheEngine, engineVersion: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(CACHE_PARAMETER_GROUP_FAMILIES[engine], engineVersion)
    ? CACHE_PARAMETER_GROUP_FAMILIES[engine][engineVersion]
    : undefined;
}

/** One line for an error message: the versions that do map to a family. */
export function knownCacheVersions(engine: CacheEngine): string {
  return Object.keys(CACHE_PARAMETER_GROUP_FAMILIES[engine]).join(', ');
}
