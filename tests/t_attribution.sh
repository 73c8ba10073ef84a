#!/bin/bash
# Attribution of wire events: openssl s_server in one network namespace, s_client in another,
# joined by veth; one tracer on each end (a0 on the server's side, b0 on the client's). Every
# wire event must name the process whose socket it crossed: the s_client pid for what the client
# sent and received, the s_server pid for the server's side. Cases: an IPv4-only listener; a
# listener on [::] (s_server's default, v6only off) accepting IPv4, receiving and sending; IPv6;
# a server started before the tracers (alerttrace reads the owners of existing sockets from
# /proc); a server in a third namespace listening on the same port, started later, which must not
# take over our server's events; and an alert record in a segment that no socket sent or
# receives (a packet socket writes it): its owner cannot be known, and alerttrace must say so:
# pid null in JSON, "[no owner]" in text, "[unknown owner]" in the -H printout. On the client's
# tracer (library hooks on) the unknown_ca the client sends is seen by both sources: the stream
# must mark the pair with same_as.
#
# The judge: the pids are those of the processes the test started; which alert happened comes
# from the peers' own output ("SSL alert number 48", "verify error").
. "$(dirname "$0")/lib/common.sh"
need_root attribution
command -v openssl >/dev/null || { fail attribution_tools "openssl not found"; exit 1; }
[ -x "$AT" ] || { fail attribution_build "no $AT: run make"; exit 1; }
PY=/usr/bin/python3
[ -x $PY ] || PY=$(command -v python3)
SRV=at_attr_s_$$ CLI=at_attr_c_$$ OTH=at_attr_o_$$
netns_pair $SRV $CLI 10.78.0.1 10.78.0.2 || { fail netns_setup "cannot create namespaces"; exit 1; }
ip netns add $OTH && AT_NETNS+=("$OTH") && ip -n $OTH link set lo up ||
	{ fail netns_setup "cannot create a third namespace"; exit 1; }
make_certs "$T/c" || { fail certs "openssl could not make test certificates"; exit 1; }
C=$T/c
Q=$(( 4500 + (RANDOM % 50) * 10 ))

# server NAME PORT FLAGS...: s_server in $SRV; pid in $SPID, output $T/NAME.srv
server() {
	local name=$1 port=$2
	shift 2
	# -WWW: the server does not read its stdin, so /dev/null does not end it.
	ip netns exec $SRV openssl s_server -WWW -accept "$port" -cert $C/server.pem \
		-key $C/server.key "$@" </dev/null >"$T/$name.srv" 2>&1 &
	SPID=$!
	AT_PIDS+=("$SPID")
	wait_for "$T/$name.srv" ACCEPT 10 || fail "${name}_server" "s_server did not start: $(cat "$T/$name.srv")"
}

# client NAME ADDR:PORT FLAGS...: s_client in $CLI; pid in $CPID, output $T/NAME.cli
client() {
	local name=$1 addr=$2
	shift 2
	# Not under timeout(1): $! must be s_client itself. A watchdog ends a client that hangs.
	(echo; sleep 1) | ip netns exec $CLI openssl s_client -connect "$addr" \
		-servername server "$@" >"$T/$name.cli" 2>&1 &
	CPID=$!
	( sleep 10; kill $CPID 2>/dev/null ) &
	local wd=$!
	wait $CPID
	kill $wd 2>/dev/null; wait $wd 2>/dev/null
}

# The server of case 5 starts before any tracer.
server early $((Q + 5)) -tls1_2
EARLY_SPID=$SPID

bg ip netns exec $SRV "$AT" --no-lib -j -i a0 >"$T/srv_json.out" 2>"$T/srv_json.err"; AS_J=$!
bg ip netns exec $SRV "$AT" --no-lib -i a0 >"$T/srv_text.out" 2>"$T/srv_text.err"; AS_T=$!
bg ip netns exec $SRV "$AT" --no-lib -H -P -i a0 >"$T/srv_hist.out" 2>"$T/srv_hist.err"; AS_H=$!
bg ip netns exec $CLI "$AT" -j -i b0 >"$T/cli_json.out" 2>"$T/cli_json.err"; AC_J=$!
for f in srv_json srv_text srv_hist cli_json; do
	wait_for "$T/$f.err" "Tracing TLS alerts" 20 ||
		{ fail "${f}_start" "no 'Tracing' line: $(tail -3 "$T/$f.err")"; exit 1; }
done

