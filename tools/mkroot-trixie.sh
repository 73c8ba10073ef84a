#!/bin/bash
# Makes a minimal Debian root holding another release's OpenSSL (libssl and the openssl program),
# so that its programs run on this host with `chroot DIR openssl ...`: trixie's libssl3t64 (3.5.x)
# needs glibc 2.38, newer than Debian 12's, so it cannot run against the host's C library. The
# trixie root also holds GnuTLS 3.8.x (libgnutls30t64, and gnutls-bin: gnutls-cli, gnutls-serv).
#   tools/mkroot-trixie.sh [DIR]                          default /var/tmp/alerttrace-trixie
#   AT_ROOT_SUITE=bullseye tools/mkroot-trixie.sh [DIR]   bullseye's (libssl1.1, 1.1.1w) instead,
#                                                         default /var/tmp/alerttrace-bullseye
#   AT_MIRROR=URL                                         another Debian mirror
# Idempotent: a DIR whose marker DIR/.alerttrace-root lists the suite's packages is left as it is.
# A finished root made for fewer packages (a trixie root from before GnuTLS was added) is
# completed in place: apt-get in the root installs what is missing (nothing is removed, so a run
# using the root meanwhile is not disturbed), then the marker is rewritten. A new root is built in
# DIR.new and renamed when complete, so an interrupted run leaves nothing that looks finished, and
# a lock (DIR.lock) serialises concurrent runs. debootstrap mounts /proc and /sys inside the root
# while it installs: whatever it leaves mounted is unmounted before anything is removed.
# The host's apt configuration is not used or changed. Prints how long it took on stderr.
set -eu
SUITE=${AT_ROOT_SUITE:-trixie}
MIRROR=${AT_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
case $SUITE in
trixie) PKGS=libssl3t64,openssl,libgnutls30t64,gnutls-bin ;;
bookworm) PKGS=libssl3,openssl ;;
bullseye) PKGS=libssl1.1,openssl ;;
*) echo "mkroot: unknown suite '$SUITE': use trixie, bookworm or bullseye" >&2; exit 2 ;;
esac
[ $# -le 1 ] || { echo "usage: $0 [DIR]" >&2; exit 2; }
# Absolute: mount points are compared with /proc/self/mountinfo's.
DIR=$(realpath -m "${1:-/var/tmp/alerttrace-$SUITE}")
MARK=.alerttrace-root

done_msg() {
	echo "mkroot: $SUITE root in $DIR: $(sed -n 's/^openssl=//p' "$DIR/$MARK")$(
		sed -n 's/^gnutls=/, /p' "$DIR/$MARK")$1" >&2
}
# complete: the marker says the root holds every package of PKGS
complete() { [ -f "$DIR/$MARK" ] && grep -qxF "packages=$PKGS" "$DIR/$MARK"; }
if complete; then
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
if complete; then
	done_msg " (made by a concurrent run)"
	exit 0
fi

# write_mark ROOT START [COMPLETED]: the marker, written beside and renamed (a reader sees the old
# one or the new one). With COMPLETED (the packages added to a finished root) its made= line stays
# and a completed= line says what was added.
write_mark() {
	local r=$1 ver gver="" pkgver secs made
	ver=$(chroot "$r" openssl version 2>&1) || {
		echo "mkroot: the root's openssl does not run: $ver" >&2
		return 1
	}
	if [[ ",$PKGS," == *,gnutls-bin,* ]]; then
		gver=$(chroot "$r" gnutls-cli --version 2>&1 | head -1) || {
			echo "mkroot: the root's gnutls-cli does not run: $gver" >&2
			return 1
		}
	fi
	# shellcheck disable=SC2046 # one word per package
	pkgver=$(chroot "$r" dpkg-query -W -f='${Package} ${Version}\n' $(tr , ' ' <<<"$PKGS") \
		2>/dev/null | paste -sd, -)
	secs=$(awk -v s="$2" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')
	made="made=$(date -u +%FT%TZ) in ${secs}s, $(du -sm "$r" | cut -f1) MB"
	if [ -n "${3:-}" ]; then
		made="$(grep '^made=' "$r/$MARK")
completed=$(date -u +%FT%TZ) in ${secs}s with $3, $(du -sm "$r" | cut -f1) MB"
	fi
	{
		echo "suite=$SUITE"
		echo "mirror=$MIRROR"
		echo "packages=$PKGS"
		echo "package=$pkgver"
		echo "openssl=$ver"
		[ -z "$gver" ] || echo "gnutls=$gver"
		echo "$made"
	} >"$r/$MARK.new"
	mv -f "$r/$MARK.new" "$r/$MARK"
	SECS=$secs
}

# A finished root made for fewer packages: install the missing ones in it, in place.
if [ -f "$DIR/$MARK" ]; then
	start=$(date +%s.%N)
	missing=""
	for p in $(tr , ' ' <<<"$PKGS"); do
		chroot "$DIR" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "mkroot: $SUITE root in $DIR lacks$missing: installing them" >&2
		log=$DIR.log
		# The root's own apt and sources (debootstrap's); no daemon is started (policy-rc.d).
		printf '#!/bin/sh\nexit 101\n' >"$DIR/usr/sbin/policy-rc.d"
		chmod +x "$DIR/usr/sbin/policy-rc.d"
		rc=0
		# shellcheck disable=SC2086
		{ chroot "$DIR" apt-get -q update &&
			DEBIAN_FRONTEND=noninteractive chroot "$DIR" apt-get install -y -q \
				--no-install-recommends $missing; } >"$log" 2>&1 </dev/null || rc=$?
		rm -f "$DIR/usr/sbin/policy-rc.d"
		chroot "$DIR" apt-get clean >/dev/null 2>&1 || true
		if [ $rc -ne 0 ]; then
			echo "mkroot: installing$missing in $DIR failed (is the mirror reachable?);" \
				"remove $DIR to rebuild it; last lines:" >&2
			tail -5 "$log" | sed 's/^/mkroot:   /' >&2
			exit 1
		fi
	fi
	added=${missing# }
	write_mark "$DIR" "$start" "${added:-nothing}" || exit 1
	done_msg ", completed in ${SECS}s (added: ${added:-nothing})"
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
write_mark "$NEW" "$start" || exit 1
rmdir "$DIR" 2>/dev/null || true
mv -T "$NEW" "$DIR"
trap - EXIT
done_msg ", made in ${SECS}s ($(du -sm "$DIR" | cut -f1) MB)"
