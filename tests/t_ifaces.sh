#!/bin/bash
# Interfaces that come and go, and devices without an Ethernet header, each case in network
# namespaces of its own. What is attached is judged by tc's own listing and /run/alerttrace,
# alerts by the peers' own output (openssl's "alert number 70"; the bytes tun_peer.py read from
# and wrote to its tun), timing by polling tc from the moment the device was made.
#  pattern:  -i 'veth*' with no veth at start: the tracer says so and runs on; a veth made later
#            is attached within a second, its alerts reported; one that carried a foreign clsact
#            qdisc and filter when renamed into the pattern is attached and, renamed out, let go
#            with the foreign ones intact; renamed out, in and deleted: detached each time,
#            nothing of ours left (filters, qdisc, marker, record line); interface JSON objects.
#  all:      -i all attaches lo at start, a veth pair made later within a second, and reports a
#            device of another link type (a tun set to ARPHRD_IEEE80211) as skipped.
#  default:  no -i: lo only while there is no default route; a default route added through a veth
#            attaches it within a second, its removal lets it go.
#  sigkill:  a following tracer SIGKILLed with three late veths attached: the next start removes
#            every filter, qdisc and record it left.
#  burst:    100 veth pairs made and deleted in one batch each: all 200 attached and let go.
#  tun:      -i 'tun*' on a tun made after start (IFF_TUN, no link-layer header): the alert a
#            local client sends and the one written back to it, IPv4 and IPv6, reported with the
#            client's pid, as the bytes read from the tun and received by the client say.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/fixtures/lib_path.sh"
. "$TOP/tests/lib/wire.sh"
need_root ifaces
test_prologue ifaces openssl python3 tc ip
TUNPEER="$TOP/tests/fixtures/tun_peer.py"

# within NAME SECONDS WANT CMD...: CMD prints WANT within SECONDS (polled every 50 ms).
within() {
	local name=$1 secs=$2 want=$3 got i
	shift 3
	for i in $(seq 1 $((secs * 20))); do
		got=$("$@")
		[ "$got" = "$want" ] && { pass "$name"; return 0; }
		sleep 0.05
	done
	fail "$name" "expected '$want' within ${secs}s, got '$got'"
}
# ifev FILE IFNAME EVENT: the interface objects for IFNAME with EVENT, as
# "ifindex link_type header reason" lines.
ifev() {
	python3 - "$@" <<'EOF'
import json, sys
for l in open(sys.argv[1]):
    if l.startswith("{"):
        e = json.loads(l)
        if e.get("type") == "interface" and e["ifname"] == sys.argv[2] and e["event"] == sys.argv[3]:
            assert isinstance(e["ts"], int)
            print(e["ifindex"], e["link_type"], e["header"], e["reason"])
EOF
}
wire() {
	python3 - "$@" <<'EOF'
import json, sys
n = 0
for l in open(sys.argv[1]):
    if l.startswith("{"):
        e = json.loads(l)
        n += (e.get("source") == "wire" and e.get("ifname") == sys.argv[2] and
              e.get("code") == int(sys.argv[3]) and e.get("direction") == sys.argv[4] and
              (len(sys.argv) < 6 or e.get("pid") == int(sys.argv[5])) and
              (len(sys.argv) < 7 or (":" in e.get("saddr", "")) == (sys.argv[6] == "v6")))
print(n)
EOF
}
links_of() { grep -c '^link ' "/run/alerttrace/$1" 2>/dev/null; }
nsino() { ip netns exec "$1" stat -L -c %i /proc/self/ns/net; }

# ---- pattern ----
A=at_ifa_$$ B=at_ifb_$$
for n in $A $B; do ip netns add $n && AT_NETNS+=($n) && ip -n $n link set lo up; done
# A device with a foreign clsact qdisc and classic-BPF filter, named out of the pattern for now.
ip -n $A link add fx0 type veth peer name fy0
tc -n $A qdisc add dev fx0 clsact
tc -n $A filter add dev fx0 ingress prio 10 handle 7 bpf bytecode '1,6 0 0 4294967295,'
foreign() { tc -n $A filter show dev "$1" ingress | grep -c 'handle 0x7 .*bytecode'; }
P=$(port_block 1)
nsstart pat $A --no-lib -j -i 'veth*' || exit 1
PAT=$ATPID
grep -q "no interface matches 'veth\*' yet" "$T/pat.at.err" && pass pat_says_nothing_matches_yet ||
	fail pat_says_nothing_matches_yet "$(head -3 "$T/pat.at.err")"
