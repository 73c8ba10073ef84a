#!/bin/bash
# Runs every test: the C test binaries built into .output/tests/ and the shell tests tests/t_*.sh.
# Each test prints lines "PASS name", "FAIL name: why" or "SKIP name: reason". A test program that
# exits non-zero without printing FAIL counts as one failure. With CI=true a SKIP is a failure:
# CI runs as root, so nothing may skip there.
# Usage: tests/run.sh [DIR|FILE...]   (default: every test)
set -u
cd "$(dirname "$0")/.."
# The C tests too analyse afresh (tests/lib/common.sh says why).
export ALERTTRACE_CACHE=${ALERTTRACE_CACHE:-off}
pass=0 fail=0 skip=0
if [ $# -eq 0 ]; then
	# Every test, the OpenSSL 3.5 / 1.1.1 roots (tests/versions, about 85 s on a cold cache) too.
	set -- $(ls .output/tests/test_* 2>/dev/null) $(ls tests/t_*.sh 2>/dev/null) tests/versions
fi
files=()
for a in "$@"; do
	if [ -d "$a" ]; then files+=($(ls "$a"/t_*.sh 2>/dev/null)); else files+=("$a"); fi
done
# test_ossl_hooks reads trixie's libssl under the root tools/fetch-openssl.sh unpacks (cached in
# /var/tmp), which the shell tests fetch later: on a fresh machine it comes first.
if [[ " ${files[*]} " == *"/test_ossl_hooks "* ]] && [ "$(id -u)" -eq 0 ]; then
	echo "== fetching the OpenSSL roots (tools/fetch-openssl.sh)"
	bash tools/fetch-openssl.sh "${AT_OSSL_DIR:-/var/tmp/alerttrace-openssl}" >/tmp/alerttrace-fetch.$$.log 2>&1 ||
		echo "   tools/fetch-openssl.sh failed: $(tail -1 /tmp/alerttrace-fetch.$$.log)"
	rm -f /tmp/alerttrace-fetch.$$.log
fi
# The same for the Go toolchains test_bin_gopclntab builds with (the shell tests' go_peers.sh
# fetches them later) and the trixie root whose GnuTLS 3.8 test_gnutls_hooks checks: without
# them a fresh machine's C tests cover Debian's Go 1.19 and GnuTLS 3.7 alone.
prefetch() { # TEST WHAT CMD...
	local t=$1 what=$2
	shift 2
	[[ " ${files[*]} " == *"/$t "* ]] && [ "$(id -u)" -eq 0 ] || return 0
	echo "== fetching $what ($1)"
	"$@" >/tmp/alerttrace-fetch.$$.log 2>&1 ||
		echo "   $1 failed: $(tail -1 /tmp/alerttrace-fetch.$$.log)"
	rm -f /tmp/alerttrace-fetch.$$.log
}
prefetch test_bin_gopclntab "the Go toolchains" tools/fetch-go.sh /var/tmp/alerttrace-go
prefetch test_gnutls_hooks "the trixie root" tools/mkroot-trixie.sh /var/tmp/alerttrace-trixie
for t in "${files[@]}"; do
	name=$(basename "$t")
	echo "== $name"
	start=$(date +%s)
	out=$(mktemp)
	if [[ "$t" == *.sh ]]; then timeout 900 bash "$t" >"$out" 2>&1; else timeout 900 "$t" >"$out" 2>&1; fi
	rc=$?
	sed 's/^/   /' "$out"
	p=$(grep -c '^PASS ' "$out"); f=$(grep -c '^FAIL ' "$out"); s=$(grep -c '^SKIP ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exited with status $rc"; f=1
	fi
	if [ "${CI:-}" = true ] && [ "$s" -gt 0 ]; then
		echo "FAIL $name: $s test(s) skipped under CI=true"; f=$((f + s)); s=0
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	echo "   ($(( $(date +%s) - start ))s)"
	rm -f "$out"
done
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
