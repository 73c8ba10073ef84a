#!/bin/bash
# Overhead of alerttrace on real OpenSSL traffic over loopback, library path alone (--no-wire) and
# library path with the wire on lo (-i lo), against no tracer at all:
#   handshakes/s  `openssl s_time -new` against `openssl s_server -WWW` for SECONDS of wall time;
#                 every connection ends with an alert from the server (s_time closes without a
#                 close_notify: the server answers the early EOF with decode_error), so the uprobes
#                 fire on each one. Wall-clock rate, measured here (s_time's own is whole seconds).
#   bulk MB/s     curl fetching a 256 MiB file from the same s_server -WWW, 3 times per run.
# The three set-ups are interleaved, ROUNDS times, in a rotating order (off lib all, lib all off,
# ...), a tracer started afresh for each run; medians per set-up and their ratios to "off" (the
# goal: >= 0.99). Figures only, never PASS/FAIL: on a shared 2-core machine a threshold on them
# would be flaky.
# Usage: bench/bench_lib.sh [ROUNDS [SECONDS]]   (default 5 rounds, 5 s of handshakes per run)
set -u
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/bench/lib.sh"
ROUNDS=${1:-5}
SECS=${2:-5}
bench_setup bench_lib "uprobes, TC on lo" openssl curl python3
. "$TOP/tests/fixtures/lib_path.sh"
bench_ossl_loops "$SECS"

echo "bench_lib: $ROUNDS rounds, ${SECS} s of handshakes and 3 x 256 MiB per run; s_server on" \
	"127.0.0.1:$PORT; $(openssl version)"
printf '%-6s %-4s %14s %12s %12s %10s\n' round mode "handshakes/s" connections "bulk MB/s" \
	"events"
: >"$T/results"
for rm in $(bench_order "$ROUNDS" off lib all); do
	r=${rm%%:*} m=${rm#*:}
	bench_tracer bench_lib "$m"
	read -r hs n < <(handshakes)
	mb=$(bulk)
	ev=-
	if [ -n "$TPID" ]; then
		bench_stop
		# What it saw: library events (and wire events with -i lo).
		ev=$(bench_events "$T/at.out" openssl)/$(bench_events "$T/at.out" wire)
		[ "$m" = lib ] && [ ! -e "$T/kinds" ] && bench_kinds "$T/at.out" openssl >"$T/kinds"
	fi
	printf '%-6s %-4s %14s %12s %12s %10s\n' "$r" "$m" "$hs" "$n" "$mb" "$ev"
	echo "$m $hs $mb" >>"$T/results"
done
echo "events: library/wire events the tracer printed during the run (off: no tracer)"
echo "the most common library events of the first lib run:"
cat "$T/kinds" 2>/dev/null
bench_summary "$T/results" "off=off (no tracer)" "lib=lib (--no-wire)" \
	"all=lib + wire on lo (-i lo)"
