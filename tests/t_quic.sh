#!/bin/bash
# The quic source: TLS alerts in QUIC Initial packets' CONNECTION_CLOSE frames.
#  decoder:  user/wire/quic.c on the RFC 9001 / RFC 9369 sample keys and packet (test_quic), then
#            datagrams built here with python's cryptography package, its own HKDF and AES-GCM:
#            closes by a server and a client, v1 and v2, coalesced and padded, a transport error,
#            a flow whose client Initial was not seen, packets that are not QUIC Initials.
#  stacks:   real QUIC peers across a veth: ngtcp2's gtlsserver (on GnuTLS) refusing a client's
#            ciphers (handshake_failure) over IPv4 and IPv6, and OpenSSL 3.5's `s_client -quic`
#            (the trixie root) asking for an ALPN the server lacks (no_application_protocol).
#            A tracer on each side: the server's side sees the close sent by the server's pid,
#            the client's side the close received by the client's pid. Witnesses: tshark, which
#            opens Initial packets itself (alert, addresses, ports), and the clients' own output.
#            A client refusing the server's certificate (OpenSSL 3.5, unknown_ca): its close
#            comes in an Initial packet too (RFC 9000 10.2.3), seen sent by the client.
#  flood:    6000 Initial-looking datagrams in a burst: the rate limit counts what it left
#            unopened, said on stderr, the tracer runs on; 2000 DNS datagrams: nothing.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/fixtures/lib_path.sh"
python3 -c 'import cryptography' 2>/dev/null || { fail quic_vectors "python3-cryptography missing: run make deps"; exit 1; }
python3 "$TOP/tests/fixtures/quic_vectors.py" "$T/vectors" || { fail quic_vectors "generator failed"; exit 1; }
"$TOP/.output/tests/test_quic" "$T/vectors" | grep -v '^PASS rfc' # test_quic alone runs those

need_root quic
test_prologue quic gtlsserver gtlsclient tshark python3 ip
ROOT=/var/tmp/alerttrace-trixie
"$TOP/tools/mkroot-trixie.sh" "$ROOT" 2>"$T/mkroot.err" ||
	{ fail quic_trixie_root "$(tail -2 "$T/mkroot.err")"; exit 1; }
A=at_qa_$$ B=at_qb_$$
netns_pair $A $B 10.77.1.1 10.77.1.2 || { fail quic_netns "cannot make the veth pair"; exit 1; }
P=$(port_block 4)
bg ip netns exec $A tshark -n -i a0 -w "$T/cap.pcapng" -f "udp portrange $P-$((P + 3))" 2>"$T/tshark.err"
TSPID=$!
wait_for "$T/tshark.err" "Capturing on" 20 || { fail quic_tshark_start "$(cat "$T/tshark.err")"; exit 1; }
nsstart() {
	bg ip netns exec "$2" "$AT" --no-lib -j -i "$3" >"$T/$1.at" 2>"$T/$1.at.err"
	eval "$1_PID=$!"
	wait_for "$T/$1.at.err" "Tracing TLS alerts" 20 ||
		{ fail "quic_$1_tracer_start" "$(tail -3 "$T/$1.at.err")"; exit 1; }
}
nsstart srv $A a0
nsstart cli $B b0

KEY=$T/c/server.key CRT=$T/c/server.pem
ONLY_CHACHA='NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305'
ONLY_AES='NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM'
# gtls NAME ADDR PORT SERVER_ARGS -- CLIENT_ARGS: a server, one client run to its end.
declare -A SPIDS CPIDS
gtls() {
	local name=$1 addr=$2 port=$3 sargs=$4 cargs=$5
	bg ip netns exec $A gtlsserver -q $sargs "$addr" "$port" "$KEY" "$CRT" >"$T/$name.srv" 2>&1
	SPIDS[$name]=$!
	sleep 0.5
	ip netns exec $B gtlsclient $cargs "$addr" "$port" >"$T/$name.cli" 2>&1 &
	CPIDS[$name]=$!
	wait "${CPIDS[$name]}"
}
# ossl_quic NAME PORT ARGS...: a gtlsserver, OpenSSL 3.5's s_client -quic against it (the
# trixie root) run to its end.
ossl_quic() {
	local name=$1 port=$2
	shift 2
	bg ip netns exec $A gtlsserver -q 10.77.1.1 "$port" "$KEY" "$CRT" >"$T/$name.srv" 2>&1
	SPIDS[$name]=$!
	sleep 0.5
	echo | ip netns exec $B chroot "$ROOT" openssl s_client -quic "$@" \
		-connect 10.77.1.1:"$port" >"$T/$name.cli" 2>&1 &
	CPIDS[$name]=$!
	wait "${CPIDS[$name]}"
}
gtls cipher4 10.77.1.1 $P "--ciphers=$ONLY_CHACHA" "--ciphers=$ONLY_AES --exit-on-first-stream-close"
peer_said cipher4 cli "error_code=CRYPTO_ERROR(0x128)" close
gtls cipher6 fd00:77::1 $((P + 1)) "--ciphers=$ONLY_CHACHA" "--ciphers=$ONLY_AES"
peer_said cipher6 cli "error_code=CRYPTO_ERROR(0x128)" close
ossl_quic alpn $((P + 2)) -alpn nope -trace
# -trace prints the frame: "Received Frame: Connection close (transport)", "Error Code: 376"
# (0x100 + 120, no_application_protocol).
grep -A1 "Received Frame: Connection close" "$T/alpn.cli" | grep -q "Error Code: 376" &&
	pass alpn_cli_output_says_close ||
	fail alpn_cli_output_says_close "$(grep -A1 -i 'connection close' "$T/alpn.cli" | head -3)"

