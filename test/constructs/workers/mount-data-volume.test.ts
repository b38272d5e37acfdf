/**
 * The worker user-data script, exercised through its function seam on plain image files: no root,
 * no loop devices, no AWS (the `aws` CLI is replaced by a stub that plays back volume states).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SCRIPT = path.resolve(__dirname, '../../../lib/constructs/workers/mount-data-volume.sh');
const MIB = 1024 * 1024;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mount-data-volume-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Source the script and run `fn args...`; returns stdout, stderr and the exit status. */
function call(fn: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync('bash', ['-c', `s="$1"; shift; source "$s"; ${fn} "$@"`, 'bash', SCRIPT, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { stdout: r.stdout.trim(), stderr: r.stderr, status: r.status };
}

function blankImage(name: string, sizeMiB = 16): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, '');
  fs.truncateSync(file, sizeMiB * MIB);
  return file;
}

function ext4Image(name: string): string {
  const file = blankImage(name);
  execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'data', file], { stdio: 'ignore' });
  return file;
}

const hasShellcheck = onPath('shellcheck');
const shellcheckTest = hasShellcheck || process.env.CI ? test : test.skip;
if (!hasShellcheck && !process.env.CI) {
  // eslint-disable-next-line no-console
  console.warn('shellcheck is not installed: skipping the lint test (CI installs it from Debian and fails without it)');
}

