#!/bin/bash
# Filters, end to end: one mixed workload in a network namespace of its own, watched by one tracer
# per filter (stream mode, -j, wire on lo and library hooks), and each tracer must print exactly
# the workload's events that its filter keeps, and nothing its filter excludes.
#
# The workload (tests/fixtures/tls_workload.py, each process counting its own alerts through its
# library's message callback) on two ports: server atf_srv1 on P1 (TLS <= 1.2), atf_srv2 on P2
# (TLS 1.3 only); client atf_x: 3 x unknown_ca sent (fatal, plaintext on the wire), 2 x TLS 1.2
# close_notify sent and received (warning, encrypted on the wire); client atf_y: 4 x
# protocol_version received (fatal), 1 x TLS 1.3 close_notify both ways (not visible on the wire),
# 1 x a plaintext warning user_canceled sent from a raw socket (wire only; atf_srv1's library
# reads it). tshark on lo decodes the alert records: the judge of the wire.
#
# Filters: -p PID, -p PID,PID, -c COMM, --port (wire and library events at either end: library
# events carry their connection's ports, TLS 1.3 ones included), --sent, --received, --fatal
# (level 2: an encrypted alert has no known level), --no-wire, --no-lib, and --port with --sent.
. "$(dirname "$0")/lib/common.sh"
need_root filters
workload_setup filters tshark
judge() { $PY "$TOP/tests/fixtures/alert_judge.py" "$@"; }
P1=$(( 25000 + (RANDOM % 400) * 10 )) P2=$((P1 + 1))

# The processes start first and wait: their pids go on the tracers' command lines, and they
# listen and connect only once the tracers run (attribution needs to see listen and connect).
bg ip netns exec $NS $PY "$W" server --port $P1 --cert $C/server.pem --key $C/server.key \
	--max TLSv1_2 --name atf_srv1 --log "$T/s1.log" --go "$T/go_srv"
S1=$!
bg ip netns exec $NS $PY "$W" server --port $P2 --cert $C/server.pem --key $C/server.key \
	--min TLSv1_3 --name atf_srv2 --log "$T/s2.log" --go "$T/go_srv"
S2=$!
bg ip netns exec $NS $PY "$W" client --name atf_x --log "$T/x.log" --go "$T/go_cli" \
	--do port=$P1,ca=$C/other-ca.pem,n=3 --do port=$P1,ca=$C/ca.pem,n=2,close=1
X=$!
bg ip netns exec $NS $PY "$W" client --name atf_y --log "$T/y.log" --go "$T/go_cli" \
	--do port=$P2,ca=$C/ca.pem,max=TLSv1_2,n=4 --do port=$P2,ca=$C/ca.pem,n=1,close=1 \
	--do port=$P1,raw=1/90
for f in s1 s2 x y; do
	wait_for "$T/$f.log" '"start"' 10 || { fail filters_workload "$f did not start"; exit 1; }
done

bg ip netns exec $NS tshark -n -i lo -w "$T/cap.pcapng" -f "tcp port $P1 or tcp port $P2" \
	2>"$T/tshark.err"
TSPID=$!
wait_for "$T/tshark.err" "Capturing on" 20 || { fail tshark_start "$(cat "$T/tshark.err")"; exit 1; }

# NAME|alerttrace flags|judge filter
CASES=(
	"filter_none||"
	"filter_pid|-p $X|pid=$X"
	"filter_pid_list|-p $X,$S2|pid=$X,$S2"
	"filter_comm|-c atf_y|comm=atf_y"
	"filter_port|--port $P2|port=$P2"
	"filter_port_sent|--port $P1 --sent|port=$P1 sent"
	"filter_sent|--sent|sent"
	"filter_received|--received|received"
	"filter_fatal|--fatal|fatal"
	"filter_no_wire|--no-wire|no-wire"
	"filter_no_lib|--no-lib|no-lib"
)
declare -A ATP
for c in "${CASES[@]}"; do
	IFS='|' read -r name flags _ <<<"$c"
	# --no-wire takes no interface.
	ifl="-i lo"
	[[ "$flags" == *--no-wire* ]] && ifl=
	# shellcheck disable=SC2086
	bg ip netns exec $NS "$AT" $ifl -j $flags >"$T/$name.out" 2>"$T/$name.err"
	ATP[$name]=$!
done
for c in "${CASES[@]}"; do
	name=${c%%|*}
	wait_for "$T/$name.err" "Tracing TLS alerts" 30 ||
		{ fail "${name}_start" "no 'Tracing' line: $(tail -3 "$T/$name.err")"; exit 1; }
done

touch "$T/go_srv"
wait_for "$T/s1.log" listening 10 && wait_for "$T/s2.log" listening 10 ||
	{ fail filters_workload "the servers did not listen"; exit 1; }
touch "$T/go_cli"
for f in x y; do
	wait_for "$T/$f.log" '"done"' 30 || { fail filters_workload "client $f did not finish"; exit 1; }
done
sleep 0.5
kill $S1 $S2 2>/dev/null
for c in "${CASES[@]}"; do kill -INT "${ATP[${c%%|*}]}"; done
for c in "${CASES[@]}"; do
	name=${c%%|*}
	wait "${ATP[$name]}"; rc=$?
	[ "$rc" = 0 ] || fail "${name}_exit" "expected status 0 after SIGINT, got $rc: $(tail -2 "$T/$name.err")"
done
kill -INT $TSPID; wait $TSPID

# What the workload did, by its own account, so a failure below is not the workload's.
check workload_x "sent 2/48 x3, sent 1/0 x2, received 1/0 x2" "$($PY - "$T/x.log" <<'EOF'
import collections, json, sys
c = collections.Counter()
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["ev"] == "alert":
        c[(e["dir"], e["level"], e["code"])] += 1
print(", ".join("%s %d/%d x%d" % (k[0], k[1], k[2], n) for k, n in
                sorted(c.items(), key=lambda kv: (kv[0][0] != "sent", -kv[0][1], -kv[0][2]))))
EOF
)"
check workload_y_outcomes '{"error: TLSV1_ALERT_PROTOCOL_VERSION": 4, "ok TLSv1.3 closed": 1, "raw": 1}' \
	"$(grep '"done"' "$T/y.log" | $PY -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["outcomes"]))')"

LOGS=$T/s1.log,$T/s2.log,$T/x.log,$T/y.log
for c in "${CASES[@]}"; do
	IFS='|' read -r name _ jf <<<"$c"
	# shellcheck disable=SC2086
	judge stream "$name" --logs $LOGS --pcap "$T/cap.pcapng" --decode $P1,$P2 --at "$T/$name.out" $jf
done
for c in "${CASES[@]}"; do
	name=${c%%|*}
	n=$(grep -ci 'lost' "$T/$name.err")
	[ "$n" = 0 ] || fail "${name}_no_loss" "expected no 'lost' report, got: $(grep -i lost "$T/$name.err" | head -1)"
done
if [ -n "${VERBOSE:-}" ]; then head -100 "$T"/filter_none.out; fi
