#!/bin/bash
# The data path against what an operator would run instead: iperf3 TCP from one network namespace
# to another over a veth pair (a0 in the receiver's namespace, b0 in the sender's), with each of
# these watching the receiver's a0, interleaved ROUNDS times in a rotating order:
#   off      nothing attached
#   wire     alerttrace --no-lib -i a0 (run inside the receiver's namespace)
#   tcpdump  tcpdump -w of all TCP on a0 (what people run to decode alerts later with tshark);
#            written to /dev/null: the capture's cost without the disk's (a real file costs more)
#   cbpf     tcpdump -w with a cBPF filter that keeps only segments starting with a TLS alert
#            record (content type 21 at the start of the TCP payload)
# Per run: the receiver's throughput (Gbit/s), the receiving iperf3's CPU (% of a core, from
# iperf3's own report), the watcher's CPU ms (schedstat), CPU ms per GB received (both iperf3s
# and the watcher: softirq time is charged to the task it interrupts on this kernel, and on a
# veth the receive path mostly runs in the sender's softirq; on a shared machine this is steadier
# than throughput), and tcpdump's "dropped by kernel" count. Medians, their ratios to off and paired
# ratios (each run / its round's off). Figures only, never PASS/FAIL.
# Usage: bench/bench_veth.sh [ROUNDS [SECONDS]]   (default 5 rounds of 4 s)
set -u
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/bench/lib.sh"
ROUNDS=${1:-5}
SECS=${2:-4}
bench_setup bench_veth "network namespaces, TC" iperf3 tcpdump ip
RX=at_bv_rx_$$ TX=at_bv_tx_$$
netns_pair $RX $TX 10.78.0.1 10.78.0.2 || { echo "bench_veth: cannot create namespaces" >&2; exit 1; }
PORT=5201
ip netns exec $RX iperf3 -s -p $PORT >"$T/iperf.srv" 2>&1 &
AT_PIDS+=("$!")
sleep 0.5
CBPF='tcp[((tcp[12:1] & 0xf0) >> 2):1] = 0x15'

# watch MODE: start MODE's watcher on a0; WPID its pid, or empty.
watch() {
	WPID=
	: >"$T/w.err"
	case $1 in
	off) return 0 ;;
	wire) ip netns exec $RX "$AT" --no-lib -i a0 -j >"$T/w.out" 2>"$T/w.err" &
		WPID=$! ready="Tracing TLS alerts" ;;
	tcpdump) ip netns exec $RX tcpdump -n -i a0 -w /dev/null tcp 2>"$T/w.err" &
		WPID=$! ready="listening on" ;;
	cbpf) ip netns exec $RX tcpdump -n -i a0 -w /dev/null "$CBPF" 2>"$T/w.err" &
		WPID=$! ready="listening on" ;;
	esac
	AT_PIDS+=("$WPID")
	wait_for "$T/w.err" "$ready" 20 || { echo "bench_veth: $1 did not start: $(tail -2 "$T/w.err")" >&2; exit 1; }
}

# one MODE: prints "GBITS RX_CPU% WATCHER_MS DROPPED"
one() {
	local c0=0 c1=0 g cpu drop=-
	watch "$1"
	[ -n "$WPID" ] && c0=$(bench_sched_ms "$WPID")
	ip netns exec $TX iperf3 -c 10.78.0.1 -p $PORT -t "$SECS" -J >"$T/iperf.json" 2>&1
	if [ -n "$WPID" ]; then
		c1=$(bench_sched_ms "$WPID")
		kill -INT "$WPID"
		wait "$WPID"
	fi
	case $1 in tcpdump|cbpf) drop=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$T/w.err") ;; esac
	read -r g cpu gb < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["end"]
r, c = d["sum_received"], d["cpu_utilization_percent"]
# Both iperf3s: softirq work is charged to the task it interrupts (no IRQ time accounting here),
# on a veth mostly the sender (the receive path runs in its softirq), so count both ends.
ms = (c["host_total"] + c["remote_total"]) / 100 * r["seconds"] * 1000
print("%.2f %.1f %.1f" % (r["bits_per_second"] / 1e9, c["remote_total"], ms))' "$T/iperf.json" \
		2>/dev/null || echo "0 0 0")
	# CPU ms per GB received: both iperf3s and the watcher.
	gb=$(awk -v g="$g" -v ms="$gb" -v w="$((c1 - c0))" -v s="$SECS" \
		'BEGIN { printf "%.0f", (g > 0 ? (ms + w) / (g * s / 8) : 0) }')
	echo "$g $cpu $((c1 - c0)) ${drop:--} $gb"
}

