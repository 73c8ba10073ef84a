#!/bin/bash
# Fetches Go toolchains from Debian's archive for the Go provider's tests, with a PRIVATE apt state
# in DEST (as tools/fetch-openssl.sh): the machine's apt sources and lists are never touched.
#   DEST/1.NN/usr/lib/go-1.NN/bin/go   golang-1.NN-go + golang-1.NN-src (the standard library
#                                       sources the toolchain compiles), for NN in 24 25 26 27,
#                                       from whichever of trixie, trixie-backports, sid has it
#   DEST/1.NN/VERSION                   "golang-1.NN-go VERSION SUITE"
# The toolchain is static, so it runs on Debian 12 unchanged.
# Idempotent: a version whose go binary already runs is skipped. One run at a time (flock).
# Usage: tools/fetch-go.sh [DEST]   (default /var/tmp/alerttrace-go)
# Env: GO_VERSIONS="1.24 1.25 1.26 1.27" to fetch a subset.
set -eu
[ $# -le 1 ] || { echo "usage: $0 [DEST]" >&2; exit 2; }
mkdir -p "${1:-/var/tmp/alerttrace-go}"
D=$(cd "${1:-/var/tmp/alerttrace-go}" && pwd)
VERSIONS=${GO_VERSIONS:-1.24 1.25 1.26 1.27}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIRROR=http://deb.debian.org/debian

exec 9>"$D/.lock"
flock 9

gobin() { echo "$D/$1/usr/lib/go-$1/bin/go"; }
have() { [ -x "$(gobin "$1")" ] && [ -s "$D/$1/VERSION" ] && "$(gobin "$1")" version >/dev/null 2>&1; }
report() {
	local v
	for v in $VERSIONS; do
		have "$v" && echo "fetch-go: $v: $(cat "$D/$v/VERSION") -> $(gobin "$v"): $("$(gobin "$v")" version)"
	done
}

missing=""
for v in $VERSIONS; do have "$v" || missing="$missing $v"; done
if [ -z "$missing" ]; then
	report
	exit 0
fi
[ -r "$KEYRING" ] || { echo "fetch-go: $KEYRING missing: apt-get install debian-archive-keyring" >&2; exit 1; }
command -v flock >/dev/null || { echo "fetch-go: flock missing: apt-get install util-linux" >&2; exit 1; }

mkdir -p "$D/sp" "$D/lists/partial" "$D/cache/archives/partial" "$D/debs"
cat >"$D/sp/alerttrace.sources" <<SRC
Types: deb
URIs: $MIRROR
Suites: trixie trixie-backports sid
Components: main
Signed-By: $KEYRING
SRC
OPTS=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$D/sp"
	-o Dir::State::Lists="$D/lists" -o Dir::Cache="$D/cache" -o Dir::Etc::Preferences=/dev/null
	-o Dir::Etc::PreferencesParts=/dev/null -o APT::Sandbox::User=root)
# Refresh the lists at most once a day: sid moves, and a stale list names .debs that are gone.
if [ -z "$(find "$D/lists" -maxdepth 1 -name '*sid*Packages*' -mtime -1 2>/dev/null)" ]; then
	if ! apt-get -q "${OPTS[@]}" update >"$D/update.log" 2>&1 || grep -q '^E:' "$D/update.log"; then
		echo "fetch-go: apt-get update failed (is $MIRROR reachable?); see $D/update.log" >&2
		exit 1
	fi
fi

# madison lists "pkg | version | mirror suite/main amd64 Packages"; take the newest version and
# the suite it is in. Compare as dpkg does: 1.26.11-1~bpo13+1 < 1.26.11-1, which sort -V gets wrong.
newest() { # PKG -> "VERSION SUITE"
	local best="" bsuite="" ver suite
	while read -r ver suite; do
		if [ -z "$best" ] || dpkg --compare-versions "$ver" gt "$best"; then
			best=$ver bsuite=$suite
		fi
	done < <(apt-cache "${OPTS[@]}" madison "$1" | grep -F 'amd64 Packages' |
		awk -F'|' '{gsub(/ /,"",$2); split($3,a," "); split(a[2],s,"/"); print $2, s[1]}')
	[ -n "$best" ] && echo "$best $bsuite"
}

download() { # PKG VERSION -> path of the .deb
	local deb
	(cd "$D/debs" && apt-get -q "${OPTS[@]}" download "$1=$2" >"$D/download.log" 2>&1) || {
		echo "fetch-go: download of $1=$2 failed; see $D/download.log" >&2
		return 1
	}
	deb=$(ls "$D/debs/${1}_"*.deb | grep -F "_${2//:/%3a}_" | head -1)
	[ -n "$deb" ] || { echo "fetch-go: download of $1=$2 left no .deb in $D/debs" >&2; return 1; }
	echo "$deb"
}

fetch() { # 1.NN
	local v=$1 pkg=golang-$1-go src=golang-$1-src gv srcver vs suite d1 d2 tmp
	vs=$(newest "$pkg")
	[ -n "$vs" ] || { echo "fetch-go: $pkg is in none of trixie, trixie-backports, sid" >&2; return 1; }
	read -r gv suite <<<"$vs"
	# golang-1.NN-go depends on golang-1.NN-src (= the same version); the src package is
	# architecture all, so madison lists it as "all Packages" in the same suite.
	srcver=$(apt-cache "${OPTS[@]}" madison "$src" | awk -F'|' -v v="$gv" '{gsub(/ /,"",$2)} $2 == v {print $2; exit}')
	[ -n "$srcver" ] || { echo "fetch-go: $src=$gv (needed by $pkg) not found" >&2; return 1; }
	d1=$(download "$pkg" "$gv") || return 1
	d2=$(download "$src" "$srcver") || return 1
	tmp="$D/.$v.tmp"
	rm -rf "$tmp"
	dpkg-deb -x "$d1" "$tmp"
	dpkg-deb -x "$d2" "$tmp"
	[ -x "$tmp/usr/lib/go-$v/bin/go" ] || { echo "fetch-go: $d1 holds no usr/lib/go-$v/bin/go" >&2; return 1; }
	if ! out=$("$tmp/usr/lib/go-$v/bin/go" version 2>&1); then
		echo "fetch-go: $tmp/usr/lib/go-$v/bin/go version fails on this system: $out" >&2
		return 1
	fi
	echo "$pkg $gv $suite" >"$tmp/VERSION"
	rm -rf "$D/$v"
	mv "$tmp" "$D/$v"
	echo "fetch-go: $v: $pkg $gv ($suite) + $src -> $D/$v: $out" >&2
}

rc=0
for v in $missing; do fetch "$v" || rc=1; done
report
exit $rc
