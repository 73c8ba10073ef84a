#!/bin/bash
# Where the event pipeline starts to lose alerts at the default ring buffer size: plaintext alert
# records (warning user_canceled, 7 bytes, as bench_pipeline.sh writes them) sent by one TCP client
# to a reader on 127.0.0.1 (in a network namespace of the bench's own: bench_private_lo) for about a
# second at each rate of a ramp (x1.5 from 10000 alerts/s, writes of 50 records on a fixed
# schedule), while a fresh `alerttrace -i lo --no-lib -j` streams them to a file; on lo the
# classifier sees every record twice (egress, ingress): events/s are twice the alerts/s. A step is
# lossless when the tracer printed every alert sent and reported no loss on stderr. The ramp stops
# at the first step with loss; then `-H` (counted in the kernel) runs at that rate, where no loss is
# expected. Rates are those the client reached (it cannot always keep the schedule). ROUNDS ramps;
# figures only, never PASS/FAIL.
# Usage: bench/bench_loss.sh [ROUNDS]   (default 3)
set -u
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/bench/lib.sh"
ROUNDS=${1:-3}
bench_setup bench_loss "TC on lo" python3 ss
. "$TOP/tests/fixtures/lib_path.sh"
bench_private_lo
bench_alert_reader

# step MODE RATE: prints "SENT RATE_REACHED SEEN LOST_LINES"
step() {
	local args=(-i lo --no-lib -j) sport sent rate seen lost
	[ "$1" = hist ] && args+=(-H -P)
	bench_at "${args[@]}"
	sleep 0.3
	read -r sport sent rate < <("${BENCH_IN[@]}" python3 -c "
import socket, time
rate = $2; n = max(50, rate // 50 * 50)
c = socket.create_connection(('127.0.0.1', $PORT))
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
rec = bytes([0x15, 3, 3, 0, 2, 1, 90]) * 50
t0 = time.monotonic()
for k in range(n // 50):
    d = t0 + k * 50 / rate - time.monotonic()
    if d > 0:
        time.sleep(d)
    c.sendall(rec)
el = time.monotonic() - t0
print(c.getsockname()[1], n, int(n / el) if el > 0 else 0); c.close()")
	sleep 1
	kill -INT "$TPID"
	wait "$TPID"
	if [ "$1" = hist ]; then
		seen=$(awk 'index($0, "\"comm\":\"python3\"") && /"source":"wire"/ && /"direction":"sent"/ {
			if (match($0, /"count":[0-9]+/)) n += substr($0, RSTART + 8, RLENGTH - 8) }
			END { print n + 0 }' "$T/at.out")
	else
		seen=$(grep -c "\"direction\":\"sent\",.*\"sport\":$sport," "$T/at.out")
	fi
	lost=$(grep -c "lost\|not counted" "$T/at.err")
	echo "$sent $rate $seen $lost"
}

echo "bench_loss: $ROUNDS ramps of about 1 s per step, -i lo --no-lib, default ring size"
printf '%-6s %-7s %10s %12s %9s %9s %6s\n' round mode "target/s" "reached/s" sent seen lost
: >"$T/results"
for r in $(seq 1 "$ROUNDS"); do
	rate=10000 ok=- bad=-
	while :; do
		read -r sent got seen lost < <(step stream $rate)
		printf '%-6s %-7s %10s %12s %9s %9s %6s\n' "$r" stream "$rate" "$got" "$sent" "$seen" "$lost"
		if [ "$seen" = "$sent" ] && [ "$lost" = 0 ]; then
			ok=$got
		else
			bad=$got
			break
		fi
		[ "$rate" -ge 2000000 ] && break
		# The client could not go faster: the pipeline kept up with the fastest it can send.
		[ "$got" -lt $((rate * 8 / 10)) ] && break
		rate=$((rate * 3 / 2))
	done
	hist=-
	if [ "$bad" != - ]; then
		read -r sent got seen lost < <(step hist $rate)
		printf '%-6s %-7s %10s %12s %9s %9s %6s\n' "$r" hist "$rate" "$got" "$sent" "$seen" "$lost"
		hist="$got $((sent - seen)) $lost"
	fi
	echo "$ok $bad $hist" >>"$T/results"
done
head=$(python3 - "$T/results" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
ok = [int(x[0]) for x in rows if x[0] != "-"]
bad = [int(x[1]) for x in rows if x[1] != "-"]
hist = [x[2:] for x in rows if len(x) == 5]
print("stream: highest lossless %s alerts/s, first loss at %s alerts/s (medians of %d ramps); "
      "-H there: %s" % (
          "%d" % statistics.median(ok) if ok else "-", "%d" % statistics.median(bad) if bad else
          "none (the client's fastest)", len(rows),
          ", ".join("%s/s %s missed%s" % (h[0], h[1], "" if h[2] == "0" else " (loss reported)")
                    for h in hist) or "-"))
EOF
)
bench_headline "$head"