modes=(off wire tcpdump cbpf)
echo "bench_veth: $ROUNDS rounds of ${modes[*]}, iperf3 -t $SECS over veth $TX -> $RX;" \
	"$(iperf3 --version | head -1 | cut -d' ' -f1-2), $(tcpdump --version 2>&1 | head -1)"
printf '%-6s %-8s %10s %12s %12s %10s %10s\n' round mode "Gbit/s" "rx cpu %" "watcher ms" dropped \
	"cpu ms/GB"
: >"$T/results"
for rm in $(bench_order "$ROUNDS" "${modes[@]}"); do
	r=${rm%%:*} m=${rm#*:}
	read -r g cpu wms drop gb < <(one "$m")
	printf '%-6s %-8s %10s %12s %12s %10s %10s\n' "$r" "$m" "$g" "$cpu" "$wms" "$drop" "$gb"
	echo "$r $m $g $cpu $wms $drop $gb" >>"$T/results"
done
python3 - "$T/results" "${modes[@]}" <<'EOF' | tee "$T/med"
import collections, statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
modes = sys.argv[2:]
runs = collections.defaultdict(dict)
for r, m, g, cpu, w, drop, gb in rows:
    runs[r][m] = (float(g), float(cpu), float(w), drop, float(gb))
med = statistics.median
def col(m, k):
    return [d[m][k] for d in runs.values() if m in d]
def paired(m, k):
    return med([d[m][k] / d["off"][k] for d in runs.values() if m in d and d.get("off") and d["off"][k]] or [0])
print("%-8s %20s %7s %7s %20s %7s %20s %7s %10s %14s" % ("median", "Gbit/s (min-max)", "ratio",
      "paired", "rx cpu % (min-max)", "paired", "cpu ms/GB (min-max)", "paired", "watcher ms",
      "dropped (max)"))
for m in modes:
    g, c, w, gb = col(m, 0), col(m, 1), col(m, 2), col(m, 4)
    drops = [int(x) for x in col(m, 3) if x.isdigit()]
    print("%-8s %20s %7.3f %7.3f %20s %7.3f %20s %7.3f %10.0f %14s" % (
        m, "%.2f (%.2f-%.2f)" % (med(g), min(g), max(g)), med(g) / med(col("off", 0)), paired(m, 0),
        "%.1f (%.1f-%.1f)" % (med(c), min(c), max(c)), paired(m, 1),
        "%.0f (%.0f-%.0f)" % (med(gb), min(gb), max(gb)), paired(m, 4), med(w),
        "%d (%d)" % (med(drops), max(drops)) if drops else "-"))
print("ratio: median / off's median; paired: median over rounds of run / same round's off.")
print("rx cpu %: the receiving iperf3's CPU (iperf3's report); watcher ms: tcpdump's or the tracer's")
print("own CPU per run; cpu ms/GB: both iperf3s' CPU and the watcher's per GB received (softirq")
print("time is charged to the task it interrupts here); dropped: tcpdump's 'packets dropped by kernel'.")
EOF
head=$(python3 - "$T/results" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(dict)
drops = []
for l in open(sys.argv[1]):
    r, m, g, _, _, d, gb = l.split()
    runs[r][m] = (float(g), float(gb))
    if m == "tcpdump" and d.isdigit():
        drops.append(int(d))
def p(m, k):
    return statistics.median([d[m][k] / d["off"][k] for d in runs.values()
                              if d.get("off") and d["off"][k] and m in d] or [0])
print("veth paired to nothing, throughput / CPU per GB: wire %.2f / %.2f, tcpdump -w %.2f / %.2f "
      "(max %s dropped), cbpf filter %.2f / %.2f" % (p("wire", 0), p("wire", 1), p("tcpdump", 0),
      p("tcpdump", 1), max(drops) if drops else "-", p("cbpf", 0), p("cbpf", 1)))
EOF
)
bench_headline "$head"
