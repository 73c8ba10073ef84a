#!/bin/bash
# Containers' connections seen from the host: a server and a client, each in a network namespace
# of its own (S, C), joined through a bridge in a third (H) by veths whose host-side ends (hs,
# hc) are the bridge's ports. A tracer in H on hs and hc only: the sockets live in S and C, so
# the owners are looked up in the namespace at each port's far end (IFLA_LINK_NETNSID), and the
# direction is that namespace's: what arrives on hs the server sent, what leaves hc the client
# received. s_server -tls1_3 against s_client -tls1_2 sends protocol_version (70), IPv4 and
# IPv6; witnesses: the peers' pids ($!, exec'd by ip netns exec) and the client's own
# "alert number 70". A second tracer run without CAP_SYS_ADMIN cannot enter S or C: it says so
# and its events have no owner (never a wrong one).
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/fixtures/lib_path.sh"
need_root netns_owner
test_prologue netns_owner openssl python3 ip tc
S=at_nos_$$ CL=at_noc_$$ H=at_noh_$$
for n in $S $CL $H; do ip netns add $n && AT_NETNS+=($n) && ip -n $n link set lo up ||
	{ fail netns_owner_netns "cannot make namespaces"; exit 1; }; done
ip -n $H link add br0 type bridge && ip -n $H link set br0 up &&
ip -n $H link add hs type veth peer name s0 netns $S &&
ip -n $H link add hc type veth peer name c0 netns $CL &&
ip -n $H link set hs master br0 && ip -n $H link set hc master br0 &&
ip -n $H link set hs up && ip -n $H link set hc up &&
ip -n $S addr add 10.77.5.1/24 dev s0 && ip -n $CL addr add 10.77.5.2/24 dev c0 &&
ip -n $S addr add fd00:75::1/64 dev s0 nodad && ip -n $CL addr add fd00:75::2/64 dev c0 nodad &&
ip -n $S link set s0 up && ip -n $CL link set c0 up ||
	{ fail netns_owner_topology "cannot build the bridge"; exit 1; }
P=$(port_block 2)

# tracer NAME PREFIX...: a tracer in H on the two ports, ready; pid in ATPID.
tracer() {
	local name=$1
	shift
	bg ip netns exec $H "$@" "$AT" --no-lib -j -i hs,hc >"$T/$name.at" 2>"$T/$name.at.err"
	ATPID=$!
	wait_for "$T/$name.at.err" "Tracing TLS alerts" 20 ||
		{ fail "${name}_tracer_start" "$(tail -3 "$T/$name.at.err")"; exit 1; }
}
# round NAME ADDR PORT: s_server in S, s_client in CL; pids in SPID, CPID.
round() {
	local name=$1 keep
	sleep 30 | ip netns exec $S openssl s_server -accept "$2:$3" -cert "$C/server.pem" \
		-key "$C/server.key" -tls1_3 >"$T/$name.srv" 2>&1 &
	SPID=$!
	keep=$(jobs -p %%)
	AT_PIDS+=("$SPID" "$keep")
	wait_for "$T/$name.srv" ACCEPT 10 || { fail "${name}_server" "$(tail -2 "$T/$name.srv")"; return 1; }
	sleep 0.3 | ip netns exec $CL openssl s_client -connect "$2:$3" -tls1_2 >"$T/$name.cli" 2>&1 &
	CPID=$!
	wait $CPID
	peer_said "$name" cli "alert number 70"
	kill "$SPID" "$keep" 2>/dev/null
	wait "$SPID" "$keep" 2>/dev/null
}

tracer own
round v4 10.77.5.1 $P; SP4=$SPID CP4=$CPID
round v6 "[fd00:75::1]" $((P + 1)); SP6=$SPID CP6=$CPID
sleep 0.5
kill -INT $ATPID; wait $ATPID; check own_tracer_exit_0 0 $?

# judge FILE IFNAME DIRECTION PORT -> "count pid"
judge() {
	python3 - "$@" <<'PY'
import json, sys
f, ifn, d, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ev = [json.loads(l) for l in open(f) if l.startswith("{")]
ev = [e for e in ev if e.get("source") == "wire" and e.get("ifname") == ifn and
      e.get("direction") == d and e.get("code") == 70 and port in (e.get("sport"), e.get("dport"))]
print(len(ev), " ".join(sorted({str(e.get("pid")) for e in ev})) or "-")
PY
}
check v4_server_sent_on_hs "1 $SP4" "$(judge "$T/own.at" hs sent $P)"
check v4_client_received_on_hc "1 $CP4" "$(judge "$T/own.at" hc received $P)"
check v6_server_sent_on_hs "1 $SP6" "$(judge "$T/own.at" hs sent $((P + 1)))"
check v6_client_received_on_hc "1 $CP6" "$(judge "$T/own.at" hc received $((P + 1)))"
check no_unowned_events 0 "$(grep -c '"pid":null' "$T/own.at")"

# Without CAP_SYS_ADMIN: the far namespaces cannot be entered.
tracer nocap setpriv --bounding-set=-sys_admin
grep -q "other network namespace.*CAP_SYS_ADMIN" "$T/nocap.at.err" && pass nocap_says_why ||
	fail nocap_says_why "$(grep -i namespace "$T/nocap.at.err" | head -2)"
round v4b 10.77.5.1 $P
sleep 0.5
kill -INT $ATPID; wait $ATPID
got=$(python3 -c "
import json, sys
ev = [json.loads(l) for l in open('$T/nocap.at') if l.startswith('{')]
ev = [e for e in ev if e.get('source') == 'wire' and e.get('code') == 70]
print(len(ev), sorted({str(e.get('pid')) for e in ev}))")
check nocap_events_without_a_wrong_owner "2 ['None']" "$got"