check pat_nothing_attached_at_start "0 0" "$(our $A lo fx0 fy0) $(links_of $PAT)"
ip link add vethA netns $A type veth peer name b0 netns $B
within pat_new_veth_attached_within_1s 1 2 our $A vethA
ip -n $A addr add 10.78.1.1/24 dev vethA && ip -n $A link set vethA up
ip -n $B addr add 10.78.1.2/24 dev b0 && ip -n $B link set b0 up
sleep 1.5 # carrier
round pat_alert $B $A 10.78.1.2 $P
sleep 0.3
check pat_alert_reported_on_the_late_veth 1 "$(wire "$T/pat.at" vethA 70 received)"
ixA=$(ip netns exec $A cat /sys/class/net/vethA/ifindex)
check pat_attached_object "$ixA 1 ethernet matches -i pattern 'veth*'" "$(ifev "$T/pat.at.err" vethA attached)"
check pat_record_lists_it 1 "$(grep -c "^link $ixA " /run/alerttrace/$PAT)"
ip -n $A link set vethA name other0
within pat_renamed_out_detached_within_1s 1 "0 0" eval 'echo "$(our $A other0) $(clsacts $A other0)"'
check pat_renamed_out_record 0 "$(links_of $PAT)"
check pat_renamed_out_marker_gone "" "$(ls /run/alerttrace/qdisc.$(nsino $A).$ixA 2>/dev/null)"
check pat_detached_object "$ixA 1 ethernet renamed from vethA to a name -i does not match" \
	"$(ifev "$T/pat.at.err" other0 detached)"
ip -n $A link set other0 name vethZ
within pat_renamed_in_attached_within_1s 1 2 our $A vethZ
ip -n $A link del vethZ
within pat_deleted_record_empty 1 0 links_of $PAT
check pat_deleted_marker_gone "" "$(ls /run/alerttrace/qdisc.$(nsino $A).$ixA 2>/dev/null)"
check pat_deleted_object "$ixA" "$(ifev "$T/pat.at.err" vethZ detached | cut -d' ' -f1)"
ixF=$(ip netns exec $A cat /sys/class/net/fx0/ifindex)
ip -n $A link set fx0 name vethF
within pat_foreign_qdisc_device_attached 1 "2 1" eval 'echo "$(our $A vethF) $(foreign vethF)"'
ip -n $A link set vethF name fx0
within pat_foreign_survives_detach 1 "0 1 1" eval 'echo "$(our $A fx0) $(foreign fx0) $(clsacts $A fx0)"'
kill -0 $PAT 2>/dev/null && pass pat_tracer_runs_on || fail pat_tracer_runs_on "it exited"
at_stop pat
check pat_no_error_lines 0 "$(grep -c '"error"' "$T/pat.at.err")"
check pat_nothing_left "0 1 " "$(our $A lo fx0 fy0) $(foreign fx0) $(ls /run/alerttrace/$PAT 2>/dev/null)"

# ---- all ----
L=at_ifl_$$
ip netns add $L && AT_NETNS+=($L) && ip -n $L link set lo up
nsstart all $L --no-lib -j -i all || exit 1
ALL=$ATPID
check all_lo_at_start 2 "$(our $L lo)"
ip -n $L link add x0 type veth peer name x1
within all_late_pair_attached_within_1s 1 4 our $L x0 x1
exec 8> >(exec ip netns exec $L python3 "$TUNPEER" w0 801 >"$T/all.tun" 2>&1)
wait_for "$T/all.tun" ready 5
within all_other_link_type_skipped 1 "801 None" eval \
	'ifev "$T/all.at.err" w0 skipped | cut -d" " -f2,3'
ifev "$T/all.at.err" w0 skipped | grep -q "neither an Ethernet nor an IP header" &&
	pass all_skipped_reason || fail all_skipped_reason "$(ifev "$T/all.at.err" w0 skipped)"
check all_skipped_not_attached 0 "$(our $L w0)"
exec 8>&-
at_stop all
check all_nothing_left "0 " "$(our $L lo x0 x1) $(ls /run/alerttrace/$ALL 2>/dev/null)"

# ---- default ----
D=at_ifd_$$ E=at_ife_$$
netns_pair $D $E 10.79.1.1 10.79.1.2 || { fail default_netns "cannot make the veth pair"; exit 1; }
nsstart dflt $D --no-lib -j || exit 1
check dflt_lo_only_without_default_route "2 0" "$(our $D lo) $(our $D a0)"
ip -n $D route add default via 10.79.1.2 dev a0
within dflt_route_added_attached_within_1s 1 2 our $D a0
ifev "$T/dflt.at.err" a0 attached | grep -q "default route" && pass dflt_attached_reason ||
	fail dflt_attached_reason "$(ifev "$T/dflt.at.err" a0 attached)"
