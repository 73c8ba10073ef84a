#!/bin/bash
# Fetches other Debian builds of libssl for the hook analyser's tests, with a PRIVATE apt state in
# DEST: the machine's apt sources and lists are never touched.
#   DEST/bullseye/  libssl1.1 (1.1.1w, or a newer build from bullseye-security when it has one)
#   DEST/trixie/    libssl3t64 (3.5.x)
#   DEST/bullseye-dev/, DEST/trixie-dev/  the matching libssl-dev: libssl.a/libcrypto.a with
#                   symbols, the truth the analyser's tests link fixtures from
# Idempotent: a directory that already holds its library is skipped.
# Usage: tools/fetch-openssl.sh DEST
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DEST" >&2; exit 2; }
mkdir -p "$1"
D=$(cd "$1" && pwd)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIRROR=http://deb.debian.org/debian
SECMIRROR=http://deb.debian.org/debian-security

have() { ls "$D/$1"/usr/lib/x86_64-linux-gnu/libssl.* >/dev/null 2>&1; }
if have bullseye && have trixie && have bullseye-dev && have trixie-dev; then
	echo "fetch-openssl: already present in $D" >&2
	exit 0
fi
[ -r "$KEYRING" ] || { echo "fetch-openssl: $KEYRING missing: apt-get install debian-archive-keyring" >&2; exit 1; }

mkdir -p "$D/sp" "$D/lists/partial" "$D/cache/archives/partial" "$D/debs"
cat >"$D/sp/alerttrace.sources" <<SRC
Types: deb
URIs: $MIRROR
Suites: bullseye trixie
Components: main
Signed-By: $KEYRING

Types: deb
URIs: $SECMIRROR
Suites: bullseye-security
Components: main
Signed-By: $KEYRING
SRC
APT=(apt-get -q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$D/sp"
	-o Dir::State::Lists="$D/lists" -o Dir::Cache="$D/cache" -o Dir::Etc::Preferences=/dev/null
	-o Dir::Etc::PreferencesParts=/dev/null -o APT::Sandbox::User=root)
if ! "${APT[@]}" update >"$D/update.log" 2>&1 || grep -q '^E:' "$D/update.log"; then
	echo "fetch-openssl: apt-get update failed (is deb.debian.org reachable?); see $D/update.log" >&2
	exit 1
fi

# Pick the newest version a suite offers: apt-cache madison lists "pkg | version | source".
newest() { # PKG SUITE-REGEX
	apt-cache -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$D/sp" \
		-o Dir::State::Lists="$D/lists" -o Dir::Cache="$D/cache" madison "$1" |
		grep -E "$2" | awk -F'|' '{gsub(/ /,"",$2); print $2}' |
		sort -V -r | head -1
}

# Which suite a version came from (madison's third column).
newest_from() { # PKG VERSION
	apt-cache -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
		-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$D/sp" \
		-o Dir::State::Lists="$D/lists" -o Dir::Cache="$D/cache" madison "$1" |
		awk -F'|' -v v="$2" '{gsub(/ /,"",$2)} $2 == v {gsub(/^ +| +$/,"",$3); print $3; exit}'
}

fetch() { # DIR PKG SUITE-REGEX
	local suite=$1 pkg=$2 ver deb
	have "$suite" && { echo "fetch-openssl: $suite already present" >&2; return 0; }
	ver=$(newest "$pkg" "$3")
	[ -n "$ver" ] || { echo "fetch-openssl: no $pkg in $suite" >&2; return 1; }
	(cd "$D/debs" && "${APT[@]}" download "$pkg=$ver" >/dev/null)
	deb=$(ls "$D/debs/${pkg}_"*"_amd64.deb" | grep -F "_${ver//:/%3a}_" | head -1)
	[ -n "$deb" ] || { echo "fetch-openssl: download of $pkg=$ver failed" >&2; return 1; }
	rm -rf "$D/$suite"
	dpkg-deb -x "$deb" "$D/$suite"
	echo "$pkg $ver $(newest_from "$pkg" "$ver")" >"$D/$suite/VERSION"
	echo "fetch-openssl: $suite: $pkg $ver -> $D/$suite" >&2
}

fetch bullseye libssl1.1 'bullseye(-security)?/'
fetch trixie libssl3t64 'trixie/'
fetch bullseye-dev libssl-dev 'bullseye(-security)?/'
fetch trixie-dev libssl-dev 'trixie/'
