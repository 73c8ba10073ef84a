#!/bin/bash
# Runs every benchmark binary built into .output/bench/ (make tests builds them), one after the
# other, with the arguments given (e.g. bench/run.sh 9 2000000: rounds and repeats for bench_tc),
# then every bench/bench_*.sh script (end-to-end overhead through real OpenSSL, GnuTLS and Go peers,
# analysis time per library, the wire against tcpdump and tshark, the hooks against bpftrace, the
# event pipeline's loss rate, start-up, memory and shutdown; bench/lib.sh is what they share).
# Benchmarks print figures, never PASS/FAIL: absolute times depend on the machine. Each script
# appends its headline ratio to $BENCH_SUMMARY (bench/lib.sh's bench_headline): the table printed
# at the end.
# Usage: bench/run.sh [ARGS...]
set -u
cd "$(dirname "$0")/.."
bins=$(ls .output/bench/bench_* 2>/dev/null)
if [ -z "$bins" ]; then
	echo "bench: nothing built in .output/bench: run make tests first" >&2
	exit 0
fi
rc=0
BENCH_SUMMARY=$(mktemp /tmp/alerttrace-bench-summary.XXXXXX)
export BENCH_SUMMARY
trap 'rm -f "$BENCH_SUMMARY"' EXIT
for b in $bins; do
	echo "== $(basename "$b")"
	"$b" "$@" | tee "$BENCH_SUMMARY.bin"
	st=${PIPESTATUS[0]}
	[ "$st" = 0 ] || { echo "bench: $(basename "$b") failed with status $st" >&2; rc=1; }
	# bench_tc's headline: its ratios to the no-op program, one per packet layout.
	[ "$(basename "$b")" = bench_tc ] && awk '$0 ~ / [0-9.]+x / {
		for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+x$/) { name = $1; for (j = 2; j < i - 2; j++)
			name = name " " $j; r = r (r ? ", " : "") name " " $i; break } }
		END { if (r) printf "%-16s per packet vs a no-op: %s\n", "bench_tc", r }' \
		"$BENCH_SUMMARY.bin" >>"$BENCH_SUMMARY"
	rm -f "$BENCH_SUMMARY.bin"
done
for s in bench/bench_*.sh; do
	[ -e "$s" ] || continue
	echo "== $(basename "$s")"
	bash "$s" || { echo "bench: $(basename "$s") failed with status $?" >&2; rc=1; }
done
echo "== summary ($(date -u +%Y-%m-%d), $(nproc) cores; ratios side by side in one run)"
if [ -s "$BENCH_SUMMARY" ]; then cat "$BENCH_SUMMARY"; else echo "(no bench wrote a headline)"; fi
exit $rc
