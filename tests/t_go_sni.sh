#!/bin/bash
# End to end, the server name of Go crypto/tls events (issue 9): `alerttrace --no-wire -j` (one
# tracer per case) while a Go server and a Go client (tests/fixtures/go/tlspeer, built by Debian
# 12's Go 1.19 and Go 1.24 to 1.27, tests/fixtures/go_build.sh's 4 variants rotating: normal,
# stripped, PIE, stripped PIE) make alerts on 127.0.0.1. The sni of every Go event must be what
# the peers themselves and the wire say, never what alerttrace says elsewhere:
#  - a client's events: the server name of its ClientHello as tshark decodes it
#    (tls.handshake.extensions_server_name), null when the ClientHello has none;
#  - a server's events: the name its own crypto/tls reports, ConnectionState().ServerName after
#    the handshake (the Conn's serverName, which it sets from the ClientHello), null when "";
#    and what the server saw in the ClientHello (ClientHelloInfo.ServerName, from its
#    GetConfigForClient) must be tshark's name.
# Names longer than AT_SNI_LEN - 1 (63) bytes are reported cut to their first 63. No event is
# excused: a received one whose probe missed the *Conn (session 0x0, README) would fail here.
# Per toolchain:
#  1. TLS 1.3, the client asks for a name the certificate does not carry: it sends
#     bad_certificate (encrypted), the server receives it; both events carry the name.
#  2. TLS 1.2, a 73-byte name: the same, cut to 63 bytes.
#  3. the client dials an IP address (tls.Config.ServerName 127.0.0.1): Go sends no server_name
#     (hostnameInSNI), the certificate has no IP SAN: bad_certificate with sni null both ways.
#  4. a TLS 1.3-only server, a TLS 1.2-only client asking for a name: protocol_version, sent
#     from the server's readClientHello before crypto/tls stores the name (null: Go's own
#     ConnectionState says ""), received by the client with its name.
# And the offsets the analysis found (-v: "Conn.vers at +N, Conn.serverName at +N") must be
# those Go's own reflect gives for crypto/tls.Conn in each build (tlspeer -offsets); the
# coverage report must say "sni": true for each build.
# GO_VERSIONS="1.19 1.26" runs a subset. VERBOSE=1 prints every tracer's output.
. "$(dirname "$0")/lib/common.sh"
need_root go_sni
test_prologue go_sni openssl tshark python3 flock
. "$TOP/tests/fixtures/lib_path.sh"
. "$TOP/tests/fixtures/gnutls_peers.sh"
. "$TOP/tests/fixtures/go_peers.sh"
go_test_setup

# The offsets: one tracer naming every build with --lib, -v.
libs=() bins=()
for v in "${VERS[@]}"; do
	for var in "${VARIANTS[@]}"; do
		bins+=("${GOBIN[$v:$var]}/tlspeer")
		libs+=(--lib "${GOBIN[$v:$var]}/tlspeer")
	done
