#!/bin/bash
# alerttrace --selftest: every source of this host works, nothing is left behind, and a source
# made to fail is named with its cause. Witnesses besides the selftest's own word:
#  - `openssl version` and `gnutls-cli --version` name the library versions its lines must name;
#  - while it runs, its network namespace (read from /proc/PID/ns/net) holds our TC filter on lo
#    (tc, from inside that namespace); after it exits no process is in that namespace, no mount
#    pins it, its /run/alerttrace record is gone and none of the peer pids it printed exists;
#  - -j: every line is a JSON object (python3), one per source;
#  - the failure path: setpriv drops CAP_NET_ADMIN from the bounding set (the status file of a
#    process run the same way shows it missing): the wire source must fail naming CAP_NET_ADMIN,
#    the library sources still pass, and the exit status is not 0;
#  - SIGINT while it runs: it exits non-zero, says "interrupted", and leaves nothing behind either.
. "$(dirname "$0")/lib/common.sh"
need_root selftest
test_prologue selftest openssl gnutls-cli setpriv tc nsenter python3

# netns_of PID: the inode of its network namespace, "" when it is gone.
netns_of() { readlink "/proc/$1/ns/net" 2>/dev/null | sed 's/[^0-9]//g'; }
MYNS=$(netns_of $$)
# run_bg OUT ARGS...: start the selftest, wait until it is in a namespace of its own; sets SPID
# and SNS (empty when it never got there).
run_bg() {
	local out=$1 i
	shift
	"$@" >"$out" 2>"$out.err" &
	SPID=$! SNS=
	for i in $(seq 1 100); do
		SNS=$(netns_of $SPID)
		[ -n "$SNS" ] && [ "$SNS" != "$MYNS" ] && return 0
		SNS=
		sleep 0.02
	done
}
# left NAME: nothing of the selftest that ran as SPID in SNS remains; peers' pids from FILE.
left() {
	local name=$1 file=$2 procs mounts pids=() p alive=
	procs=$(for p in /proc/[0-9]*; do [ "$(netns_of ${p#/proc/})" = "$SNS" ] && echo ${p#/proc/}; done)
	mounts=$(grep -c "net:\[$SNS\]" /proc/*/mountinfo 2>/dev/null | grep -v ':0$' | head -3)
	mapfile -t pids < <(grep -o 'pid [0-9]*' "$file" | awk '{print $2}')
	for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
	check "${name}_no_process_in_its_namespace" "" "$procs"
	check "${name}_namespace_not_pinned" "" "$mounts"
	check "${name}_no_peer_left" "" "$alive"
	check "${name}_record_removed" "no" "$([ -e /run/alerttrace/$SPID ] && echo yes || echo no)"
}

# 1. Every source, text output; the TC filter seen from inside its namespace while it runs.
run_bg "$T/ok.out" "$AT" --selftest
[ -n "$SNS" ] && pass selftest_own_namespace || fail selftest_own_namespace "never left ours"
filt=
for _ in $(seq 1 100); do
	filt=$(nsenter --net=/proc/$SPID/ns/net tc filter show dev lo ingress 2>/dev/null | grep -c at_tc)
	[ "${filt:-0}" -gt 0 ] && break
	sleep 0.02
done
[ "${filt:-0}" -gt 0 ] && pass selftest_tc_filter_in_its_namespace ||
	fail selftest_tc_filter_in_its_namespace "tc saw no at_tc filter on its lo"
wait $SPID
check selftest_exit_0 0 $?
cat "$T/ok.out"
ossl=$(openssl version | awk '{print $2}')
gtls=$(gnutls-cli --version | sed -n 's/^gnutls-cli \([0-9.]*\).*/\1/p' | head -1)
# has SOURCE TEXT: the source's ok line contains TEXT
has() { grep "^$1: ok: " "$T/ok.out" | grep -qF -- "$2"; }
has openssl "OpenSSL $ossl " && has openssl "sent fatal protocol_version(70)" &&
	has openssl "received fatal protocol_version(70)" &&
	pass selftest_openssl_ok || fail selftest_openssl_ok "no ok line for OpenSSL $ossl: $(grep ^openssl "$T/ok.out")"
has gnutls "libgnutls" && has gnutls "(GnuTLS $gtls)" && has gnutls "sent fatal" &&
	has gnutls "received fatal" &&
	pass selftest_gnutls_ok || fail selftest_gnutls_ok "no ok line for GnuTLS $gtls: $(grep ^gnutls "$T/ok.out")"
# The Go peer is built into alerttrace with this host's Go (Debian's golang-go): its version.
gov=$(go version | awk '{print $3}')
has go "$gov crypto/tls" && has go "sent fatal protocol_version(70)" &&
	has go "received fatal protocol_version(70)" &&
	pass selftest_go_ok || fail selftest_go_ok "no ok line for $gov: $(grep ^go "$T/ok.out")"
has wire "lo 127.0.0.1" && has wire "sent fatal internal_error(80)" &&
	has wire "received fatal internal_error(80)" &&
	pass selftest_wire_ok || fail selftest_wire_ok "$(grep ^wire "$T/ok.out")"
left selftest "$T/ok.out"

# 2. -j: one JSON object per source.
"$AT" --selftest -j >"$T/j.out" 2>"$T/j.err"
check selftest_json_exit_0 0 $?
check selftest_json_one_object_per_source "gnutls:ok go:ok openssl:ok wire:ok" "$(python3 -c '
import json, sys
r = sorted("%s:%s" % (o["source"], o["result"]) for o in map(json.loads, open(sys.argv[1])) if o["type"] == "selftest")
print(" ".join(r))' "$T/j.out" 2>&1)"

# 3. Without CAP_NET_ADMIN: the wire source fails and says why.
capeff=$(setpriv --bounding-set -net_admin grep CapEff /proc/self/status | awk '{print $2}')
check selftest_setpriv_drops_net_admin 0 $(( 0x$capeff >> 12 & 1 ))
run_bg "$T/nocap.out" setpriv --bounding-set -net_admin "$AT" --selftest
wait $SPID
rc=$?
[ $rc -ne 0 ] && pass selftest_nocap_exit_nonzero || fail selftest_nocap_exit_nonzero "exit 0"
grep -q "^wire: failed: .*CAP_NET_ADMIN" "$T/nocap.out" && pass selftest_nocap_names_wire_and_cause ||
	fail selftest_nocap_names_wire_and_cause "$(cat "$T/nocap.out" "$T/nocap.out.err")"
grep -q "^openssl: ok" "$T/nocap.out" && pass selftest_nocap_library_still_ok ||
	fail selftest_nocap_library_still_ok "$(grep ^openssl "$T/nocap.out")"
left selftest_nocap "$T/nocap.out"

# 4. SIGINT while it runs.
run_bg "$T/int.out" "$AT" --selftest
sleep 0.3
kill -INT $SPID
wait $SPID
rc=$?
[ $rc -ne 0 ] && grep -q interrupted "$T/int.out.err" && pass selftest_sigint_says_interrupted ||
	fail selftest_sigint_says_interrupted "rc=$rc: $(cat "$T/int.out" "$T/int.out.err" | head -5)"
left selftest_sigint "$T/int.out"
