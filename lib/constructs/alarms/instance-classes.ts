/**
 * Memory and vCPUs of RDS instance classes, for thresholds that RDS itself derives from the class:
 * `max_connections` (the PostgreSQL default is `LEAST({DBInstanceClassMemory/9531392}, 5000)`),
 * FreeableMemory as a share of the class's memory, and DBLoad against the vCPU count.
 */

export interface InstanceClassSpec {
  /** Memory in GiB. */
  readonly memoryGiB: number;
  readonly vcpus: number;
}

/** Per size: [memory GiB, vCPUs] for the burstable (t), general-purpose (m) and memory-optimised (r) families. */
const SIZES: Record<'t' | 'm' | 'r', Record<string, [number, number]>> = {
  t: { micro: [1, 2], small: [2, 2], medium: [4, 2], large: [8, 2], xlarge: [16, 4], '2xlarge': [32, 8] },
  m: { large: [8, 2], xlarge: [16, 4], '2xlarge': [32, 8], '4xlarge': [64, 16], '8xlarge': [128, 32], '12xlarge': [192, 48], '16xlarge': [256, 64], '24xlarge': [384, 96] },
  r: { large: [16, 2], xlarge: [32, 4], '2xlarge': [64, 8], '4xlarge': [128, 16], '8xlarge': [256, 32], '12xlarge': [384, 48], '16xlarge': [512, 64], '24xlarge': [768, 96] },
};

/** `t4g.medium` or `db.t4g.medium` → `{ memoryGiB: 4, vcpus: 2 }`; throws naming the class if unknown. */
export function instanceClassSpec(instanceClass: string): InstanceClassSpec {
  const m = /^(?:db\.)?([tmr])(\d+)([a-z]*)\.([0-9a-z]+)$/.exec(instanceClass);
  const size = m ? SIZES[m[1] as 't' | 'm' | 'r'][m[4]] : undefined;
  if (!m || !size) {
    throw new Error(`Unknown RDS instance class "${instanceClass}": add its memory and vCPUs to lib/constructs/alarms/instance-classes.ts (t, m and r families are known)`);
  }
  return { memoryGiB: size[0], vcpus: size[1] };
}

/**
 * PostgreSQL's default `max_connections` on RDS: LEAST(DBInstanceClassMemory / 9531392, 5000).
 * DBInstanceClassMemory is the class's memory less what the OS and RDS reserve, so the real value
 * is a little lower than this; an alarm at 80% of it therefore fires a little later than at exactly
 * 80% of the live setting, which the 0.8 margin absorbs.
 */
export function rdsMaxConnections(memoryGiB: number): number {
  return Math.min(Math.floor((memoryGiB * 1024 ** 3) / 9531392), 5000);
}
