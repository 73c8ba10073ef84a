#!/bin/bash
# Bad input (20 cases): each case exits non-zero with one line on stderr that names the problem (a JSON
# object with "error" under -j; argp's "Try `alerttrace --help'" hint may follow a usage error),
# and leaves nothing behind: no TC filter or clsact qdisc on the interfaces of the namespace it
# ran in, no /run/alerttrace/PID record, no process. The witnesses are tc's own listing, the
# record directory and /proc, never the tracer's output. Every tracer runs in a network namespace
# of its own, so the filters of tracers that other tests run on this host do not count.
# A --lib on a TLS library (a copy of libssl) must keep working: an s_server using that copy sends
# protocol_version to a TLS 1.2 client (judged by the client's own "alert number 70") and the
# tracer reports it from the copy.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/fixtures/lib_path.sh"
need_root bad_input
test_prologue bad_input openssl python3 setpriv tc ip

NS=at_bad_$$
ip netns add $NS && AT_NETNS+=($NS) && ip -n $NS link set lo up &&
	ip -n $NS link add v0 type veth peer name v1 && ip -n $NS link set v0 up &&
	ip -n $NS link set v1 up || { fail bad_input_netns "cannot set up a network namespace"; exit 1; }

# What is left in the namespace: our filters (handle 0xa1e7, a program at_tc_*) and clsact
# qdiscs, on every interface there (none existed before the tracers).
leftovers() {
	local d
	for d in lo v0 v1; do
		tc -n $NS filter show dev $d ingress; tc -n $NS filter show dev $d egress
	done | grep -c 'at_tc_\|a1e7'
	for d in lo v0 v1; do tc -n $NS qdisc show dev $d; done | grep -c clsact
}

# case NAME PATTERN [PREFIX...] -- ARGS...: the tracer (behind the command words PREFIX, e.g.
# setpriv) in the namespace, once as text and once with -j; PATTERN (grep -E) must be in the line.
case_() {
	local name=$1 pat=$2 prefix=() mode
	shift 2
	while [ "$1" != -- ]; do prefix+=("$1"); shift; done
	shift
	for mode in text json; do
		local n="${name}_$mode" args=("$@") pid rc i
		[ $mode = json ] && args=(-j "${args[@]}")
		ip netns exec $NS ${prefix[@]+"${prefix[@]}"} "$AT" "${args[@]}" >"$T/$n.out" 2>"$T/$n.err" &
		pid=$!
		for i in $(seq 1 400); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
		if kill -0 $pid 2>/dev/null; then
			kill -INT $pid; sleep 0.5; kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
			fail "$n" "still running after 20 s (it must refuse at start): $(tail -2 "$T/$n.err" | tr '\n' '|')"
			continue
		fi
		wait $pid; rc=$?
		python3 - "$T/$n.err" "$mode" "$pat" "$rc" "$n" <<'EOF'
import json, re, sys
path, mode, pat, rc, name = sys.argv[1:]
lines = [l.rstrip("\n") for l in open(path, errors="replace")]
# argp's hint names the program (alerttrace-san under make sanitize).
msgs = [l for l in lines if not re.match(r"Try `alerttrace[-a-z]* --help'", l)]
why = None
if rc == "0":
    why = "exit status 0"
elif len(msgs) != 1:
    why = "%d lines on stderr, expected 1" % len(msgs)
else:
    m = msgs[0]
    if mode == "json":
        try:
            m = json.loads(m)["error"]
        except (ValueError, KeyError, TypeError):
            why = "not a JSON {\"error\":...} line"
    if not why and not re.search(pat, m):
        why = "the line does not name the problem (/%s/)" % pat
print("PASS %s" % name if not why else "FAIL %s: %s; stderr: %s" % (name, why, " | ".join(lines)[:400]))
EOF
		check "${n}_nothing_attached" "0
0" "$(leftovers)"
		check "${n}_no_record" "" "$(ls /run/alerttrace/$pid 2>/dev/null)"
		check "${n}_no_process" "" "$(ls -d /proc/$pid 2>/dev/null)"
	done
}

