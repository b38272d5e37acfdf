/**
 * The CloudWatch agent configuration of a worker host: memory used percent and disk used percent
 * for `/` and `/data`, once a minute, in the `CWAgent` namespace.
 *
 * Dimensions: every metric carries `InstanceId`; the disk metrics are also rolled up to exactly
 * `{InstanceId, path}` (aggregation_dimensions), so an alarm can name the path without knowing the
 * device name (nvme1n1 on one instance type, something else on another) or the filesystem type.
 */
import { DATA_MOUNTPOINT } from './naming';

export const CW_AGENT_NAMESPACE = 'CWAgent';
export const MEMORY_METRIC = 'mem_used_percent';
export const DISK_METRIC = 'disk_used_percent';

export interface CloudWatchAgentConfigOptions {
  /** Paths whose disk use is published. @default ['/', '/data'] */
  readonly diskPaths?: readonly string[];
  /** Collection interval in seconds. @default 60 */
  readonly intervalSeconds?: number;
}

export function cloudWatchAgentConfig(options: CloudWatchAgentConfigOptions = {}): Record<string, unknown> {
  const diskPaths = options.diskPaths ?? ['/', DATA_MOUNTPOINT];
  const interval = options.intervalSeconds ?? 60;
  return {
    agent: { metrics_collection_interval: interval, run_as_user: 'cwagent' },
    metrics: {
      namespace: CW_AGENT_NAMESPACE,
      append_dimensions: { InstanceId: '${aws:InstanceId}' },
      aggregation_dimensions: [['InstanceId'], ['InstanceId', 'path']],
      metrics_collected: {
        mem: { measurement: [MEMORY_METRIC], metrics_collection_interval: interval },
        disk: {
          measurement: ['used_percent'],
          resources: [...diskPaths],
          drop_device: true,
          metrics_collection_interval: interval,
        },
      },
    },
  };
}