declare -A SP CP
# 1: IPv4-only listener; the client sends unknown_ca.
server v4 $((Q + 1)) -4 -tls1_2; SP[v4]=$SPID
client v4 10.78.0.1:$((Q + 1)) -tls1_2 -verify_return_error -CAfile $C/other-ca.pem; CP[v4]=$CPID
# 2: listener on [::] with v6only off, IPv4 client; the server sends protocol_version.
server dual_sent $((Q + 2)) -tls1_3; SP[dual_sent]=$SPID
client dual_sent 10.78.0.1:$((Q + 2)) -tls1_2; CP[dual_sent]=$CPID
# 3: the same kind of listener; the IPv4 client sends unknown_ca.
server dual_recv $((Q + 3)) -tls1_2; SP[dual_recv]=$SPID
client dual_recv 10.78.0.1:$((Q + 3)) -tls1_2 -verify_return_error -CAfile $C/other-ca.pem
CP[dual_recv]=$CPID
# 4: IPv6 end to end; the client sends unknown_ca.
server v6 $((Q + 4)) -tls1_2; SP[v6]=$SPID
client v6 "[fd00:77::1]:$((Q + 4))" -tls1_2 -verify_return_error -CAfile $C/other-ca.pem
CP[v6]=$CPID
# 5: the server that listened before the tracers started (its owner is read from /proc).
SP[early]=$EARLY_SPID
client early 10.78.0.1:$((Q + 5)) -tls1_2 -verify_return_error -CAfile $C/other-ca.pem
CP[early]=$CPID
# 6: a server in another namespace listens on the same port, the same way, after ours did.
server samport $((Q + 6)) -tls1_2; SP[samport]=$SPID
ip netns exec $OTH openssl s_server -WWW -accept $((Q + 6)) -cert $C/server.pem \
	-key $C/server.key </dev/null >"$T/other.srv" 2>&1 &
OTHER_PID=$!
AT_PIDS+=("$OTHER_PID")
wait_for "$T/other.srv" ACCEPT 10 || fail samport_other "the other server did not start"
client samport 10.78.0.1:$((Q + 6)) -tls1_2 -verify_return_error -CAfile $C/other-ca.pem
CP[samport]=$CPID
# 7: an alert record in a TCP segment that no socket sent and none receives: a packet socket
# writes it on b0, to a port where nothing listens. Nobody owns it, on either side.
ip netns exec $CLI $PY "$TOP/tests/fixtures/inject_alert.py" b0 \
	"$(ip netns exec $SRV cat /sys/class/net/a0/address)" 10.78.0.2 10.78.0.1 40007 $((Q + 7)) \
	>"$T/inject.out" 2>&1 || fail noowner_inject "$(cat "$T/inject.out")"
