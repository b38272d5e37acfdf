#!/usr/bin/env bash
# Attach this worker's standalone EBS data volume and mount it at /data.
#
# Runs at every boot from the `platform-data-volume.service` systemd unit that the worker's user
# data installs (lib/constructs/workers/worker-user-data.ts). It is idempotent: on a re-run, after a
# reboot or on a replacement instance it finds the existing filesystem and mounts it; it formats a
# device only when the device is blank (no signature at all AND its first MiB is zeros), and it
# never reformats.
#
# Steps (main):
#   1. resolve the volume ID (VOLUME_ID, or the SSM parameter named by VOLUME_ID_PARAMETER, which
#      the Data stack keeps pointing at the slot's current volume);
#   2. attach it to this instance unless it is already attached here. While it is still attached to
#      another instance (the one CloudFormation is replacing, terminated in its cleanup phase) wait,
#      bounded by ATTACH_TIMEOUT_SECONDS; systemd restarts the unit if that runs out;
#   3. wait, bounded, for the NVMe device whose serial is the volume ID without its dash
#      (/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123...);
#   4. decide_action: format | mount | refuse;
#   5. mount by UUID with `nofail` through /etc/fstab, so reboots remount it and a missing volume
#      does not hang the boot.
#
# Test seam: `source` this file (main runs only when executed) and call its functions. Every path
# and command it touches can be overridden from the environment (FSTAB, MOUNTPOINT, DEV_BY_ID_DIR,
# AWS, ...), so the decision logic runs against plain image files without root or AWS.
set -euo pipefail

MOUNTPOINT="${MOUNTPOINT:-/data}"
FSTAB="${FSTAB:-/etc/fstab}"
FS_TYPE="${FS_TYPE:-xfs}"
FS_LABEL="${FS_LABEL:-data}"
DEV_BY_ID_DIR="${DEV_BY_ID_DIR:-/dev/disk/by-id}"
# The name EC2 is asked to use; on Nitro the kernel names the device nvmeXn1 whatever this says.
ATTACH_DEVICE_NAME="${ATTACH_DEVICE_NAME:-/dev/sdf}"
ATTACH_TIMEOUT_SECONDS="${ATTACH_TIMEOUT_SECONDS:-1800}"
DEVICE_TIMEOUT_SECONDS="${DEVICE_TIMEOUT_SECONDS:-300}"
POLL_SECONDS="${POLL_SECONDS:-5}"
AWS="${AWS:-aws}"
IMDS="${IMDS:-http://169.254.169.254}"

log() { printf '%s mount-data-volume: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The stable path of an EBS volume's NVMe device: the controller serial is the volume ID without
# the dash, and udev links it under /dev/disk/by-id.
device_path_for_volume() {
  local volume_id="$1"
  [[ "$volume_id" =~ ^vol-[0-9a-f]+$ ]] || die "not a volume ID: '$volume_id'"
  printf '%s/nvme-Amazon_Elastic_Block_Store_%s\n' "$DEV_BY_ID_DIR" "${volume_id//-/}"
}

# Print the device's filesystem type, or nothing when blkid finds no signature of any kind.
# Exit status: 0 found or blank, 1 when blkid itself failed (unreadable device): never guess then.
probe_type() {
  local device="$1" out rc=0
  out="$(blkid -p -o export "$device" 2>/dev/null)" || rc=$?
  case "$rc" in
    0) ;;
    2) return 0 ;; # no signature at all
    *) return 1 ;;
  esac
  # A partition table or any other non-filesystem signature: report it as "other:<what>".
  local type pttype usage
  type="$(sed -n 's/^TYPE=//p' <<<"$out")"
  pttype="$(sed -n 's/^PTTYPE=//p' <<<"$out")"
  usage="$(sed -n 's/^USAGE=//p' <<<"$out")"
  if [[ -n "$pttype" ]]; then printf 'other:partition-table-%s\n' "$pttype"; return 0; fi
  if [[ "$usage" == filesystem && -n "$type" ]]; then printf '%s\n' "$type"; return 0; fi
  printf 'other:%s\n' "${type:-${usage:-unknown}}"
}

