#!/bin/bash
# Faults around the wire source and the tracer's own state, each in network namespaces of its own
# (the filters other tests attach on this host do not count), with real peers: openssl s_server
# -tls1_3 against s_client -tls1_2 sends protocol_version (70), judged by the client's own
# "alert number 70"; what is attached judged by tc's own listing and /run/alerttrace.
#  iface:     -i on a veth that goes down and up, is renamed, then deleted: the tracer keeps
#             running (alerts on the veth reported before and after down/up and rename), says
#             nothing while the device is gone, exits 0 at SIGINT and leaves no record, no qdisc
#             marker and nothing on the peer.
#  textfile:  the --textfile directory removed while running: one error line, not one a second;
#             the directory made again: the file is written again and that is said once.
#  sigkill:   a tracer SIGKILLed while it attaches to 13 interfaces (some filters placed, no ready
#             line yet): the next start removes every filter and qdisc it left, a foreign clsact
#             qdisc and classic-BPF filter survive, and its own stop leaves nothing (run 20 times
#             before the marker was written ahead of the qdisc, 5 left an unmarked qdisc behind).
#  two:       two tracers at once, one --sent --port P1, one --received --port P2, alerts on both
#             ports: each reports exactly the alert its filters allow; both exit 0, nothing left.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/fixtures/lib_path.sh"
. "$TOP/tests/lib/wire.sh"
need_root faults_wire
test_prologue faults_wire openssl python3 tc ip

# wire NAME FILE DIRECTION SPORT: wire events with code 70, this direction and source port.
wire() {
	python3 - "$2" "$3" "$4" <<'EOF'
import json, sys
n = 0
for l in open(sys.argv[1]):
    if l.startswith("{"):
        e = json.loads(l)
        n += (e.get("source") == "wire" and e.get("direction") == sys.argv[2] and
              e.get("code") == 70 and e.get("sport") == int(sys.argv[3]))
print(n)
EOF
}
# ---- iface ----
A=at_fwa_$$ B=at_fwb_$$
netns_pair $A $B 10.77.1.1 10.77.1.2 || { fail iface_netns "cannot make the veth pair"; exit 1; }
P=$(port_block 1)
nsstart if_ $A --no-lib -j -i a0 || exit 1
ifx=$(ip netns exec $A cat /sys/class/net/a0/ifindex)
nsino=$(ip netns exec $A stat -L -c %i /proc/self/ns/net)
check if_attached "2" "$(our $A a0)"
round if_up $A $B 10.77.1.1 $P
ip -n $A link set a0 down; sleep 0.5; ip -n $A link set a0 up; ip -n $B link set b0 up
sleep 1.5 # the veth's carrier back
round if_down_up $A $B 10.77.1.1 $P
ip -n $A link set a0 name a0x
round if_renamed $A $B 10.77.1.1 $P
check if_still_attached_after_rename "2" "$(our $A a0x)"
ip -n $A link del a0x
sleep 2
kill -0 $ATPID 2>/dev/null && pass if_tracer_runs_on_after_delete || fail if_tracer_runs_on_after_delete "it exited: $(tail -2 "$T/if_.at.err")"
at_stop if_
check if_sent_alert_each_round 3 "$(wire x "$T/if_.at" sent $P)"
check if_no_error_lines 0 "$(grep -c '"error"' "$T/if_.at.err")"
check if_no_record_left "" "$(ls /run/alerttrace/$ATPID 2>/dev/null)"
check if_no_qdisc_marker_left "" "$(ls /run/alerttrace/qdisc.$nsino.$ifx 2>/dev/null)"
check if_nothing_on_the_peer "0 0" "$(our $B b0) $(clsacts $B b0)"

# ---- textfile ----
S=at_fws_$$
ip netns add $S && AT_NETNS+=($S) && ip -n $S link set lo up
mkdir -p "$T/prom"
nsstart tf $S --no-lib -i lo --textfile "$T/prom/at.prom" || exit 1
wait_for "$T/prom/at.prom" alerttrace_build_info 5 && pass tf_written || fail tf_written "no file"
rm -rf "$T/prom"
sleep 4.5
kill -0 $ATPID 2>/dev/null && pass tf_tracer_runs_on || fail tf_tracer_runs_on "it exited"
check tf_one_error_line_for_a_missing_directory 1 "$(grep -c "cannot write metrics file" "$T/tf.at.err")"
mkdir -p "$T/prom"
wait_for "$T/prom/at.prom" alerttrace_build_info 5 && pass tf_written_again || fail tf_written_again "no file"
sleep 1.5
check tf_recovery_said_once 1 "$(grep -c "written again" "$T/tf.at.err")"
at_stop tf
check tf_still_one_error_line 1 "$(grep -c "cannot write metrics file" "$T/tf.at.err")"

