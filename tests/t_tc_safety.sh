#!/bin/bash
# Attach safety on a production host: a foreign clsact qdisc and filter survive our start and stop;
# a qdisc we created is removed at stop; after SIGKILL, the next start and --cleanup remove every
# alerttrace filter (and the qdisc the killed tracer created); two tracers do not touch each other.
. "$(dirname "$0")/lib/common.sh"
need_root tc_safety
NS=at_safe
ip netns del $NS 2>/dev/null; ip netns add $NS && AT_NETNS+=($NS)
ip -n $NS link add v0 type veth peer name v1 && ip -n $NS link set v0 up && ip -n $NS link set v1 up
ip -n $NS link set lo up

nsx() { ip netns exec $NS "$@"; }
our_filters() { { tc -n $NS filter show dev $1 ingress; tc -n $NS filter show dev $1 egress; } |
	grep -c 'at_tc_'; }
foreign() { tc -n $NS filter show dev v0 ingress | grep -c 'handle 0x7 .*bytecode'; }
has_clsact() { tc -n $NS qdisc show dev $1 | grep -c clsact; }
start() { # start NAME ARGS...: alerttrace in the namespace, ready when it says so
	local name=$1; shift
	bg ip netns exec $NS "$AT" --no-lib "$@" >"$T/$name.out" 2>"$T/$name.err"
	wait_for "$T/$name.err" "Tracing TLS alerts" 15 || fail "$name" "did not start: $(cat $T/$name.err)"
}

# A foreign qdisc with a foreign (classic BPF) filter on v0; nothing on v1.
tc -n $NS qdisc add dev v0 clsact
tc -n $NS filter add dev v0 ingress prio 10 handle 7 bpf bytecode '1,6 0 0 4294967295,'

start s1 -i v0,v1; P1=$!
check start_attaches_to_both_ifaces "2 2" "$(our_filters v0) $(our_filters v1)"
check start_created_clsact_on_v1 1 "$(has_clsact v1)"
kill -INT $P1; wait $P1; rc=$?
check sigint_exit_status_0 0 $rc
check sigint_removes_our_filters "0 0" "$(our_filters v0) $(our_filters v1)"
check foreign_filter_survives 1 "$(foreign)"
check foreign_qdisc_survives 1 "$(has_clsact v0)"
check our_qdisc_removed_on_v1 0 "$(has_clsact v1)"

# SIGKILL leaves filters; the next start cleans them before attaching its own.
start s2 -i v0,v1; P2=$!
kill -KILL $P2; wait $P2 2>/dev/null
check sigkill_leaves_filters "2 2" "$(our_filters v0) $(our_filters v1)"
start s3 -i v0; P3=$!
check next_start_removes_stale "2 0" "$(our_filters v0) $(our_filters v1)"
check next_start_removes_stale_qdisc_on_v1 0 "$(has_clsact v1)"
grep -q 'stale' "$T/s3.err" && pass next_start_reports_cleanup || fail next_start_reports_cleanup "$(cat $T/s3.err)"
# A second live tracer on the same interface: both attached, stopping one keeps the other.
start s4 -i v0; P4=$!
check two_tracers_both_attached 4 "$(our_filters v0)"
kill -INT $P4; wait $P4
check stopping_one_keeps_the_other 2 "$(our_filters v0)"
kill -KILL $P3; wait $P3 2>/dev/null

# Tracers started at the same moment each get their own priority (no "File exists").
for i in 1 2 3 4; do
	bg ip netns exec $NS "$AT" --no-lib -i v1 >"$T/c$i.out" 2>"$T/c$i.err"
	CP[$i]=$!
done
ok=0
for i in 1 2 3 4; do wait_for "$T/c$i.err" "Tracing TLS alerts" 15 && ok=$((ok + 1)); done
check four_simultaneous_starts_all_attach "4 8" "$ok $(our_filters v1)"
for i in 1 2 3 4; do kill -INT ${CP[$i]}; done
for i in 1 2 3 4; do wait ${CP[$i]}; done
check four_simultaneous_stops_leave_nothing "0 0" "$(our_filters v1) $(has_clsact v1)"

# The tracer that created the qdisc leaves first: the qdisc stays for the other, whose stop
# removes it.
start k1 -i v1; K1=$!
start k2 -i v1; K2=$!
kill -INT $K1; wait $K1
check creator_leaves_first_qdisc_stays_for_the_other "1 2" "$(has_clsact v1) $(our_filters v1)"
kill -INT $K2; wait $K2
check last_tracer_removes_the_created_qdisc "0 0" "$(has_clsact v1) $(our_filters v1)"

# --cleanup removes what the killed tracer left.
nsx "$AT" --cleanup 2>"$T/cleanup.err"; rc=$?
check cleanup_exit_status_0 0 $rc
check cleanup_removes_all "0 0" "$(our_filters v0) $(our_filters v1)"
check cleanup_keeps_foreign_filter 1 "$(foreign)"
check cleanup_keeps_foreign_qdisc 1 "$(has_clsact v0)"
# Records of dead tracers, and qdisc markers of this namespace (other tracers on the host keep
# theirs in their own namespaces).
nsino=$(nsx stat -L -c %i /proc/self/ns/net)
check no_state_left "" "$(ls /run/alerttrace 2>/dev/null | while read f; do
	case $f in qdisc.$nsino.*) echo $f ;; qdisc.*) ;; *) [ -d /proc/$f ] || echo $f ;; esac
done)"