done
n=go_sni_offsets
if at_start $n --no-wire -j -v "${libs[@]}"; then
	at_stop $n
	for b in "${bins[@]}"; do
		id=${b#"$GO_DIR/builds/"}
		id=${id%%-*}_$(echo "$id" | cut -d- -f2)
		want=$("$b" -offsets | sed -n 's/^offsets vers=\([0-9]*\) serverName=\([0-9]*\)$/+\1 +\2/p')
		got=$(grep -F "$b: " "$T/$n.at.err" | sed -n \
			's/.*Conn\.vers at \(+[0-9-]*\), Conn\.serverName at \(+[0-9-]*\).*/\1 \2/p' | head -1)
		check "${n}_${id}_vers_and_servername_as_reflect_says" "${want:-no reflect output}" \
			"${got:-no analysis line}"
		got=$(python3 - "$T/$n.at.err" "$b" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("type") == "library" and e.get("path") == sys.argv[2]:
        print("sni=%s why=%s" % (json.dumps(e.get("sni")), (e.get("reasons") or {}).get("sni")))
        break
PY
)
		check "${n}_${id}_coverage_says_sni" "sni=true why=None" "$got"
	done
fi

NCASES=4
capture_start $(( ${#VERS[@]} * NCASES ))
# shellcheck disable=SC2034 # wire_checks (gnutls_peers.sh) uses it
WIRE=()
CASES=()
# sni_case NAME PORT SERVER CLIENT "SERVER ARGS" "CLIENT ARGS" WIRE-GLOB EVENT EVENT: a gpair,
# and its two events (WHO:DIRECTION:CODE) to judge once the capture is read
sni_case() {
	gpair "$1" "$2" "$3" "$4" "$5" "$6" "$7" && CASES+=("$1 $2 $SP $CP $8 $9")
}
i=0
for v in "${VERS[@]}"; do
	P=$((BASE + i * NCASES))
	g() { echo "$v:${VARIANTS[$(( ($1 + i) % 4 ))]}"; }
	V=go${v/./}
	name13=$V-tls13.sni.alerttrace.test
	long=$V-a-server-name-longer-than-sixty-three-bytes.cut.sni.alerttrace.test

	sni_case ${V}_tls13_name_asked $P "$(g 0)" "$(g 1)" "" \
		"-max 1.3 -servername $name13 -ca $C/ca.pem" "sh=TLS1.3 ch=TLS1.3 alerts=client:2/42@0303" \
		client:sent:42 server:received:42
	sni_case ${V}_tls12_long_name_cut $((P + 1)) "$(g 2)" "$(g 3)" "-max 1.2" \
		"-servername $long -ca $C/ca.pem" "sh=TLS1.2 ch=TLS1.3 alerts=client:2/42@0303" \
		client:sent:42 server:received:42
	sni_case ${V}_ip_address_no_name $((P + 2)) "$(g 1)" "$(g 2)" "" \
		"-servername 127.0.0.1 -ca $C/ca.pem" "sh=TLS1.3 ch=TLS1.3 alerts=client:2/42@0303" \
		client:sent:42 server:received:42
	sni_case ${V}_protocol_version_before_the_name $((P + 3)) "$(g 3)" "$(g 0)" "-min 1.3" \
		"-max 1.2 -servername $name13 -ca $C/ca.pem" "sh=none ch=TLS1.2 alerts=server:2/70@0301" \
		server:sent:70 client:received:70
	i=$((i + 1))
done
at_collect
wire_checks "$T"

# sni_of FILE PID DIRECTION CODE: the sni of the one go event so, as JSON (null, "name"), or
# what there was instead
sni_of() {
	python3 - "$@" <<'PY'
import json, sys
path, pid, d, code = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
evs = []
for line in open(path):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("source") == "go" and e.get("pid") == pid and e.get("direction") == d \
            and e.get("code") == code:
        evs.append(e)
if len(evs) == 1:
    e = evs[0]
    print(json.dumps(e.get("sni")) + (" session=0x0" if e.get("session") == "0x0" else ""))
else:
    print("%d events" % len(evs))
PY
}
# as_json NAME: what an event must say for a name: null for "", else the name cut to 63 bytes
as_json() { if [ -z "$1" ]; then echo null; else printf '"%s"\n' "${1:0:63}"; fi; }
# peer_name FILE KEY: the %q-quoted name tlspeer printed after "KEY servername="
peer_name() { sed -n "s/^$2 servername=\"\\(.*\\)\"$/\\1/p" "$1" | head -1; }

for c in "${CASES[@]}"; do
	read -r n port sp cp ev1 ev2 <<<"$c"
	# The ClientHello's server name, as tshark decodes it.
	wire=$(tshark -n -r "$T/cap.pcapng" -Y "tls.handshake.type == 1 && tcp.dstport == $port" \
		-T fields -e tls.handshake.extensions_server_name 2>/dev/null | head -1)
	check "${n}_server_saw_the_clienthello_name" "$wire" "$(peer_name "$T/$n.srv" clienthello)"
	srvname=$(peer_name "$T/$n.srv" state)
	for ev in $ev1 $ev2; do
		IFS=: read -r who dir code <<<"$ev"
		if [ "$who" = client ]; then
			pid=$cp want=$(as_json "$wire") by=clienthello
		else
			pid=$sp want=$(as_json "$srvname") by=server_state
		fi
		got=$(sni_of "$T/$n.at" "$pid" "$dir" "$code")
		check "${n}_${who}_${dir}_${code}_sni_as_in_$by" "$want" "$got"
	done
done
if [ -n "${VERBOSE:-}" ]; then for f in "$T"/*.at; do echo "== $f"; cat "$f"; done; fi
