#!/bin/bash
# Overhead of alerttrace's GnuTLS hooks (--no-wire: gnutls_alert_send entry and return, and the
# record layer's store of a received alert; libssl's hooks too, idle here) on real GnuTLS traffic
# over loopback, against no tracer at all:
#   handshakes/s  bench/fixtures/gnutls_peer hs: new connections in a loop for SECONDS against
#                 gnutls-serv (its default mode, --nodb: no resumption), each a full TLS 1.3
#                 handshake with the certificate verified, then gnutls_bye(GNUTLS_SHUT_RDWR): the
#                 client sends a close_notify, the server receives it and answers with its own,
#                 and the client reads it: four alert events per connection. Wall-clock rate, as the peer measures.
#   bulk MB/s     gnutls_peer bulk reading 256 MiB from gnutls_peer serve (16 KiB records), 3 times
#                 per run; MB = 10^6 bytes, connection set-up included.
# Set-ups: off (no tracer), lib (--no-wire: every event streamed as a JSON line) and hist
# (--no-wire -H: the same hooks, counted in the kernel, nothing streamed), which tells the probes'
# cost from the consumer's. They are interleaved, ROUNDS times, in a rotating order (off lib hist,
# lib hist off, ...), a tracer started afresh for each run; per run the tracer's own CPU time while
# it traced; medians per set-up and their ratios to "off" (the goal: >= 0.99). Figures only, never PASS/FAIL: on a shared 2-core machine a threshold on them would be
# flaky.
# Usage: bench/bench_gnutls.sh [ROUNDS [SECONDS]]   (default 5 rounds, 5 s of handshakes per run)
set -u
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/bench/lib.sh"
ROUNDS=${1:-5}
SECS=${2:-5}
bench_setup bench_gnutls uprobes gnutls-serv openssl cc pkg-config python3 ss
P=$T/gnutls_peer
# shellcheck disable=SC2046 # pkg-config prints several words
cc -O2 -Wall -o "$P" "$TOP/bench/fixtures/gnutls_peer.c" $(pkg-config --cflags --libs gnutls) ||
	{ echo "bench_gnutls: cannot build gnutls_peer: is libgnutls28-dev installed?" >&2; exit 1; }
. "$TOP/tests/fixtures/lib_path.sh"
PORT=$(port_block 2)
BULK=$((256 << 20))

# gnutls-serv has no address option: it listens on every address; the peers use 127.0.0.1.
bg gnutls-serv -q --nodb -p "$PORT" --x509certfile "$C/server.pem" --x509keyfile "$C/server.key" \
	>"$T/srv.log" 2>&1
wait_for "$T/srv.log" "listening on IPv4" 10 ||
	{ echo "bench_gnutls: gnutls-serv: $(tail -3 "$T/srv.log")" >&2; exit 1; }
bg "$P" serve $((PORT + 1)) "$C/server.pem" "$C/server.key" $BULK >"$T/bulk.log" 2>&1
wait_for "$T/bulk.log" ready 10 ||
	{ echo "bench_gnutls: gnutls_peer serve: $(tail -3 "$T/bulk.log")" >&2; exit 1; }

# handshakes: "RATE CONNECTIONS" of one run of SECS; bulk: MB/s over 3 reads of BULK bytes.
handshakes() { bench_rate "$P" hs 127.0.0.1 "$PORT" "$C/ca.pem" "$SECS"; }
bulk() { bench_mbs $BULK "$P" bulk 127.0.0.1 $((PORT + 1)) "$C/ca.pem"; }

echo "bench_gnutls: $ROUNDS rounds, ${SECS} s of handshakes and 3 x 256 MiB per run;" \
	"gnutls-serv on port $PORT, gnutls_peer serve on 127.0.0.1:$((PORT + 1));" \
	"$(gnutls-cli --version | head -1)"
bench_rounds gnutls "$ROUNDS" off lib hist
echo "events: GnuTLS events the tracer reported (off: no tracer); 4 per connection expected and 2"
echo "per bulk read."
bench_legend "$SECS" GnuTLS
bench_summary "$T/results" "off=off (no tracer)" "lib=lib (--no-wire)" \
	"hist=hist (--no-wire -H)"
