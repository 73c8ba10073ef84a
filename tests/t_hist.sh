#!/bin/bash
# Histogram mode (-H) against a workload whose numbers are known: in a network namespace of its
# own, one process (comm ath_unkca) makes 23 TLS 1.2 connections verifying against a CA that did
# not sign the server's certificate, so it sends unknown_ca 23 times; a second process with the
# same comm does it 5 times; a process ath_protov makes 7 connections capped at TLS 1.2 to a
# TLS 1.3-only server, so it receives protocol_version 7 times. The servers are processes too
# (ath_srv12, ath_srv13). Four tracers watch the same run: -H -P, -H -P -j, -H, -H -j.
#
# The judge is independent of alerttrace: every peer counts its own alerts with its library's
# message callback (tests/fixtures/tls_workload.py), and tshark on lo decodes the alert records
# (on lo each one crosses egress and ingress: two wire events, one per owner). Per pid, and
# without -P per comm, every count must be exact, for both sources.
# Then `-H 1 3` must print exactly 3 intervals and exit by itself with status 0, and the counts
# of its intervals must add up to what the workload did while it ran.
. "$(dirname "$0")/lib/common.sh"
need_root hist
workload_setup hist tshark openssl
judge() { $PY "$TOP/tests/fixtures/alert_judge.py" "$@"; }
nsx() { ip netns exec $NS "$@"; }
P1=$(( 21000 + (RANDOM % 400) * 10 )) P2=$((P1 + 1))
# A narrow range of client ports, so that Linux gives the same client port to connections to
# both servers (it may, their 4-tuples differ): a wire alert's owner is found by its connection,
# not by one port. The judge owns records by both ports too.
nsx sysctl -qw net.ipv4.ip_local_port_range="40000 40039" ||
	{ fail hist_port_range "cannot narrow the namespace's client ports"; exit 1; }

# at_wait FILE...: until each tracer's stderr says it traces.
at_wait() {
	local f
	for f in "$@"; do
		wait_for "$f" "Tracing TLS alerts" 20 ||
			{ fail hist_tracer_start "$(basename "$f"): $(tail -3 "$f")"; return 1; }
	done
}

# stop_at NAME PID: SIGINT, status 0 expected.
stop_at() {
	kill -INT "$2"; wait "$2"
	local rc=$?
	[ "$rc" = 0 ] || fail "$1_exit" "expected status 0 after SIGINT, got $rc: $(tail -3 "$T/$1.err")"
}

# servers PREFIX: the two servers, logs $T/PREFIX_s1.log and _s2.log; pids in S1 and S2.
servers() {
	bg ip netns exec $NS $PY "$W" server --port $P1 --cert $C/server.pem --key $C/server.key --max TLSv1_2 \
		--name ath_srv12 --log "$T/$1_s1.log"
	S1=$!
	bg ip netns exec $NS $PY "$W" server --port $P2 --cert $C/server.pem --key $C/server.key --min TLSv1_3 \
		--name ath_srv13 --log "$T/$1_s2.log"
	S2=$!
	wait_for "$T/$1_s1.log" listening 10 && wait_for "$T/$1_s2.log" listening 10 ||
		{ fail hist_servers "the test servers did not start"; return 1; }
}

bg ip netns exec $NS tshark -n -i lo -w "$T/cap.pcapng" -f "tcp port $P1 or tcp port $P2" 2>"$T/tshark.err"
TSPID=$!
wait_for "$T/tshark.err" "Capturing on" 20 || { fail tshark_start "$(cat "$T/tshark.err")"; exit 1; }

bg ip netns exec $NS "$AT" -i lo -H -P >"$T/pid_text.out" 2>"$T/pid_text.err"; A1=$!
bg ip netns exec $NS "$AT" -i lo -H -P -j >"$T/pid_json.out" 2>"$T/pid_json.err"; A2=$!
bg ip netns exec $NS "$AT" -i lo -H >"$T/comm_text.out" 2>"$T/comm_text.err"; A3=$!
bg ip netns exec $NS "$AT" -i lo -H -j >"$T/comm_json.out" 2>"$T/comm_json.err"; A4=$!
at_wait "$T"/{pid_text,pid_json,comm_text,comm_json}.err || exit 1
servers main || exit 1

nsx $PY "$W" client --name ath_unkca --log "$T/main_a.log" \
	--do port=$P1,ca=$C/other-ca.pem,max=TLSv1_2,n=23 & CA=$!
nsx $PY "$W" client --name ath_unkca --log "$T/main_a2.log" \
	--do port=$P1,ca=$C/other-ca.pem,max=TLSv1_2,n=5 & CA2=$!
nsx $PY "$W" client --name ath_protov --log "$T/main_b.log" \
	--do port=$P2,ca=$C/ca.pem,max=TLSv1_2,n=7 & CB=$!