# A pid that no process has now: one that just exited.
true & gone=$!; wait $gone
mkdir -p "$T/dir" "$T/lib"
printf 'not an ELF file\n' >"$T/text.so"
cp /usr/lib/x86_64-linux-gnu/libz.so.1 "$T/lib/libz.so.1"
cp /usr/lib/x86_64-linux-gnu/libssl.so.3 "$T/lib/libssl.so.3"

case_ not_root 'CAP_(BPF|PERFMON|NET_ADMIN)|root' \
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- -i lo
# Root without CAP_NET_ADMIN (it keeps CAP_SYS_ADMIN, which does not include it).
case_ root_without_net_admin 'CAP_NET_ADMIN' \
	setpriv --bounding-set=-net_admin --inh-caps=-net_admin -- -i lo
case_ nobody_without_net_admin 'CAP_NET_ADMIN' \
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=+bpf,+perfmon \
	--ambient-caps=+bpf,+perfmon -- -i lo
case_ nobody_without_perfmon 'CAP_PERFMON' \
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=+bpf,+net_admin \
	--ambient-caps=+bpf,+net_admin -- -i lo
case_ unknown_interface "nosuchif0" -- -i lo,nosuchif0
case_ lib_directory "$T/dir.*not a regular file" -- -i lo --lib "$T/dir"
case_ lib_not_elf "$T/text.so.*not an ELF" -- -i lo --lib "$T/text.so"
case_ lib_not_tls "$T/lib/libz.so.1.*not a TLS library" -- -i lo --lib "$T/lib/libz.so.1"
case_ lib_missing "$T/nosuch.so.*no such file" -- -i lo --lib "$T/nosuch.so"
case_ lib_not_tls_next_to_a_good_one "$T/lib/libz.so.1" -- --no-wire --lib "$T/lib/libssl.so.3" \
	--lib "$T/lib/libz.so.1"
case_ pid_not_running "pid $gone" -- -i lo -p $gone
case_ textfile_dir_missing "$T/nodir" -- -i lo --textfile "$T/nodir/at.prom"
case_ interval_zero "interval '0'" -- -i lo -H 0
case_ interval_negative "interval '-5'" -- -i lo -H -- -5
case_ count_zero "count '0'" -- -i lo -H 1 0
case_ unknown_long_flag "frobnicate" -- --frobnicate
case_ unknown_short_flag "'-Z'|-- 'Z'" -- -Z
case_ iface_without_the_wire_source "-i.*--no-wire" -- --no-wire -i lo
case_ lib_without_the_library_source "--lib.*--no-lib" -- --no-lib -i lo --lib "$T/lib/libssl.so.3"
case_ flag_missing_argument "(argument.*'-?p'|'-p'.*argument)" -- -i lo -p

# --lib on a TLS library: hooked, and an alert through it reported.
C=$T/c
BASE=$(port_block 1)
at_start lib_ok --no-wire -j --lib "$T/lib/libssl.so.3" || exit 1
grep -F "\"path\":\"$T/lib/libssl.so.3\"" "$T/lib_ok.at.err" | grep -q '"sent":true' &&
	pass lib_tls_copy_reported_hooked ||
	fail lib_tls_copy_reported_hooked "no hooked report line: $(head -c 300 "$T/lib_ok.at.err")"
SRV_PREFIX=(env LD_LIBRARY_PATH="$T/lib")
server lib_ok $BASE -tls1_3 && client lib_ok $BASE 1 -tls1_2
peer_said lib_ok cli "alert number 70"
sleep 0.5
at_stop lib_ok
got=$(python3 - "$T/lib_ok.at" "$SPID" "$T/lib/libssl.so.3" <<'EOF'
import json, sys
n = 0
for l in open(sys.argv[1]):
    if l.startswith("{"):
        e = json.loads(l)
        n += e.get("pid") == int(sys.argv[2]) and e.get("direction") == "sent" and \
             e.get("code") == 70 and e.get("lib") == sys.argv[3]
print(n)
EOF
)
check lib_tls_copy_alert_reported_from_the_copy 1 "$got"