# True when the first MiB of the device is all zeros: a new EBS volume reads as zeros. A device
# with no recognisable signature but data near its start (a damaged superblock, say) is not blank.
first_mib_is_zero() {
  local device="$1" nonzero
  nonzero="$(head -c 1048576 "$device" | tr -d '\000' | wc -c)"
  [[ "$nonzero" -eq 0 ]]
}

# The decision, on the device's content alone. Prints exactly one word:
#   format  the device is blank: no signature and its first MiB is zeros;
#   mount   it holds a filesystem this script mounts (xfs or ext4): keep it, never reformat;
#   refuse  anything else (another signature, unreadable, non-zero but unrecognised): touch nothing.
# A reason for "refuse" goes to stderr.
decide_action() {
  local device="$1" type
  if [[ ! -r "$device" ]]; then log "refuse: $device is not readable"; echo refuse; return 0; fi
  if ! type="$(probe_type "$device")"; then log "refuse: blkid could not probe $device"; echo refuse; return 0; fi
  case "$type" in
    "")
      if first_mib_is_zero "$device"; then echo format
      else log "refuse: $device has no signature but its first MiB is not zeros"; echo refuse; fi ;;
    xfs | ext4) echo mount ;;
    *) log "refuse: $device holds '$type', not an xfs or ext4 filesystem"; echo refuse ;;
  esac
}

# The fstab line for the data filesystem: by UUID (device names are not stable across instances),
# `nofail` so a missing volume never drops the boot into emergency mode.
fstab_line() {
  local uuid="$1" fstype="$2"
  printf 'UUID=%s %s %s defaults,noatime,nofail,x-systemd.device-timeout=30s 0 2\n' "$uuid" "$MOUNTPOINT" "$fstype"
}

# Make FSTAB hold exactly one line for MOUNTPOINT, the one for this UUID. Rewrites atomically and
# only when something changes; prints "unchanged" or "updated".
ensure_fstab_entry() {
  local uuid="$1" fstype="$2" wanted tmp
  wanted="$(fstab_line "$uuid" "$fstype")"
  touch "$FSTAB"
  if grep -qxF -- "$wanted" "$FSTAB" && [[ "$(awk -v m="$MOUNTPOINT" '$1 !~ /^#/ && $2 == m' "$FSTAB" | wc -l)" -eq 1 ]]; then
    echo unchanged
    return 0
  fi
  tmp="$(mktemp "${FSTAB}.XXXXXX")"
  awk -v m="$MOUNTPOINT" '$1 ~ /^#/ || $2 != m' "$FSTAB" >"$tmp"
  printf '%s\n' "$wanted" >>"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$FSTAB"
  echo updated
}

# Decide, format only when blank, and print "<uuid> <fstype>" of the filesystem to mount.
# Exits non-zero (printing nothing) when the decision is "refuse".
prepare_filesystem() {
  local device="$1" action uuid fstype
  action="$(decide_action "$device")"
  log "decision for $device: $action"
  case "$action" in
    format)
      log "formatting blank $device as $FS_TYPE"
      "mkfs.$FS_TYPE" -q -L "$FS_LABEL" "$device" </dev/null >&2
      udevadm settle 2>/dev/null || true ;;
    mount) ;;
    *) die "refusing to touch $device; inspect it by hand (docs/workers.md)" ;;
  esac
  uuid="$(blkid -p -o value -s UUID "$device")"
  fstype="$(blkid -p -o value -s TYPE "$device")"
  [[ -n "$uuid" && -n "$fstype" ]] || die "no UUID/TYPE on $device after '$action'"
  printf '%s %s\n' "$uuid" "$fstype"
}

imds_token() {
  curl -fsS -X PUT "$IMDS/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 300'
}

