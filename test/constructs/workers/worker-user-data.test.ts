import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { cloudWatchAgentConfig } from '../../../lib/constructs/workers/cloudwatch-agent-config';
import { MOUNT_SCRIPT_PATH, workerUserData } from '../../../lib/constructs/workers/worker-user-data';

const rendered = workerUserData({ volumeIdParameterName: '/platform/dev/workers/0/data-volume-id', region: 'ap-northeast-2' }).render();
const hasShellcheck = spawnSync('sh', ['-c', 'command -v shellcheck']).status === 0;

describe('workerUserData', () => {
  test('is valid bash', () => {
    const r = spawnSync('bash', ['-n'], { input: rendered, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  (hasShellcheck || process.env.CI ? test : test.skip)('passes shellcheck as a whole', () => {
    if (!hasShellcheck) throw new Error('shellcheck is required in CI (.ci/run installs it with apt-get)');
    const r = spawnSync('shellcheck', ['-s', 'bash', '-'], { input: rendered, encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  test('writes the checked script byte for byte (quoted heredoc, nothing expanded)', () => {
    const script = fs.readFileSync(MOUNT_SCRIPT_PATH, 'utf8');
    const start = rendered.indexOf("<<'PLATFORM_MOUNT_SCRIPT'\n") + "<<'PLATFORM_MOUNT_SCRIPT'\n".length;
    const end = rendered.indexOf('\nPLATFORM_MOUNT_SCRIPT\n', start);
    expect(rendered.slice(start, end) + '\n').toBe(script);
  });

  test('configures the unit to run at every boot and to retry, and passes the slot parameter', () => {
    expect(rendered).toContain('VOLUME_ID_PARAMETER=/platform/dev/workers/0/data-volume-id');
    expect(rendered).toContain('AWS_DEFAULT_REGION=ap-northeast-2');
    expect(rendered).toMatch(/WantedBy=multi-user.target/);
    expect(rendered).toMatch(/Restart=on-failure/);
    expect(rendered).toContain('systemctl enable platform-data-volume.service');
  });

  test('stays under the 16 KiB user-data limit with room to spare', () => {
    expect(Buffer.byteLength(rendered)).toBeLessThan(14 * 1024);
  });
});

describe('cloudWatchAgentConfig', () => {
  test('memory and disk used percent for / and /data, rolled up to InstanceId and path', () => {
    const c = cloudWatchAgentConfig() as any;
    expect(c.metrics.namespace).toBe('CWAgent');
    expect(c.metrics.metrics_collected.mem.measurement).toEqual(['mem_used_percent']);
    expect(c.metrics.metrics_collected.disk).toMatchObject({ measurement: ['used_percent'], resources: ['/', '/data'] });
    expect(c.metrics.append_dimensions).toEqual({ InstanceId: '${aws:InstanceId}' });
    expect(c.metrics.aggregation_dimensions).toContainEqual(['InstanceId', 'path']);
  });
});
