#!/bin/bash
# Makes a minimal Debian root holding another release's OpenSSL (libssl and the openssl program),
# so that its programs run on this host with `chroot DIR openssl ...`: trixie's libssl3t64 (3.5.x)
# needs glibc 2.38, newer than Debian 12's, so it cannot run against the host's C library.
#   tools/mkroot-trixie.sh [DIR]                          default /var/tmp/alerttrace-trixie
#   AT_ROOT_SUITE=bullseye tools/mkroot-trixie.sh [DIR]   bullseye's (libssl1.1, 1.1.1w) instead,
#                                                         default /var/tmp/alerttrace-bullseye
#   AT_MIRROR=URL                                         another Debian mirror
# Idempotent: a DIR holding the marker DIR/.alerttrace-root is left as it is. The root is built in
# DIR.new and renamed when complete, so an interrupted run leaves nothing that looks finished, and
# a lock (DIR.lock) serialises concurrent runs. debootstrap mounts /proc and /sys inside the root
# while it installs: whatever it leaves mounted is unmounted before anything is removed.
# The host's apt configuration is not used or changed. Prints how long it took on stderr.
set -eu
SUITE=${AT_ROOT_SUITE:-trixie}
MIRROR=${AT_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
case $SUITE in
trixie) PKGS=libssl3t64,openssl ;;
bookworm) PKGS=libssl3,openssl ;;
bullseye) PKGS=libssl1.1,openssl ;;
*) echo "mkroot: unknown suite '$SUITE': use trixie, bookworm or bullseye" >&2; exit 2 ;;
esac
[ $# -le 1 ] || { echo "usage: $0 [DIR]" >&2; exit 2; }
# Absolute: mount points are compared with /proc/self/mountinfo's.
DIR=$(realpath -m "${1:-/var/tmp/alerttrace-$SUITE}")
MARK=.alerttrace-root

done_msg() { echo "mkroot: $SUITE root in $DIR: $(sed -n 's/^openssl=//p' "$DIR/$MARK")$1" >&2; }
if [ -f "$DIR/$MARK" ]; then
	done_msg " (already there)"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "mkroot: needs root (debootstrap, chroot): run with sudo" >&2
	exit 1
fi
command -v debootstrap >/dev/null ||
	{ echo "mkroot: debootstrap missing: apt-get install debootstrap (make deps)" >&2; exit 1; }
if [ ! -r "$KEYRING" ]; then
	echo "mkroot: $KEYRING missing: apt-get install debian-archive-keyring" >&2
	exit 1
fi

mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
flock 9
# Another run may have finished it while we waited for the lock.
if [ -f "$DIR/$MARK" ]; then
	done_msg " (made by a concurrent run)"
	exit 0
fi

# Never delete what this script did not make.
if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
	echo "mkroot: $DIR exists but is not a finished root (no $MARK): remove it or name" \
		"another" >&2
	exit 1
fi
NEW=$DIR.new
# Mount points at or under $1, deepest first (mountinfo field 5, octal escapes as the kernel
# writes them: a path with a space would show as \040 and not match, which a root never has).
mounts_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}
unmount_all() {
	local m
	for m in $(mounts_under "$1"); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null ||
			echo "mkroot: cannot unmount $m" >&2
	done
	[ -z "$(mounts_under "$1")" ]
}
# Remove a partial root only once nothing is mounted in it (a bind-mounted /dev or /proc would
# otherwise be emptied with it); --one-file-system as a second guard.
remove_new() {
	[ -e "$NEW" ] || return 0
	if unmount_all "$NEW"; then
		rm -rf --one-file-system "$NEW"
	else
		echo "mkroot: $NEW still has mounts: left in place, remove it by hand" >&2
	fi
}
# debootstrap runs in a session of its own, waited for in the background, so that a signal stops
# it at once (bash runs traps only between commands) and takes its children (dpkg, in the root)
# with it before anything is unmounted.
dpid=
stop_debootstrap() {
	[ -n "$dpid" ] || return 0
	kill -TERM -- "-$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null || true # set -e: its status is no reason to stop the cleanup
	dpid=
}
# shellcheck disable=SC2154 # rc is the trap's own
trap 'rc=$?; stop_debootstrap; remove_new; exit $rc' EXIT
trap 'exit 130' INT TERM

remove_new
mkdir -p "$NEW"
start=$(date +%s.%N)
# The log of the last run stays beside the root.
log=$DIR.log
setsid debootstrap --variant=minbase --include="$PKGS" --keyring="$KEYRING" \
	"$SUITE" "$NEW" "$MIRROR" >"$log" 2>&1 </dev/null &
dpid=$!
rc=0
wait "$dpid" || rc=$?
dpid=
if [ $rc -ne 0 ]; then
	echo "mkroot: debootstrap $SUITE failed (is $MIRROR reachable?); last lines:" >&2
	tail -5 "$log" | sed 's/^/mkroot:   /' >&2
	[ -r "$NEW/debootstrap/debootstrap.log" ] &&
		tail -5 "$NEW/debootstrap/debootstrap.log" | sed 's/^/mkroot:   /' >&2
	exit 1
fi
unmount_all "$NEW" || { echo "mkroot: mounts left under $NEW" >&2; exit 1; }
# The downloaded packages are not needed any more (about half the size of the root).
rm -f "$NEW"/var/cache/apt/archives/*.deb
ver=$(chroot "$NEW" openssl version 2>&1) || {
	echo "mkroot: the new root's openssl does not run: $ver" >&2
	exit 1
}
pkgver=$(chroot "$NEW" dpkg-query -W -f='${Package} ${Version}\n' "${PKGS%%,*}" 2>/dev/null || true)
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')
{
	echo "suite=$SUITE"
	echo "mirror=$MIRROR"
	echo "package=$pkgver"
	echo "openssl=$ver"
	echo "made=$(date -u +%FT%TZ) in ${secs}s, $(du -sm "$NEW" | cut -f1) MB"
} >"$NEW/$MARK"
rmdir "$DIR" 2>/dev/null || true
mv -T "$NEW" "$DIR"
trap - EXIT
done_msg ", made in ${secs}s ($(du -sm "$DIR" | cut -f1) MB)"