# A client refusing the server's certificate (self-signed): OpenSSL 3.5 sends its close in an
# Initial packet too (RFC 9000 10.2.3: the server may not have Handshake keys yet), so it is seen:
# sent by the client, received by the server.
ossl_quic cert $((P + 3)) -alpn h3 -verify_return_error
grep -q "QUIC error code: 0x130" "$T/cert.cli" && pass cert_cli_output_says_it_closed ||
	fail cert_cli_output_says_it_closed "$(grep -i 'error' "$T/cert.cli" | head -2)"

# ---- flood ----
python3 - 10.77.1.1 $P <<'EOF2' | ip netns exec $B python3 -c '
import socket, sys
exec(sys.stdin.read())'
print('''
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(6000):
    # long header, fixed bit, Initial, v1, 8-byte DCID, no SCID, no token, a length: never opens
    p = bytes([0xc3, 0, 0, 0, 1, 8]) + os.urandom(8) + bytes([0, 0, 0x44, 0xa0]) + os.urandom(1180)
    s.sendto(p, ("%s", %d))
q = bytes.fromhex("12340100000100000000000003777777076578616d706c6503636f6d0000010001")
for i in range(2000):
    s.sendto(q, ("%s", %d))
''' % (__import__('sys').argv[1], int(__import__('sys').argv[2]), __import__('sys').argv[1], int(__import__('sys').argv[2]) + 1))
EOF2
sleep 2.5
kill -0 $srv_PID 2>/dev/null && pass flood_tracer_runs_on || fail flood_tracer_runs_on "it exited"
lim=$(grep -o '[0-9]* QUIC Initial packets not opened' "$T/srv.at.err" | awk '{ n += $1 } END { print n + 0 }')
[ "$lim" -gt 0 ] && [ "$lim" -le 6000 ] && pass "flood_rate_limit_said ($lim of 6000 left unopened)" ||
	fail flood_rate_limit_said "expected 1..6000 in stderr, got '$lim': $(tail -2 "$T/srv.at.err")"

for w in srv cli; do
	eval "pid=\$${w}_PID"
	kill -INT "$pid"; wait "$pid"
	check "${w}_tracer_exit_0" 0 $?
done
kill -INT $TSPID; wait $TSPID 2>/dev/null
for n in "${!SPIDS[@]}"; do kill "${SPIDS[$n]}" 2>/dev/null; done
tshark -n -r "$T/cap.pcapng" -Y 'quic.cc.error_code.tls_alert' -T fields -e ip.src -e ipv6.src \
	-e udp.srcport -e ip.dst -e ipv6.dst -e udp.dstport -e quic.cc.error_code.tls_alert \
	>"$T/tshark.txt" 2>/dev/null
python3 - "$T" "$P" "${SPIDS[cipher4]} ${SPIDS[cipher6]} ${SPIDS[alpn]} ${SPIDS[cert]}" \
	"${CPIDS[cipher4]} ${CPIDS[cipher6]} ${CPIDS[alpn]} ${CPIDS[cert]}" <<'EOF2'
import json, sys
t, p = sys.argv[1], int(sys.argv[2])
spids = [int(x) for x in sys.argv[3].split()]
cpids = [int(x) for x in sys.argv[4].split()]
names = ["cipher4", "cipher6", "alpn", "cert"]
# the alert of each case, and whether the server (True) or the client sent it
closes = {"cipher4": (40, True), "cipher6": (40, True), "alpn": (120, True), "cert": (48, False)}
# tshark: one line per close it opened (a datagram may repeat a close: keep distinct ones)
wit = set()
for l in open(t + "/tshark.txt"):
    f = l.rstrip("\n").split("\t")
    src, sport, dst, dport, alert = f[0] or f[1], int(f[2]), f[3] or f[4], int(f[5]), int(f[6].split(",")[0])
    wit.add((src, sport, dst, dport, alert))
def events(name, direction):
    out = set()
    pids = {}
    for l in open("%s/%s.at" % (t, name)):
        if not l.startswith("{"):
            continue
        e = json.loads(l)
        if e.get("source") != "quic":
            continue
        k = (e["saddr"], e["sport"], e["daddr"], e["dport"], e["code"])
        out.add(k)
        pids[k] = (e.get("pid"), e["direction"], e["level"], e["version"])
    return out, pids
ok = True
def check(name, good, why):
    global ok
    print("PASS " + name if good else "FAIL %s: %s" % (name, why))
    ok &= good
for i, n in enumerate(names):
    code, by_server = closes[n]
    exp = {w for w in wit if w[1 if by_server else 3] == p + i and w[4] == code}
    check("%s_tshark_saw_the_close" % n, len(exp) == 1, "tshark: %s" % sorted(wit))
    for side, want_pid, direction in (("srv", spids[i], "sent" if by_server else "received"),
                                      ("cli", cpids[i], "received" if by_server else "sent")):
        got, pids = events(side, direction)
        mine = {g for g in got if g[1] == p + i or g[3] == p + i}
        check("%s_%s_event_equals_tshark" % (n, side), mine == exp,
              "expected %s, got %s" % (sorted(exp), sorted(mine)))
        for g in mine:
            check("%s_%s_pid_direction_level" % (n, side),
                  pids[g][:3] == (want_pid, direction, 2) and pids[g][3] == "TLS1.3",
                  "expected %s, got %s" % ((want_pid, direction, 2, "TLS1.3"), pids[g]))
got, _ = events("srv", "")
check("flood_no_event", not any(g[1] in (p, p + 1) and g[4] not in (40,) for g in got), sorted(got))
EOF2
