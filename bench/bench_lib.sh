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
mkdir -p "$T/www"
head -c $((256 << 20)) /dev/urandom >"$T/www/big.bin"
. "$TOP/tests/fixtures/lib_path.sh"
PORT=$(port_block 1)

# One s_server -WWW for the whole bench (it serves files from its working directory).
sleep 100000 | (cd "$T/www" && exec openssl s_server -WWW -accept "127.0.0.1:$PORT" \
	-cert "$C/server.pem" -key "$C/server.key") >"$T/srv.log" 2>&1 &
AT_PIDS+=("$!" "$(jobs -p %%)")
wait_for "$T/srv.log" ACCEPT 10 || { echo "bench_lib: s_server: $(tail -3 "$T/srv.log")" >&2; exit 1; }

# handshakes: connections per wall-clock second of one s_time -new run.
handshakes() {
	local t0 t1 n
	t0=$(date +%s%N)
	openssl s_time -connect "127.0.0.1:$PORT" -new -time "$SECS" >"$T/stime.out" 2>&1
	t1=$(date +%s%N)
	n=$(sed -n 's/^\([0-9]*\) connections in [0-9.]* real seconds.*/\1/p' "$T/stime.out")
	[ -n "$n" ] || { echo "bench_lib: s_time: $(tail -2 "$T/stime.out")" >&2; echo "0 0"; return; }
	awk -v n="$n" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.1f %d\n", n / ((t1 - t0) / 1e9), n }'
}

# bulk: MB/s (10^6 bytes) over 3 fetches of the file.
bulk() {
	local i
	for i in 1 2 3; do
		curl -sk -o /dev/null -w '%{size_download} %{time_total}\n' \
			"https://127.0.0.1:$PORT/big.bin"
	done | awk '{ b += $1; t += $2 } END { printf "%.1f\n", (t > 0 ? b / t / 1e6 : 0) }'
}

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
