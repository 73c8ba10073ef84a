#!/bin/bash
# Shutdown with many hooked libraries: SIGTERM to exit of `alerttrace -i lo -j` (the wire source
# too: its TC filters are removed first) while one python3 process holds N
# distinct copies of libssl.so.3 (new inodes, one build-id: the analysis is cached, each copy gets
# its own 6 uprobes), N = 1, 10, 50. Two attach modes, interleaved per round: "multi" (the
# default on Linux 6.6+: uprobe_multi links, closed in parallel) and "perf"
# (ALERTTRACE_UPROBE_MULTI=0: libbpf's perf-event uprobes, as on older kernels, which the kernel
# closes one after another under its event_mutex). Per run: the time from SIGTERM to the exit,
# the exit status, and whether a filter of ours is left on lo (there must be none; ours: the
# program ids of the tracer's own TC program fds, "-" if it had none). Medians of
# ROUNDS rounds and the ratio perf/multi. The goal: under 2 s with 50 libraries.
# Usage: bench/bench_shutdown.sh [ROUNDS [N...]]   (default 3 rounds; N = 1 10 50)
set -u
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/bench/lib.sh"
ROUNDS=${1:-3}
shift
NS=("$@")
[ ${#NS[@]} -gt 0 ] || NS=(1 10 50)
bench_setup bench_shutdown uprobes python3 tc
LIB=/usr/lib/x86_64-linux-gnu/libssl.so.3

# one N MODE: a tracer with N copies held; prints "SECONDS RC LEFT".
one() {
	local n=$1 mode=$2 env=() k t0 t1 rc left
	[ "$mode" = perf ] && env=(ALERTTRACE_UPROBE_MULTI=0)
	rm -rf "$T/lib" && mkdir -p "$T/lib"
	for k in $(seq 1 "$n"); do mkdir "$T/lib/$k" && cp -L "$LIB" "$T/lib/$k/"; done
	python3 -c "
import ctypes, sys, time
for k in range(1, $n + 1): ctypes.CDLL('$T/lib/%d/libssl.so.3' % k)
print('ready', flush=True)
time.sleep(120)" >"$T/py.out" 2>&1 &
	local pp=$!
	AT_PIDS+=("$pp")
	wait_for "$T/py.out" ready 20 || { echo "bench_shutdown: python3: $(cat "$T/py.out")" >&2; exit 1; }
	env ${env[@]+"${env[@]}"} "$AT" -i lo -j >"$T/at.out" 2>"$T/at.err" &
	TPID=$!
	AT_PIDS+=("$TPID")
	for _ in $(seq 1 300); do
		[ "$(grep -o "\"path\":\"$T/lib/[0-9]*/libssl.so.3\"[^}]*\"sent\":true" "$T/at.err" |
			sort -u | wc -l)" -ge "$n" ] && break
		sleep 0.1
	done
	# Its own TC programs: another tracer on this host may have filters of the same handle on lo.
	local ids f id
	ids=$(for f in /proc/"$TPID"/fdinfo/*; do
		awk '$1 == "prog_type:" && $2 == 3 { t = 1 } $1 == "prog_id:" { id = $2 }
			END { if (t) print id }' "$f" 2>/dev/null
	done | sort -u)
	t0=$EPOCHREALTIME
	kill -TERM "$TPID"
	wait "$TPID"
	rc=$?
	t1=$EPOCHREALTIME
	left=0
	for id in $ids; do
		left=$((left + $( (tc filter show dev lo ingress; tc filter show dev lo egress) 2>/dev/null |
			grep -c " id $id ")))
	done
	[ -n "$ids" ] || left=-
	kill "$pp" 2>/dev/null
	wait "$pp" 2>/dev/null
	awk -v s="$t0" -v e="$t1" -v rc="$rc" -v l="$left" 'BEGIN { printf "%.2f %d %s\n", e - s, rc, l }'
}

echo "bench_shutdown: $ROUNDS rounds; N distinct libssl copies held by one process; -i lo"
printf '%-6s %-4s %-6s %10s %4s %5s\n' round N mode seconds rc left
for r in $(seq 1 "$ROUNDS"); do
	for n in "${NS[@]}"; do
		for mode in multi perf; do
			[ $((r % 2)) = 0 ] && mode=$([ "$mode" = multi ] && echo perf || echo multi)
			read -r secs rc left < <(one "$n" "$mode")
			printf '%-6s %-4s %-6s %10s %4s %5s\n' "$r" "$n" "$mode" "$secs" "$rc" "$left"
			echo "$n $mode $secs $rc $left" >>"$T/results"
		done
	done
done
echo "median SIGTERM to exit (s), min-max; rc and filters left over all runs"
printf '%-4s %-22s %-22s %8s %s\n' N multi perf perf/multi "rc!=0 / left"
for n in "${NS[@]}"; do
	python3 - "$T/results" "$n" "$T/head" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
n = sys.argv[2]
def col(mode):
    v = sorted(float(r[2]) for r in rows if r[0] == n and r[1] == mode)
    return statistics.median(v), v[0], v[-1]
m, p = col("multi"), col("perf")
bad = sum(1 for r in rows if r[0] == n and (r[3] != "0" or r[4] != "0"))  # "-": ids unknown
with open(sys.argv[3], "a") as f:
    f.write("N=%s %.2f s (perf %.2f s); " % (n, m[0], p[0]))
print("%-4s %-22s %-22s %8.1f %d" % (n, "%.2f (%.2f-%.2f)" % m, "%.2f (%.2f-%.2f)" % p,
                                     p[0] / m[0], bad))
PY
done
bench_headline "SIGTERM to exit, multi (perf): $(cat "$T/head" 2>/dev/null)"
