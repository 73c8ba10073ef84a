#!/bin/bash
# Where: every library event carries its connection's ends, read from the session's socket at
# the alert, without the wire source (--no-wire), for each provider: openssl (s_server, and
# Python's ssl as a client), gnutls (gnutls-serv, gnutls-cli) and go (tests/fixtures/go/tlspeer as
# server and client), over IPv4 and IPv6 between two network namespaces. saddr/sport is the end
# that sent the alert. And --port filters library events in the kernel: `-H -P --no-wire --port P`
# counts the alerts of the connections to P and none of another server's.
#
# The judges: the client's ends as its own socket reports them (tests/fixtures/port_client.py);
# for the clients that do not print them (gnutls-cli, the Go client), the client port of the one
# SYN to that server port in tshark's capture; the alert each peer reports; the number of
# connections the test made.
. "$(dirname "$0")/lib/common.sh"
need_root lib_addrs
test_prologue lib_addrs python3 openssl gnutls-serv gnutls-cli tshark
SRV=at_la_s_$$ CLI=at_la_c_$$
netns_pair $SRV $CLI 10.80.0.1 10.80.0.2 ||
	{ fail lib_addrs_netns "cannot create namespaces"; exit 1; }
PCL="$TOP/tests/fixtures/port_client.py"
GOB=$(GO_VARIANTS=stripped "$TOP/tests/fixtures/go_build.sh" 1.19 2>"$T/gobuild.err" |
	awk '{ print $3 }')
GP=$GOB/tlspeer
[ -x "$GP" ] || { fail lib_addrs_go_build "no Go peer: $(tail -2 "$T/gobuild.err")"; exit 1; }
P=$(( 5700 + (RANDOM % 50) * 10 ))
OS=$((P + 1)) OS2=$((P + 2)) GT=$((P + 3)) GS=$((P + 4)) OG=$((P + 5)) OT=$((P + 6))

bg ip netns exec $CLI tshark -q -n -i b0 -w "$T/cap.pcapng" -f tcp 2>"$T/tshark.err"
TS=$!
bg "$AT" --no-wire -j --lib "$GP" >"$T/st.out" 2>"$T/st.err"
A_S=$!
bg "$AT" --no-wire -H -P -j --port $OS >"$T/h.out" 2>"$T/h.err"
A_H=$!
for f in st h; do
	wait_for "$T/$f.err" "Tracing TLS alerts" 30 ||
		{ fail lib_addrs_tracer_start "no 'Tracing' line: $(tail -3 "$T/$f.err")"; exit 1; }
done
wait_for "$T/tshark.err" "Capturing" 10

# srv NAME CMD...: a server in $SRV, its pid in SP[NAME]
declare -A SP CPID
srv() {
	local n=$1
	shift
	bg ip netns exec $SRV "$@" >"$T/srv.$n" 2>&1
	SP[$n]=$!
}
srv os openssl s_server -WWW -accept $OS -cert $C/server.pem -key $C/server.key -tls1_3
srv os2 openssl s_server -WWW -accept $OS2 -cert $C/server.pem -key $C/server.key -tls1_3
srv og openssl s_server -WWW -accept $OG -cert $C/server.pem -key $C/server.key -tls1_3
srv ot openssl s_server -WWW -accept $OT -cert $C/server.pem -key $C/server.key -tls1_3
srv gt gnutls-serv --x509certfile $C/server.pem --x509keyfile $C/server.key -p $GT \
	--priority NORMAL:-VERS-ALL:+VERS-TLS1.3
srv gs "$GP" -mode server -addr "[::]:$GS" -min 1.3 -cert $C/server.pem -key $C/server.key
for port in $OS $OS2 $OG $OT $GT $GS; do
	for i in $(seq 1 100); do
		ip netns exec $SRV ss -Htln | grep -q ":$port " && break
		sleep 0.05
	done
done

# cli NAME CMD...: a client in $CLI, waited for; its pid in CPID[NAME], its output in $T/cli.NAME
cli() {
	local n=$1
	shift
	ip netns exec $CLI "$@" >"$T/cli.$n" 2>&1 </dev/null &
	CPID[$n]=$!
	( sleep 10; kill ${CPID[$n]} 2>/dev/null ) &
	local wd=$!
	wait ${CPID[$n]}
	kill $wd 2>/dev/null
	wait $wd 2>/dev/null
}
for k in 1 2 3; do
	cli os4_$k python3 "$PCL" 10.80.0.1 $OS 1.2
	cli os6_$k python3 "$PCL" fd00:77::1 $OS 1.2
done
cli os2_1 python3 "$PCL" 10.80.0.1 $OS2 1.2
cli os2_2 python3 "$PCL" fd00:77::1 $OS2 1.2
cli gt4 python3 "$PCL" 10.80.0.1 $GT 1.2
cli gs6 python3 "$PCL" fd00:77::1 $GS 1.2
cli og4 "$GP" -mode client -addr 10.80.0.1:$OG -max 1.2
cli ot6 gnutls-cli --insecure -p $OT --priority NORMAL:-VERS-ALL:+VERS-TLS1.2 fd00:77::1
sleep 1.5
kill $A_S
kill -INT $A_H
wait $A_S $A_H 2>/dev/null
sleep 0.5
kill $TS
wait $TS 2>/dev/null