sleep 0.5
for p in "${SP[@]}" $OTHER_PID; do kill $p 2>/dev/null; done
for p in $AS_J $AS_T $AS_H $AC_J; do kill -INT $p; done
for a in srv_json:$AS_J srv_text:$AS_T srv_hist:$AS_H cli_json:$AC_J; do
	wait ${a#*:}; rc=$?
	[ $rc = 0 ] || fail "${a%%:*}_exit" "expected status 0 after SIGINT, got $rc"
done

# The peers' account of each case.
for c in v4 dual_recv v6 early samport; do
	grep -q "SSL alert number 48" "$T/$c.srv" && grep -q "verify error" "$T/$c.cli" &&
		pass "workload_${c}_client_sent_unknown_ca" ||
		fail "workload_${c}_client_sent_unknown_ca" "expected the server to report alert 48 and the client a verify error: $(grep -h 'alert\|error' "$T/$c.srv" "$T/$c.cli" | head -3)"
done
grep -q "SSL alert number" "$T/other.srv" &&
	fail workload_samport_other_server_got_nothing "expected no alert at the other namespace's server, got: $(grep -m1 alert "$T/other.srv")" ||
	pass workload_samport_other_server_got_nothing
grep -q "SSL alert number 70" "$T/dual_sent.cli" && pass workload_dual_sent_server_sent_protocol_version ||
	fail workload_dual_sent_server_sent_protocol_version "expected the client to report alert 70: $(grep -h alert "$T/dual_sent.cli" | head -2)"

# wire FILE PORT DIRECTION: "CODE PID" of each wire event on connections to PORT.
wire() {
	$PY - "$@" <<'EOF'
import json, sys
path, port, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = []
for l in open(path):
    if not l.startswith("{"):
        continue
    e = json.loads(l)
    if e.get("source") == "wire" and port in (e["sport"], e["dport"]) and e["direction"] == d:
        out.append("%s %s" % (e["code"], "null" if e["pid"] is None else e["pid"]))
print(";".join(out) or "none")
EOF
}
Q1=$((Q + 1)) Q2=$((Q + 2)) Q3=$((Q + 3)) Q4=$((Q + 4)) Q5=$((Q + 5)) Q6=$((Q + 6))
check attr_v4_client_sent_is_s_client "48 ${CP[v4]}" "$(wire "$T/cli_json.out" $Q1 sent)"
check attr_v4_server_received_is_s_server "48 ${SP[v4]}" "$(wire "$T/srv_json.out" $Q1 received)"
check attr_dual_stack_server_sent_is_s_server "70 ${SP[dual_sent]}" "$(wire "$T/srv_json.out" $Q2 sent)"
check attr_dual_stack_client_received_is_s_client "70 ${CP[dual_sent]}" \
	"$(wire "$T/cli_json.out" $Q2 received)"
check attr_dual_stack_server_received_is_s_server "48 ${SP[dual_recv]}" \
	"$(wire "$T/srv_json.out" $Q3 received)"
check attr_dual_stack_client_sent_is_s_client "48 ${CP[dual_recv]}" "$(wire "$T/cli_json.out" $Q3 sent)"
check attr_v6_client_sent_is_s_client "48 ${CP[v6]}" "$(wire "$T/cli_json.out" $Q4 sent)"
check attr_v6_server_received_is_s_server "48 ${SP[v6]}" "$(wire "$T/srv_json.out" $Q4 received)"
check attr_started_before_client_sent_is_s_client "48 ${CP[early]}" "$(wire "$T/cli_json.out" $Q5 sent)"
check attr_started_before_server_received_is_s_server "48 ${SP[early]}" \
	"$(wire "$T/srv_json.out" $Q5 received)"
check attr_same_port_other_netns_keeps_owner "48 ${SP[samport]}" "$(wire "$T/srv_json.out" $Q6 received)"
Q7=$((Q + 7))
check attr_no_owner_is_null_in_json_received "40 null" "$(wire "$T/srv_json.out" $Q7 received)"
check attr_no_owner_is_null_in_json_sent "40 null" "$(wire "$T/cli_json.out" $Q7 sent)"
line=$(grep -E "handshake_failure.* > 10\.78\.0\.1:$Q7\b" "$T/srv_text.out" | head -1)
if [[ "$line" =~ recv\ +fatal\ +handshake_failure\(40\)\ +-\ +\[no\ owner\] ]]; then
	pass attr_no_owner_text_says_no_owner
else
	fail attr_no_owner_text_says_no_owner "expected 'recv fatal handshake_failure(40) - [no owner]', got '$line'"
fi
check attr_no_owner_hist_row "[unknown owner]: sent 0, received 1" \
	"$(grep '^\[unknown owner\]' "$T/srv_hist.out")"

# same_as: the client's unknown_ca of case 1 is one alert seen by both sources.
$PY - "$T/cli_json.out" "${CP[v4]}" $Q1 <<'EOF'
import json, sys
path, pid, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
evs = [json.loads(l) for l in open(path) if l.startswith("{")]
mine = [e for e in evs if e.get("pid") == pid and e.get("code") == 48 and e["direction"] == "sent"]
by_id = {e["id"]: e for e in evs}
lib = [e for e in mine if e["source"] == "openssl"]
wire = [e for e in mine if e["source"] == "wire"]
name = "attr_same_as_marks_library_and_wire_pair"
if len(lib) != 1 or len(wire) != 1:
    print("FAIL %s: expected 1 openssl and 1 wire unknown_ca sent by pid %d, got %d and %d"
          % (name, pid, len(lib), len(wire)))
    sys.exit(0)
l, w = lib[0], wire[0]
first, second = (l, w) if l["id"] < w["id"] else (w, l)
if second["same_as"] == first["id"] and first["same_as"] is None:
    print("PASS %s: #%d %s same_as #%d %s" % (name, second["id"], second["source"], first["id"],
                                              first["source"]))
else:
    print("FAIL %s: expected the later of #%d/#%d to have same_as the earlier and the earlier "
          "null, got same_as %s and %s" % (name, first["id"], second["id"], first["same_as"],
                                           second["same_as"]))
# The library event learns the connection from its wire twin.
got = (l.get("sport"), l.get("dport"))
exp = (w["sport"], w["dport"])
print(("PASS %s_ports" % name) if got == exp and w["dport"] == port else
      "FAIL %s_ports: expected the library event's sport,dport %s, got %s" % (name, exp, got))
# The server's library events (same alert, other end) have no wire twin in this namespace.
srv = [e for e in evs if e["source"] == "openssl" and e["direction"] == "received"
       and e.get("code") == 48 and e.get("comm") == "openssl" and e["same_as"] is not None
       and by_id.get(e["same_as"], {}).get("pid") != e["pid"]]
print("PASS attr_same_as_never_pairs_two_processes" if not srv else
      "FAIL attr_same_as_never_pairs_two_processes: expected none, got %d" % len(srv))
EOF
if [ -n "${VERBOSE:-}" ]; then
	echo "servers: $(for k in "${!SP[@]}"; do echo -n "$k=${SP[$k]} "; done) clients: $(for k in "${!CP[@]}"; do echo -n "$k=${CP[$k]} "; done) other=$OTHER_PID"
	cat "$T"/srv_text.out "$T"/srv_hist.out
fi