# ---- sigkill ----
K=at_fwk_$$
ip netns add $K && AT_NETNS+=($K) && ip -n $K link set lo up
devs=(lo)
for i in 0 1 2 3 4 5; do
	ip -n $K link add x$i type veth peer name y$i && ip -n $K link set x$i up && ip -n $K link set y$i up
	devs+=(x$i y$i)
done
# The foreign qdisc and classic-BPF filter on x0.
tc -n $K qdisc add dev x0 clsact
tc -n $K filter add dev x0 ingress prio 10 handle 7 bpf bytecode '1,6 0 0 4294967295,'
foreign() { tc -n $K filter show dev x0 ingress | grep -c 'handle 0x7 .*bytecode'; }
all=$(IFS=,; echo "${devs[*]}")
partial=
for try in 1 2 3 4 5 6; do
	ip netns exec $K "$AT" --no-lib -i "$all" >"$T/k$try.out" 2>"$T/k$try.err" &
	kp=$!
	for _ in $(seq 1 2000); do tc -n $K filter show dev lo ingress | grep -q at_tc_ && break; done
	kill -KILL $kp; wait $kp 2>/dev/null
	n=$(our $K "${devs[@]}")
	if [ "$n" -gt 0 ] && [ "$n" -lt 26 ] && ! grep -q Tracing "$T/k$try.err" &&
	   [ -e /run/alerttrace/$kp ]; then
		partial="$n filters, $(clsacts $K "${devs[@]}") qdiscs"
		break
	fi
	ip netns exec $K "$AT" --cleanup 2>/dev/null
done
[ -n "$partial" ] && pass "sk_killed_mid_attach ($partial left, try $try)" ||
	fail sk_killed_mid_attach "6 tries: each killed before the first filter or after the last"
nsstart sk $K --no-lib -i x1 || exit 1
check sk_next_start_leaves_only_its_own "2 2" "$(our $K "${devs[@]}") $(our $K x1)"
check sk_stale_qdiscs_removed "2" "$(clsacts $K "${devs[@]}")" # x1 (its own) and x0 (foreign)
check sk_stale_record_removed "" "$(ls /run/alerttrace/$kp 2>/dev/null)"
check sk_foreign_filter_survives 1 "$(foreign)"
grep -q 'stale alerttrace filter' "$T/sk.at.err" && pass sk_cleanup_said ||
	fail sk_cleanup_said "$(head -3 "$T/sk.at.err")"
at_stop sk
check sk_stop_leaves_only_the_foreign "0 1 1" "$(our $K "${devs[@]}") $(clsacts $K "${devs[@]}") $(foreign)"
# A tracer killed after its qdisc marker and before the qdisc: the next clean-up drops the marker
# and creates nothing.
kns=$(ip netns exec $K stat -L -c %i /proc/self/ns/net)
y5=$(ip netns exec $K cat /sys/class/net/y5/ifindex)
: >/run/alerttrace/qdisc.$kns.$y5
ip netns exec $K "$AT" --cleanup >/dev/null 2>&1
check sk_marker_without_qdisc_dropped "0 " "$(clsacts $K y5) $(ls /run/alerttrace/qdisc.$kns.$y5 2>/dev/null)"

# ---- two ----
W=at_fww_$$
ip netns add $W && AT_NETNS+=($W) && ip -n $W link set lo up
P1=$(port_block 2) P2=$((P1 + 1))
nsstart two1 $W --no-lib -j -i lo --sent --port $P1 || exit 1
T1=$ATPID
nsstart two2 $W --no-lib -j -i lo --received --port $P2 || exit 1
T2=$ATPID
check two_both_attached 4 "$(our $W lo)"
round two_p1 $W $W 127.0.0.1 $P1
round two_p2 $W $W 127.0.0.1 $P2
sleep 0.5
ATPID=$T1 at_stop two1
ATPID=$T2 at_stop two2
n1=$(grep -c '"source"' "$T/two1.at") n2=$(grep -c '"source"' "$T/two2.at")
check two_sent_p1_tracer_saw_only_that "1 1" "$(wire x "$T/two1.at" sent $P1) $n1"
check two_received_p2_tracer_saw_only_that "1 1" "$(wire x "$T/two2.at" received $P2) $n2"
check two_nothing_left "0 0" "$(our $W lo) $(clsacts $W lo)"
check two_no_records_left "" "$(ls /run/alerttrace/$T1 /run/alerttrace/$T2 2>/dev/null)"