# The peers' own word on the alerts.
check lib_addrs_python_saw_protocol_version 8 \
	"$(cat "$T"/cli.os* | grep -c '^error.*\(PROTOCOL_VERSION\|protocol version\)')"
check lib_addrs_go_client_saw_protocol_version 1 \
	"$(grep -c 'remote error: tls: protocol version not supported' "$T/cli.og4")"
# Client ports of the clients that do not print them: their one SYN to that port.
for n in og4:$OG ot6:$OT; do
	port=$(tshark -n -r "$T/cap.pcapng" -T fields -e tcp.srcport \
		-Y "tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.dstport==${n#*:}" 2>/dev/null)
	check "lib_addrs_${n%%:*}_one_syn_captured" 1 "$(echo "$port" | grep -c .)"
	echo "$port" >"$T/port.${n%%:*}"
done

{
	for n in "${!CPID[@]}"; do echo "cli $n ${CPID[$n]}"; done
	for n in "${!SP[@]}"; do echo "srv $n ${SP[$n]}"; done
} >"$T/pids"
python3 - "$T" "$OS" "$OS2" "$GT" "$GS" "$OG" "$OT" <<'EOF'
import json, os, sys
T = sys.argv[1]
OS, OS2, GT, GS, OG, OT = map(int, sys.argv[2:8])
evs = [json.loads(l) for l in open(T + "/st.out") if l.startswith("{")]
pids = {}
for l in open(T + "/pids"):
    kind, name, pid = l.split()
    pids[name] = int(pid)

def check(name, exp, got):
    print(("PASS %s" % name) if exp == got else ("FAIL %s: expected %r, got %r" % (name, exp, got)))

def ends(name):
    """The client's (local, peer) ends, from its own output or the capture."""
    f = T + "/cli." + name
    loc = peer = None
    for l in open(f):
        w = l.split()
        if w and w[0] == "local":
            loc = (w[1], int(w[2]))
        if w and w[0] == "peer":
            peer = (w[1], int(w[2]))
    if loc is None and os.path.exists(T + "/port." + name):
        port = int(open(T + "/port." + name).read().split()[0])
        v6 = name.endswith("6")
        loc = ("fd00:77::2" if v6 else "10.80.0.2", port)
    return loc, peer

def one(name, src, pid, direction, srv_addr, srv_port):
    loc, peer = ends(name)
    if loc is None:
        check(name + "_client_ends_known", True, False)
        return
    if peer is not None:
        check(name + "_client_peer_is_the_server", (srv_addr, srv_port), peer)
    ev = [e for e in evs if e["source"] == src and e["pid"] == pid and e["direction"] == direction]
    # a server serves several clients: the event of this connection has the client's port
    if name.startswith("os"):
        ev = [e for e in ev if e.get("dport") == loc[1]]
    check("%s_%s_%s_one_event" % (name, src, direction), 1, len(ev))
    if len(ev) != 1:
        return
    e = ev[0]
    # every alert here is the server's: it sent it, so saddr/sport is the server's end
    got = (e.get("saddr"), e.get("sport"), e.get("daddr"), e.get("dport"))
    check("%s_%s_%s_ends_are_the_peers" % (name, src, direction),
          (srv_addr, srv_port, loc[0], loc[1]), got)

for k in (1, 2, 3):
    one("os4_%d" % k, "openssl", pids["os"], "sent", "10.80.0.1", OS)
    one("os4_%d" % k, "openssl", pids["os4_%d" % k], "received", "10.80.0.1", OS)
    one("os6_%d" % k, "openssl", pids["os"], "sent", "fd00:77::1", OS)
    one("os6_%d" % k, "openssl", pids["os6_%d" % k], "received", "fd00:77::1", OS)
one("gt4", "gnutls", pids["gt"], "sent", "10.80.0.1", GT)
one("gt4", "openssl", pids["gt4"], "received", "10.80.0.1", GT)
one("gs6", "go", pids["gs"], "sent", "fd00:77::1", GS)
one("gs6", "openssl", pids["gs6"], "received", "fd00:77::1", GS)
one("og4", "go", pids["og4"], "received", "10.80.0.1", OG)
one("og4", "openssl", pids["og"], "sent", "10.80.0.1", OG)
one("ot6", "gnutls", pids["ot6"], "received", "fd00:77::1", OT)

# -H -P --port OS: the alerts of the 6 connections to OS, none of the 2 to OS2
rows = [json.loads(l) for l in open(T + "/h.out") if l.startswith("{")]
def count(pid, direction):
    return sum(r["count"] for r in rows if r.get("pid") == pid and r.get("direction") == direction
               and r.get("alert") == "protocol_version")
check("hist_port_counts_the_server_of_that_port", 6, count(pids["os"], "sent"))
check("hist_port_counts_its_clients", 6, sum(count(pids["os%d_%d" % (v, k)], "received")
                                           for v in (4, 6) for k in (1, 2, 3)))
check("hist_port_leaves_out_another_port", 0, count(pids["os2"], "sent") +
      count(pids["os2_1"], "received") + count(pids["os2_2"], "received"))
EOF
