import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { cloudWatchAgentConfig } from './cloudwatch-agent-config';
import { DATA_MOUNTPOINT } from './naming';

/** The boot script, read at synth from the file that shellcheck and the tests check. */
export const MOUNT_SCRIPT_PATH = path.join(__dirname, 'mount-data-volume.sh');
/** Where the user data installs it on the host. */
export const MOUNT_SCRIPT_INSTALL_PATH = '/usr/local/sbin/platform-mount-data-volume';
/** The systemd unit that runs it at every boot; the worker application should order after it. */
export const DATA_VOLUME_UNIT = 'platform-data-volume.service';

/** EC2 refuses user data over 16 KiB (before base64). */
const USER_DATA_LIMIT_BYTES = 16 * 1024;

export interface WorkerUserDataOptions {
  /** SSM parameter holding the slot's volume ID. */
  readonly volumeIdParameterName: string;
  /** Region for the AWS CLI calls (a token is fine). */
  readonly region: string;
  /** Filesystem a blank volume is formatted with. @default xfs */
  readonly fsType?: 'xfs' | 'ext4';
}

/** Writes `content` to `file` with a quoted heredoc: nothing in it is expanded by the shell. */
function heredoc(file: string, content: string, marker: string): string[] {
  if (content.split('\n').includes(marker)) throw new Error(`heredoc marker ${marker} occurs in the content for ${file}`);
  return [`cat > ${file} <<'${marker}'`, content.replace(/\n$/, ''), marker];
}

/**
 * User data of a worker host:
 *  1. installs the data-volume script and a systemd unit that runs it at every boot (attach the
 *     slot's volume, format it only if blank, mount by UUID at /data with nofail). The unit retries
 *     on failure, e.g. while the instance being replaced still holds the volume;
 *  2. installs and starts the CloudWatch agent with the memory and disk configuration.
 */
export function workerUserData(options: WorkerUserDataOptions): ec2.UserData {
  const script = fs.readFileSync(MOUNT_SCRIPT_PATH, 'utf8');
  const env = [
    `VOLUME_ID_PARAMETER=${options.volumeIdParameterName}`,
    `AWS_DEFAULT_REGION=${options.region}`,
    `FS_TYPE=${options.fsType ?? 'xfs'}`,
    `MOUNTPOINT=${DATA_MOUNTPOINT}`,
  ].join('\n');
  const unit = [
    '[Unit]',
    `Description=Attach this worker's EBS data volume and mount it at ${DATA_MOUNTPOINT}`,
    'Wants=network-online.target',
    'After=network-online.target',
    // Retries are paced by RestartSec; never give up on the volume.
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    'EnvironmentFile=/etc/platform/data-volume.env',
    `ExecStart=${MOUNT_SCRIPT_INSTALL_PATH}`,
    'Restart=on-failure',
    'RestartSec=30',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  ].join('\n');
  const agentConfigPath = '/opt/aws/amazon-cloudwatch-agent/etc/platform-agent.json';

  const userData = ec2.UserData.forLinux();
  userData.addCommands(
    'set -euo pipefail',
    'install -d -m 0755 /etc/platform',
    ...heredoc(MOUNT_SCRIPT_INSTALL_PATH, script, 'PLATFORM_MOUNT_SCRIPT'),
    `chmod 0755 ${MOUNT_SCRIPT_INSTALL_PATH}`,
    ...heredoc('/etc/platform/data-volume.env', env, 'PLATFORM_ENV'),
    ...heredoc(`/etc/systemd/system/${DATA_VOLUME_UNIT}`, unit, 'PLATFORM_UNIT'),
    'systemctl daemon-reload',
    `systemctl enable ${DATA_VOLUME_UNIT}`,
    // --no-block: the unit may wait for the replaced instance to release the volume.
    `systemctl start --no-block ${DATA_VOLUME_UNIT}`,
    'dnf install -y --setopt=retries=10 amazon-cloudwatch-agent',
    ...heredoc(agentConfigPath, JSON.stringify(cloudWatchAgentConfig(), null, 2), 'PLATFORM_AGENT'),
    `/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${agentConfigPath}`,
  );
  const rendered = userData.render();
  if (Buffer.byteLength(rendered, 'utf8') > USER_DATA_LIMIT_BYTES) {
    throw new Error(`worker user data is ${Buffer.byteLength(rendered, 'utf8')} bytes; EC2 allows ${USER_DATA_LIMIT_BYTES}`);
  }
  return userData;
}
