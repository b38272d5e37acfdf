/**
 * Names shared by the Data stack (which owns the worker volumes) and the Workers stack (whose
 * instances attach them and whose DLM policy snapshots them). They are plain strings derived from
 * the environment name and the worker's slot, so neither stack needs a CloudFormation export from
 * the other to find a volume: replacing a volume never runs into an export that is still in use.
 */

/** Tag key the DLM policy targets; its value is {@link snapshotPolicyTagValue}. */
export const SNAPSHOT_POLICY_TAG = 'platform:snapshot-policy';
/** Tag key naming the worker slot a volume belongs to; instances carry it too (IAM conditions). */
export const WORKER_SLOT_TAG = 'platform:worker-slot';

/** Value of {@link SNAPSHOT_POLICY_TAG} on every worker data volume of an environment. */
export function snapshotPolicyTagValue(envName: string): string {
  return `${envName}-worker-data`;
}

/** A worker slot's name, e.g. `prod-worker-1`: the volume's and the instance's identity. */
export function workerSlotName(envName: string, index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new Error(`worker index must be a non-negative integer, got ${index}`);
  return `${envName}-worker-${index}`;
}

/** SSM parameter holding the ID of a slot's current data volume; the boot script reads it. */
export function volumeIdParameterName(envName: string, index: number): string {
  workerSlotName(envName, index);
  return `/platform/${envName}/workers/${index}/data-volume-id`;
}

/** Where the data volume is mounted (seed 002: the SQLite write-ahead buffer lives in /data). */
export const DATA_MOUNTPOINT = '/data';
