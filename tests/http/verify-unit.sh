#!/bin/sh
# `systemd-analyze verify` on a copy of the unit whose ExecStart is the built binary (the
# installed path does not exist in a build tree). Any warning fails too: systemd only warns about
# an unknown or misspelled key and then ignores it, which would silently drop a hardening line.
# usage: verify-unit.sh UNIT_FILE BINARY WORK_DIR
set -eu
unit=$1 binary=$2 work=$3
# The lines docs/security.md relies on: who it runs as, what it may create and do.
for line in User=dmacycled Group=dmacycled UMask=0027 StateDirectoryMode=0750 \
    ProtectSystem=strict NoNewPrivileges=yes CapabilityBoundingSet= AmbientCapabilities= \
    DevicePolicy=closed; do
    grep -qx "$line" "$unit" || { echo "$unit: no line '$line'"; exit 1; }
done
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "SKIPPED: systemd-analyze is not installed (scripts/setup installs the systemd package)"
    exit 77
fi
mkdir -p "$work"
copy="$work/$(basename "$unit")"
sed "s|^ExecStart=/usr/bin/dmacycled |ExecStart=$binary |" "$unit" >"$copy"
grep -q "^ExecStart=$binary " "$copy" || { echo "no ExecStart=/usr/bin/dmacycled line in $unit"; exit 1; }
status=0
messages=$(systemd-analyze verify "$copy" 2>&1) || status=$?
if [ -n "$messages" ] || [ "$status" -ne 0 ]; then
    echo "systemd-analyze verify $copy (exit $status):"
    echo "$messages"
    exit 1
fi
echo "systemd-analyze verify: $unit passes"
