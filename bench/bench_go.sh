#!/bin/bash
# Overhead of alerttrace's Go crypto/tls hooks (--no-wire: the entry of
# crypto/tls.(*Conn).sendAlertLocked and one instruction of readRecordOrCCS's alert branch; no
# probe on Read or Write; libssl's and libgnutls' hooks too, idle here) on real Go TLS traffic
# over loopback, against no tracer at all. Both ends are bench/fixtures/go_peer, built with one
# Go toolchain (tests/fixtures/go_build.sh: offline, CGO_ENABLED=0, static, not stripped):
#   handshakes/s  go_peer hs: new connections in a loop for SECONDS against go_peer serve, each a
#                 full handshake with Go's defaults (TLS 1.3, X25519 or the toolchain's hybrid
#                 default, no client session cache: no resumption), the certificate verified,
#                 then CloseWrite (the client's close_notify), the server reads it and answers
#                 with Close() (its own), the client reads that: four alert events a connection.
#                 Wall-clock rate, as the peer measures.
#   bulk MB/s     go_peer bulk reading 512 MiB from go_peer serve, 3 times per run, closed as
#                 above (four events a read); MB = 10^6 bytes, connection set-up included.
# Set-ups: off (no tracer), lib (--no-wire: every event streamed as a JSON line) and hist
# (--no-wire -H: the same hooks, counted in the kernel, nothing streamed), which tells the probes'
# cost from the consumer's. They are interleaved, ROUNDS times, in a rotating order (off lib hist,
# lib hist off, ...), a tracer started afresh for each run; per run the tracer's own CPU time while
# it traced; medians per set-up and their ratios to "off" (the goal: >= 0.99). Figures only, never
# PASS/FAIL: on a shared 2-core machine a threshold on them would be flaky.
# The server runs through the whole bench (each tracer finds it running); the clients start after
# the tracer is up (hooked at exec).
# Usage: bench/bench_go.sh [ROUNDS [SECONDS]]   (default 5 rounds, 5 s of handshakes per run)
# Env: GO_VERSION (1.19 for Debian 12's golang-go, 1.24 to 1.27 from tools/fetch-go.sh; default the
# newest fetched), GO_DIR as tools/fetch-go.sh's DEST (default /var/tmp/alerttrace-go).
set -u
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/bench/lib.sh"
ROUNDS=${1:-5}
SECS=${2:-5}
GO_DIR=${GO_DIR:-/var/tmp/alerttrace-go}
bench_setup bench_go uprobes openssl python3 ss flock
if [ -z "${GO_VERSION:-}" ]; then
	GO_VERSION=1.19
	for v in $(printf '%s\n' "$GO_DIR"/1.* | sed 's,.*/,,' | sort -t. -k2,2nr); do
		[ -x "$GO_DIR/$v/usr/lib/go-$v/bin/go" ] && { GO_VERSION=$v; break; }
	done
fi
read -r _ _ D GOV < <(GO_DIR=$GO_DIR GO_SRC="$TOP/bench/fixtures" GO_PROGRAMS=go_peer \
	GO_VARIANTS=normal "$TOP/tests/fixtures/go_build.sh" "$GO_VERSION" 2>"$T/build.err")
if [ ! -x "${D:-}/go_peer" ]; then
	echo "bench_go: cannot build go_peer with Go $GO_VERSION: $(tail -3 "$T/build.err")" >&2
	exit 1
fi
P=$D/go_peer
# Go checks the name against the subjectAltName only (a CN alone: "x509: certificate relies on
# legacy Common Name field"): make_certs' server key, signed again with DNS:server.
openssl x509 -req -in "$C/server.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -days 2 \
	-extfile <(echo subjectAltName=DNS:server) -out "$C/server.pem" 2>/dev/null ||
	{ echo "bench_go: cannot make the server certificate with a subjectAltName" >&2; exit 1; }
. "$TOP/tests/fixtures/lib_path.sh"
PORT=$(port_block 1)
BULK=$((512 << 20))
BENCH_COMM=go_peer

bg "$P" serve "127.0.0.1:$PORT" "$C/server.pem" "$C/server.key" >"$T/srv.log" 2>&1
wait_for "$T/srv.log" ready 10 ||
	{ echo "bench_go: go_peer serve: $(tail -3 "$T/srv.log")" >&2; exit 1; }

# handshakes: "RATE CONNECTIONS" of one run of SECS; bulk: MB/s over 3 reads of BULK bytes.
handshakes() { bench_rate "$P" hs "127.0.0.1:$PORT" "$C/ca.pem" "$SECS"; }
bulk() { bench_mbs $BULK "$P" bulk "127.0.0.1:$PORT" "$C/ca.pem" $BULK; }

echo "bench_go: $ROUNDS rounds, ${SECS} s of handshakes and 3 x 512 MiB per run; go_peer" \
	"($GOV, $P) serve on 127.0.0.1:$PORT"
bench_rounds go "$ROUNDS" off lib hist
echo "events: Go events of go_peer processes the tracer reported (off: no tracer); 4 per"
echo "connection expected, handshake or bulk: 4 x (connections + 3)."
bench_legend "$SECS" Go
bench_summary "$T/results" "off=off (no tracer)" "lib=lib (--no-wire)" \
	"hist=hist (--no-wire -H)"
echo "peer errors in the whole bench: client $(grep -c . "$T/peer.err" 2>/dev/null)," \
	"server $(grep -c 'go_peer:' "$T/srv.log")"