describe('mount-data-volume.sh', () => {
  shellcheckTest('passes shellcheck', () => {
    if (!hasShellcheck) throw new Error('shellcheck is required in CI (.ci/run installs it with apt-get)');
    const r = spawnSync('shellcheck', ['--severity=style', SCRIPT], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test('is executable and does nothing when sourced', () => {
    expect(fs.statSync(SCRIPT).mode & 0o111).not.toBe(0);
    const r = call('true', []);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
  });

  describe('decide_action', () => {
    test('a blank (all-zero) device is formatted', () => {
      expect(call('decide_action', [blankImage('blank.img')]).stdout).toBe('format');
    });

    test('an ext4 filesystem is mounted, never reformatted', () => {
      expect(call('decide_action', [ext4Image('ext4.img')]).stdout).toBe('mount');
    });

    test('a device with data but no signature is refused', () => {
      const file = blankImage('noise.img');
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 64 * 1024);
      fs.closeSync(fd);
      const r = call('decide_action', [file]);
      expect(r.stdout).toBe('refuse');
      expect(r.stderr).toMatch(/first MiB is not zeros/);
    });

    test('a non-filesystem signature (swap) is refused', () => {
      const file = blankImage('swap.img');
      execFileSync('mkswap', [file], { stdio: 'ignore' });
      const r = call('decide_action', [file]);
      expect(r.stdout).toBe('refuse');
      expect(r.stderr).toMatch(/swap/);
    });

    test('a missing device is refused', () => {
      expect(call('decide_action', [path.join(dir, 'absent.img')]).stdout).toBe('refuse');
    });
  });

  describe('prepare_filesystem', () => {
    test('formats a blank device once, then finds the same filesystem on every re-run', () => {
      const file = blankImage('prepare.img');
      const env = { FS_TYPE: 'ext4' };
      const first = call('prepare_filesystem', [file], env);
      expect(first.status).toBe(0);
      expect(first.stderr).toMatch(/formatting blank/);
      const [uuid, type] = first.stdout.split(' ');
      expect(type).toBe('ext4');
      expect(uuid).toMatch(/^[0-9a-f-]{36}$/);

      // Data written after the first run survives the second: nothing is reformatted.
      execFileSync('debugfs', ['-w', '-R', `write ${SCRIPT} marker`, file], { stdio: 'ignore' });
      const second = call('prepare_filesystem', [file], env);
      expect(second.status).toBe(0);
      expect(second.stderr).not.toMatch(/formatting/);
      expect(second.stdout).toBe(`${uuid} ext4`);
      const listing = execFileSync('debugfs', ['-R', 'ls -l /', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(listing).toMatch(/marker/);
    });

    test('an existing filesystem of another type than FS_TYPE is kept as it is', () => {
      const file = ext4Image('keep.img');
      const before = execFileSync('blkid', ['-p', '-o', 'value', '-s', 'UUID', file], { encoding: 'utf8' }).trim();
      const r = call('prepare_filesystem', [file], { FS_TYPE: 'xfs' });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${before} ext4`);
    });

    test('a refused device fails and prints nothing to mount', () => {
      const file = blankImage('refused.img');
      execFileSync('mkswap', [file], { stdio: 'ignore' });
      const r = call('prepare_filesystem', [file], { FS_TYPE: 'ext4' });
      expect(r.status).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/refusing to touch/);
    });
  });

  describe('ensure_fstab_entry', () => {
    test('adds one UUID line with nofail, replaces a stale /data line and keeps the others', () => {
      const fstab = path.join(dir, 'fstab');
      fs.writeFileSync(fstab, ['# root', 'UUID=root-uuid / xfs defaults 0 1', 'UUID=stale /data xfs defaults 0 2', ''].join('\n'));
      const env = { FSTAB: fstab, MOUNTPOINT: '/data' };
      expect(call('ensure_fstab_entry', ['1234-abcd', 'xfs'], env).stdout).toBe('updated');
      expect(call('ensure_fstab_entry', ['1234-abcd', 'xfs'], env).stdout).toBe('unchanged');
      const lines = fs.readFileSync(fstab, 'utf8').trim().split('\n');
      expect(lines).toContain('UUID=root-uuid / xfs defaults 0 1');
      expect(lines).toContain('# root');
      const data = lines.filter((l) => l.split(/\s+/)[1] === '/data');
      expect(data).toHaveLength(1);
      expect(data[0]).toMatch(/^UUID=1234-abcd \/data xfs \S*\bnofail\b/);
    });

    test('honours MOUNTPOINT and creates a missing fstab', () => {
      const fstab = path.join(dir, 'fstab-new');
      expect(call('ensure_fstab_entry', ['u-1', 'ext4'], { FSTAB: fstab, MOUNTPOINT: '/srv/wal' }).stdout).toBe('updated');
      expect(fs.readFileSync(fstab, 'utf8')).toMatch(/^UUID=u-1 \/srv\/wal ext4 /);
    });
  });

  test('device_path_for_volume: the NVMe by-id link carries the volume ID without its dash', () => {
    expect(call('device_path_for_volume', ['vol-0abc123'], { DEV_BY_ID_DIR: '/dev/disk/by-id' }).stdout).toBe(
      '/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc123',
    );
    expect(call('device_path_for_volume', ['/dev/sda']).status).not.toBe(0);
  });

  test('wait_for_device gives up after its bound', () => {
    const r = call('wait_for_device', [path.join(dir, 'never')], { DEVICE_TIMEOUT_SECONDS: '0', POLL_SECONDS: '0' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/did not appear within 0s/);
  });

  describe('attach_volume (aws CLI stubbed)', () => {
    /** A fake `aws` that answers describe-volumes from a list of states and records attach calls. */
    function stubAws(states: string[]): { env: Record<string, string>; calls: () => string[] } {
      const stubDir = fs.mkdtempSync(path.join(dir, 'aws-'));
      fs.writeFileSync(path.join(stubDir, 'states'), states.join('\n') + '\n');
      const stub = path.join(stubDir, 'aws');
      fs.writeFileSync(
        stub,
        `#!/usr/bin/env bash
set -eu
d="$(dirname "$0")"
echo "$*" >> "$d/calls"
case "$2" in
  describe-volumes)
    n=$(( $(cat "$d/n" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$d/n"
    line="$(sed -n "\${n}p" "$d/states")"; [ -n "$line" ] || line="$(tail -n 1 "$d/states")"
    printf '%s\\n' "$line" ;;
  attach-volume) ;;
esac
`,
        { mode: 0o755 },
      );
      return {
        env: { AWS: stub, POLL_SECONDS: '0', ATTACH_TIMEOUT_SECONDS: '30' },
        calls: () => fs.readFileSync(path.join(stubDir, 'calls'), 'utf8').trim().split('\n'),
      };
    }

    test('waits while the replaced instance still holds the volume, then attaches it once', () => {
      const aws = stubAws(['in-use\ti-old', 'in-use\ti-old', 'available\tNone', 'attaching\ti-new', 'in-use\ti-new']);
      const r = call('attach_volume', ['vol-0abc', 'i-new'], aws.env);
      expect(r.status).toBe(0);
      const attaches = aws.calls().filter((c) => c.startsWith('ec2 attach-volume'));
      expect(attaches).toEqual(['ec2 attach-volume --volume-id vol-0abc --instance-id i-new --device /dev/sdf']);
      expect(r.stderr).toMatch(/still attached to i-old/);
    });

    test('does nothing when the volume is already attached here (re-run, reboot)', () => {
      const aws = stubAws(['in-use\ti-self']);
      expect(call('attach_volume', ['vol-0abc', 'i-self'], aws.env).status).toBe(0);
      expect(aws.calls().filter((c) => c.includes('attach-volume'))).toHaveLength(0);
    });

    test('gives up after ATTACH_TIMEOUT_SECONDS while another instance holds it', () => {
      const aws = stubAws(['in-use\ti-other']);
      const r = call('attach_volume', ['vol-0abc', 'i-self'], { ...aws.env, ATTACH_TIMEOUT_SECONDS: '0' });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/not attached here within 0s/);
    });

    test('stops at once on a deleted or failed volume', () => {
      const aws = stubAws(['error\tNone']);
      const r = call('attach_volume', ['vol-0abc', 'i-self'], aws.env);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/state 'error'/);
    });
  });
});
