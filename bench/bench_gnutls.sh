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

# handshakes: "RATE COUNT" of one run of SECS.
handshakes() {
	local n s
	read -r n s _ < <("$P" hs 127.0.0.1 "$PORT" "$C/ca.pem" "$SECS" 2>>"$T/peer.err")
	if [ -z "${n:-}" ] || [ "$n" -eq 0 ]; then
		echo "bench_gnutls: hs: $(tail -2 "$T/peer.err")" >&2
		echo "0 0"
		return
	fi
	awk -v n="$n" -v s="$s" 'BEGIN { printf "%.1f %d\n", n / s, n }'
}

# bulk: MB/s over 3 reads of BULK bytes.
bulk() {
	local i
	for i in 1 2 3; do
		"$P" bulk 127.0.0.1 $((PORT + 1)) "$C/ca.pem" 2>>"$T/peer.err"
	done | awk -v want=$BULK '$1 == want { b += $1; t += $2 }
		END { printf "%.1f\n", (t > 0 ? b / t / 1e6 : 0) }'
}

echo "bench_gnutls: $ROUNDS rounds, ${SECS} s of handshakes and 3 x 256 MiB per run;" \
	"gnutls-serv on port $PORT, gnutls_peer serve on 127.0.0.1:$((PORT + 1));" \
	"$(gnutls-cli --version | head -1)"
row='%-6s %-4s %14s %12s %12s %10s %10s %7s\n'
# shellcheck disable=SC2059 # the format is the row's
printf "$row" round mode "handshakes/s" connections "bulk MB/s" events "tracer ms" others
: >"$T/results"
for rm in $(bench_order "$ROUNDS" off lib hist); do
	r=${rm%%:*} m=${rm#*:}
	bench_tracer bench_gnutls "$m"
	o1=$(bench_others)
	read -r hs n < <(handshakes)
	mb=$(bulk)
	o2=$(bench_others)
	ev=- TCPU=-
	if [ -n "$TPID" ]; then
		bench_stop
		ev=$(bench_events "$T/at.out" gnutls)
		[ "$m" = lib ] && [ ! -e "$T/kinds" ] && bench_kinds "$T/at.out" gnutls >"$T/kinds"
	fi
	# shellcheck disable=SC2059
	printf "$row" "$r" "$m" "$hs" "$n" "$mb" "$ev" "$TCPU" "$((o1 > o2 ? o1 : o2))"
	echo "$m $hs $mb" >>"$T/results"
done
echo "events: GnuTLS events the tracer reported (off: no tracer); 4 per connection expected and 2"
echo "per bulk read. tracer ms: the tracer's user + system CPU time while it traced (of ~2 x"
echo "${SECS} s of CPU the peers had; the machine has $(nproc) cores). others: alerttrace processes"
echo "not this bench's at the start or end of the run (their uprobes fire on these peers too)."
echo "the most common GnuTLS events of the first lib run:"
cat "$T/kinds" 2>/dev/null
bench_summary "$T/results" "off=off (no tracer)" "lib=lib (--no-wire)" \
	"hist=hist (--no-wire -H)"