ip -n $D route del default
within dflt_route_removed_detached_within_1s 1 "0 0" eval 'echo "$(our $D a0) $(clsacts $D a0)"'
ifev "$T/dflt.at.err" a0 detached | grep -q "no default route" && pass dflt_detached_reason ||
	fail dflt_detached_reason "$(ifev "$T/dflt.at.err" a0 detached)"
at_stop dflt

# ---- sigkill ----
K=at_ifk_$$
ip netns add $K && AT_NETNS+=($K) && ip -n $K link set lo up
ip netns exec $K "$AT" --no-lib -i 'k*' >"$T/k.out" 2>"$T/k.err" &
KP=$!
AT_PIDS+=($KP)
wait_for "$T/k.err" "Tracing TLS alerts" 20
for i in 0 1 2; do ip -n $K link add k$i type veth peer name p$i; done
within sk_three_late_attached 2 6 our $K k0 k1 k2
kill -KILL $KP; wait $KP 2>/dev/null
check sk_killed_left_them 6 "$(our $K k0 k1 k2)"
nsstart sk $K --no-lib -i lo || exit 1
check sk_next_start_removed_all "0 0 0 0" \
	"$(our $K k0 k1 k2) $(clsacts $K k0) $(clsacts $K k1) $(clsacts $K k2)"
check sk_record_removed "" "$(ls /run/alerttrace/$KP 2>/dev/null)"
at_stop sk
check sk_nothing_left "0 0" "$(our $K lo) $(ls /run/alerttrace/ | grep -c "^qdisc\.$(nsino $K)\.")"

# ---- burst ----
# 100 veth pairs made in one batch (a container host starting many at once): every one attached,
# none lost to the notification socket's buffer, and all let go when deleted in one batch.
Q=at_ifq_$$
ip netns add $Q && AT_NETNS+=($Q) && ip -n $Q link set lo up
nsstart burst $Q --no-lib -i 'q*' || exit 1
for i in $(seq 1 100); do echo "link add qa$i type veth peer name qb$i"; done >"$T/add.batch"
ip -n $Q -batch "$T/add.batch"
within burst_all_200_recorded 20 200 links_of $ATPID
check burst_first_and_last_attached 4 "$(our $Q qa1 qb100)"
sed 's/^link add \(qa[0-9]*\).*/link del \1/' "$T/add.batch" >"$T/del.batch"
ip -n $Q -batch "$T/del.batch"
within burst_all_let_go 30 0 links_of $ATPID
check burst_said_each 200 "$(grep -c ': attached: ' "$T/burst.at.err")"
at_stop burst

# ---- tun ----
U=at_ifu_$$
ip netns add $U && AT_NETNS+=($U) && ip -n $U link set lo up
nsstart tun $U --no-lib -j -i 'tun*' || exit 1
exec 9> >(exec ip netns exec $U python3 "$TUNPEER" tun5 >"$T/tun.peer" 2>&1)
wait_for "$T/tun.peer" ready 5 || fail tun_peer_ready "$(tail -3 "$T/tun.peer")"
within tun_attached_within_1s 1 2 our $U tun5
echo go >&9
wait_for "$T/tun.peer" "client-recv v6" 15 || fail tun_peer_exchange "$(tail -3 "$T/tun.peer")"
TP=$(awk '/^tun-read v4/ {print $3}' "$T/tun.peer")
for v in v4 v6; do
	check tun_${v}_peer_read_the_sent_alert 15030300020228 "$(awk "/^tun-read $v/ {print \$4}" "$T/tun.peer")"
	check tun_${v}_client_received_the_alert 15030300020230 "$(awk "/^client-recv $v/ {print \$4}" "$T/tun.peer")"
done
sleep 0.3
for v in v4 v6; do
	check tun_${v}_sent_reported_with_the_client_pid 1 "$(wire "$T/tun.at" tun5 40 sent "$TP" $v)"
	check tun_${v}_received_reported_with_the_client_pid 1 "$(wire "$T/tun.at" tun5 48 received "$TP" $v)"
done
ixU=$(ip netns exec $U cat /sys/class/net/tun5/ifindex)
check tun_attached_object "$ixU 65534 ip" "$(ifev "$T/tun.at.err" tun5 attached | cut -d' ' -f1-3)"
exec 9>&-
within tun_gone_detached 2 "$ixU" eval 'ifev "$T/tun.at.err" tun5 detached | cut -d" " -f1'
at_stop tun
check tun_nothing_left "0 " "$(our $U lo) $(ls /run/alerttrace/$ATPID 2>/dev/null)"