wait $CA $CA2 $CB
sleep 0.5
kill $S1 $S2; wait $S1 $S2 2>/dev/null
for a in pid_text:$A1 pid_json:$A2 comm_text:$A3 comm_json:$A4; do stop_at ${a%%:*} ${a#*:}; done
kill -INT $TSPID; wait $TSPID

# The workload's own account: what the brief asks for, before comparing anything.
$PY - "$T"/main_a.log "$T"/main_a2.log "$T"/main_b.log <<'EOF'
import json, sys
by = [set((e["lport"], e["rport"]) for e in map(json.loads, open(f)) if e["ev"] == "conn")
      for f in sys.argv[1:]]
ports = [set(p for p, _ in c) for c in by]
print("      client ports shared by connections to both servers: %d; connections of the two"
      " ath_unkca with the same ports: %d" % (len((ports[0] | ports[1]) & ports[2]),
                                              len(by[0] & by[1])))
EOF
check workload_a_sent_unknown_ca 23 "$(judge count "$T/main_a.log" sent 48)"
check workload_b_received_protocol_version 7 "$(judge count "$T/main_b.log" received 70)"
LOGS=$T/main_a.log,$T/main_a2.log,$T/main_b.log,$T/main_s1.log,$T/main_s2.log
WIRE=(--pcap "$T/cap.pcapng" --decode "$P1,$P2")
judge hist hist_per_pid_text --logs $LOGS "${WIRE[@]}" --at "$T/pid_text.out" --format text --by pid
judge hist hist_per_pid_json --logs $LOGS "${WIRE[@]}" --at "$T/pid_json.out" --format json --by pid
judge hist hist_per_comm_text --logs $LOGS "${WIRE[@]}" --at "$T/comm_text.out" --format text \
	--by comm
judge hist hist_per_comm_json --logs $LOGS "${WIRE[@]}" --at "$T/comm_json.out" --format json \
	--by comm
# Without -P no pid is printed: every row has "pid":null.
n=$(grep -c '"pid":[0-9]' "$T/comm_json.out")
check hist_per_comm_json_has_no_pid 0 "$n"
for f in pid_text pid_json comm_text comm_json; do
	n=$(grep -ci 'lost\|not counted' "$T/$f.err")
	check hist_${f}_reports_no_loss 0 "$n"
done

# Interval mode: `-H 1 3` on its own, while a workload runs in the first interval.
servers ival || exit 1
start=$(date +%s.%N)
bg ip netns exec $NS "$AT" -i lo -H 1 3 >"$T/ival_text.out" 2>"$T/ival_text.err"; I1=$!
bg ip netns exec $NS "$AT" -i lo -H -P -j 1 3 >"$T/ival_json.out" 2>"$T/ival_json.err"; I2=$!
at_wait "$T"/ival_{text,json}.err || exit 1
nsx $PY "$W" client --name ath_protov --log "$T/ival_b.log" \
	--do port=$P2,ca=$C/ca.pem,max=TLSv1_2,n=7
rc1=0 rc2=0
# Both must end by themselves: a watchdog ends them (and the check fails) after 15 s.
( sleep 15; kill -INT $I1 $I2 2>/dev/null ) & WD=$!
wait $I1; rc1=$?
wait $I2; rc2=$?
end=$(date +%s.%N)
kill $WD 2>/dev/null; wait $WD 2>/dev/null
kill $S1 $S2; wait $S1 $S2 2>/dev/null
check hist_interval_exits_by_itself_with_0 "0 0" "$rc1 $rc2"
secs=$(echo "$end - $start" | bc | cut -d. -f1)
if [ "$secs" -ge 3 ] && [ "$secs" -lt 12 ]; then
	pass "hist_interval_takes_about_3s"
else
	fail hist_interval_takes_about_3s "expected 3 to 11 s for 3 intervals of 1 s, got ${secs}s"
fi
check hist_interval_prints_3_intervals 3 "$(grep -cE '^[0-9]{2}:[0-9]{2}:[0-9]{2}$' "$T/ival_text.out")"
# The JSON rows of the 3 intervals add up to the workload's counts (the library side; the
# interval tracers have no tshark of their own, so the wire rows are left out here).
grep '"source":"openssl"' "$T/ival_json.out" >"$T/ival_json_lib.out"
judge hist hist_interval_sum_per_pid --logs "$T/ival_b.log,$T/ival_s2.log" \
	--at "$T/ival_json_lib.out" --format json --by pid
n=$(grep -c '"ts"' "$T/ival_json.out" | tr -d ' ')
d=$(grep -o '"ts":[0-9]*' "$T/ival_json.out" | sort -u | wc -l)
[ "$d" -le 3 ] && pass hist_interval_json_at_most_3_intervals ||
	fail hist_interval_json_at_most_3_intervals "expected <= 3 distinct ts, got $d ($n rows)"
if [ -n "${VERBOSE:-}" ]; then cat "$T"/pid_text.out "$T"/comm_text.out "$T"/ival_text.out; fi