imds_get() {
  local token="$1" path="$2"
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "$IMDS/latest/$path"
}

resolve_volume_id() {
  if [[ -n "${VOLUME_ID:-}" ]]; then printf '%s\n' "$VOLUME_ID"; return 0; fi
  [[ -n "${VOLUME_ID_PARAMETER:-}" ]] || die "set VOLUME_ID or VOLUME_ID_PARAMETER"
  "$AWS" ssm get-parameter --name "$VOLUME_ID_PARAMETER" --query Parameter.Value --output text
}

# Attach the volume to this instance; wait (bounded) while another instance still holds it.
attach_volume() {
  local volume_id="$1" instance_id="$2" deadline out state attached_to
  deadline=$((SECONDS + ATTACH_TIMEOUT_SECONDS))
  while :; do
    out="$("$AWS" ec2 describe-volumes --volume-ids "$volume_id" \
      --query 'Volumes[0].[State, Attachments[0].InstanceId]' --output text)" || out="unreachable"
    read -r state attached_to <<<"$out"
    case "$state" in
      in-use)
        if [[ "$attached_to" == "$instance_id" ]]; then log "$volume_id is attached to this instance"; return 0; fi
        log "$volume_id is still attached to $attached_to; waiting for it to be released" ;;
      available)
        log "attaching $volume_id to $instance_id as $ATTACH_DEVICE_NAME"
        "$AWS" ec2 attach-volume --volume-id "$volume_id" --instance-id "$instance_id" --device "$ATTACH_DEVICE_NAME" >/dev/null \
          || log "attach-volume failed; retrying" ;;
      creating | attaching | detaching | unreachable) log "$volume_id is $state; waiting" ;;
      *) die "$volume_id is in state '$state'; it cannot be attached (deleted or in error: see docs/workers.md)" ;;
    esac
    ((SECONDS < deadline)) || die "$volume_id was not attached here within ${ATTACH_TIMEOUT_SECONDS}s"
    sleep "$POLL_SECONDS"
  done
}

wait_for_device() {
  local device="$1" deadline
  deadline=$((SECONDS + DEVICE_TIMEOUT_SECONDS))
  until [[ -b "$device" || -f "$device" ]]; do
    ((SECONDS < deadline)) || die "$device did not appear within ${DEVICE_TIMEOUT_SECONDS}s"
    sleep "$POLL_SECONDS"
  done
  readlink -f "$device"
}

is_mounted_here() {
  findmnt -rn --mountpoint "$MOUNTPOINT" >/dev/null 2>&1
}

main() {
  local volume_id token instance_id link device filesystem uuid fstype
  volume_id="$(resolve_volume_id)"
  token="$(imds_token)" || die "IMDSv2 token request failed"
  instance_id="$(imds_get "$token" meta-data/instance-id)"
  log "volume $volume_id, instance $instance_id, mountpoint $MOUNTPOINT"

  attach_volume "$volume_id" "$instance_id"
  link="$(device_path_for_volume "$volume_id")"
  device="$(wait_for_device "$link")"

  filesystem="$(prepare_filesystem "$device")"
  read -r uuid fstype <<<"$filesystem"
  log "fstab: $(ensure_fstab_entry "$uuid" "$fstype")"

  mkdir -p "$MOUNTPOINT"
  if is_mounted_here; then
    log "$MOUNTPOINT is already mounted"
  else
    # An immutable empty mountpoint: nothing can write to the root disk at /data by mistake while
    # the volume is not mounted. Mounting over it is unaffected.
    chattr +i "$MOUNTPOINT" 2>/dev/null || true
    systemctl daemon-reload || true
    mount "$MOUNTPOINT"
  fi
  findmnt -rn -S "UUID=$uuid" --mountpoint "$MOUNTPOINT" >/dev/null || die "$MOUNTPOINT is not the volume's filesystem"
  log "mounted $volume_id ($uuid, $fstype) at $MOUNTPOINT"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
