#!/bin/sh
# The sysusers and tmpfiles entries applied to an empty root folder: the user, its group and its
# dialout membership exist, and the spool folders are made with the service's owner and modes.
# usage: verify-sysusers-tmpfiles.sh SYSUSERS_FILE TMPFILES_FILE WORK_DIR
set -eu
sysusers=$1 tmpfiles=$2 work=$3
if ! command -v systemd-sysusers >/dev/null 2>&1 || ! command -v systemd-tmpfiles >/dev/null 2>&1; then
    echo "SKIPPED: systemd-sysusers/systemd-tmpfiles are not installed (scripts/setup installs systemd)"
    exit 77
fi
root="$work/root"
rm -rf "$root"
mkdir -p "$root/etc" "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d"
cp "$sysusers" "$root/usr/lib/sysusers.d/dmacycled.conf"
cp "$tmpfiles" "$root/usr/lib/tmpfiles.d/dmacycled.conf"
systemd-sysusers --root="$root" dmacycled.conf
systemd-tmpfiles --create --root="$root" dmacycled.conf
uid=$(awk -F: '$1 == "dmacycled" { print $3 }' "$root/etc/passwd")
[ -n "$uid" ] || { echo "no user dmacycled in $root/etc/passwd"; exit 1; }
# The serial adapters' group, with the service user as a member (the unit relies on it).
grep -Eq '^dialout:[^:]*:[0-9]+:(.*,)?dmacycled(,|$)' "$root/etc/group" ||
    { echo "dmacycled is not a member of dialout in $root/etc/group"; exit 1; }
check() {  # PATH MODE
    actual=$(stat -c '%a %u' "$root$1")
    [ "$actual" = "$2 $uid" ] || { echo "$1: mode and owner '$actual', expected '$2 $uid'"; exit 1; }
}
check /var/lib/dmacycled 750
check /var/lib/dmacycled/spool 3770
check /var/lib/dmacycled/spool/accepted 750
check /var/lib/dmacycled/spool/rejected 750
echo "sysusers and tmpfiles entries apply"
