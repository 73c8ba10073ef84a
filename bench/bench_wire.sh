#!/bin/bash
# End-to-end cost of the wire source on a bulk TLS transfer over loopback: curl fetching a 256 MiB
# file from `openssl s_server -WWW`, in a network namespace of its own (no other tracer, filter or
# traffic on its lo), with each of these set-ups on that lo:
#   off     nothing
#   filter  a clsact qdisc and a no-op classifier on ingress and egress, attached by hand with tc:
#           what any TC program costs before it runs an instruction
#   wire    alerttrace --no-lib -i lo (started afresh for each run)
#   wire-b  the same with the binary in $AT_B, if set (e.g. a build of the previous commit)
# The set-ups are interleaved, ROUNDS times, in a rotating order; each run fetches the file 3
# times. Per run: MB/s (10^6 bytes), CPU ms per fetch (s_server and curl together, on-CPU time:
# softirq work on loopback runs in their context), and TCPRcvCoalesce per fetch: how many segments
# the receiver appended to the previous one in its queue (skb_try_coalesce). Medians per set-up,
# their ratios to "off", and the median of each round's ratio to its own "off" (paired: it cancels
# the slow drifts of a shared machine). Figures only, never PASS/FAIL.
# Usage: bench/bench_wire.sh [ROUNDS]   (default 7)
set -u
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/bench/lib.sh"
BENCH=bench_wire
ROUNDS=${1:-7}
if [ "$(id -u)" != 0 ]; then
	echo "bench_wire: needs root (network namespace, TC on lo): run as root" >&2
	exit 0
fi
for c in openssl curl python3 tc ip; do
	command -v $c >/dev/null || { echo "bench_wire: $c not found: run make deps" >&2; exit 1; }
done
[ -x "$AT" ] || { echo "bench_wire: no $AT: run make" >&2; exit 1; }
if [ -n "${AT_B:-}" ] && [ ! -x "$AT_B" ]; then
	echo "bench_wire: AT_B=$AT_B is not an executable" >&2
	exit 1
fi
make_certs "$T/c" >/dev/null || { echo "bench_wire: cannot make certificates" >&2; exit 1; }
mkdir -p "$T/www"
head -c $((256 << 20)) /dev/urandom >"$T/www/big.bin"

NS=at_bw_$$
ip netns add $NS || { echo "bench_wire: cannot create a network namespace" >&2; exit 1; }
AT_NETNS+=("$NS")
ip -n $NS link set lo up

# s_server stops at EOF on stdin: a FIFO that this shell keeps open.
mkfifo "$T/stdin"
exec 3<>"$T/stdin"
(cd "$T/www" && exec ip netns exec $NS openssl s_server -WWW -accept 127.0.0.1:4443 \
	-cert "$T/c/server.pem" -key "$T/c/server.key") <"$T/stdin" >"$T/srv.log" 2>&1 &
SRV=$!
AT_PIDS+=("$SRV")
wait_for "$T/srv.log" ACCEPT 10 ||
	{ echo "bench_wire: s_server: $(tail -3 "$T/srv.log")" >&2; exit 1; }

# setup MODE: put MODE in place on the namespace's lo; TPID: the tracer's pid, or empty.
setup() {
	local bin
	TPID=
	case $1 in
	off) return 0 ;;
	filter)
		ip netns exec $NS tc qdisc add dev lo clsact &&
		ip netns exec $NS tc filter add dev lo ingress bpf bytecode '1,6 0 0 0,' &&
		ip netns exec $NS tc filter add dev lo egress bpf bytecode '1,6 0 0 0,' ||
			{ echo "bench_wire: cannot attach the no-op filter" >&2; exit 1; }
		return 0 ;;
	wire) bin=$AT ;;
	wire-b) bin=$AT_B ;;
	esac
	: >"$T/at.err"
	ip netns exec $NS "$bin" --no-lib -i lo -j >"$T/at.out" 2>"$T/at.err" &
	TPID=$!
	AT_PIDS+=("$TPID")
	wait_for "$T/at.err" "Tracing TLS alerts" 20 ||
		{ echo "bench_wire: alerttrace did not start: $(tail -3 "$T/at.err")" >&2; exit 1; }
}

teardown() {
	if [ -n "$TPID" ]; then
		kill -INT "$TPID"
		wait "$TPID"
	fi
	ip netns exec $NS tc qdisc del dev lo clsact 2>/dev/null
	return 0
}

# fetches: 3 fetches; prints "MB/s cpu_ms_per_fetch coalesced_per_fetch".
fetches() {
	ip netns exec $NS python3 - "$SRV" <<-'EOF'
	import os, subprocess, sys
	def srv_ns():
	    with open("/proc/%s/schedstat" % sys.argv[1]) as f:
	        return int(f.read().split()[0])
	def coalesced():
	    with open("/proc/net/netstat") as f:
	        lines = [l.split() for l in f if l.startswith("TcpExt:")]
	    return int(lines[1][lines[0].index("TCPRcvCoalesce")])
	nbytes = secs = cpu = 0.0
	c0 = coalesced()
	for _ in range(3):
	    s0 = srv_ns()
	    p = subprocess.Popen(["curl", "-sk", "-o", "/dev/null", "-w",
	                          "%{size_download} %{time_total}",
	                          "https://127.0.0.1:4443/big.bin"], stdout=subprocess.PIPE)
	    out = p.stdout.read().split()
	    _, _, ru = os.wait4(p.pid, 0)
	    cpu += (srv_ns() - s0) / 1e6 + (ru.ru_utime + ru.ru_stime) * 1e3
	    nbytes += float(out[0])
	    secs += float(out[1])
	print("%.1f %.1f %.0f" % (nbytes / secs / 1e6 if secs else 0, cpu / 3,
	                          (coalesced() - c0) / 3))
	EOF
}

modes=(off filter wire)
[ -n "${AT_B:-}" ] && modes+=(wire-b)
n=${#modes[@]}
echo "bench_wire: $ROUNDS rounds of ${modes[*]}, 3 x 256 MiB per run over lo in namespace $NS;" \
	"$(openssl version)"
[ -n "${AT_B:-}" ] && echo "wire: $AT; wire-b: $AT_B"
printf '%-6s %-7s %10s %12s %12s\n' round mode "MB/s" "cpu ms" coalesced
: >"$T/results"
for r in $(seq 1 "$ROUNDS"); do
	for i in $(seq 0 $((n - 1))); do
		m=${modes[$(( (i + r - 1) % n ))]}
		setup "$m"
		read -r mb cpu co < <(fetches)
		teardown
		printf '%-6s %-7s %10s %12s %12s\n' "$r" "$m" "$mb" "$cpu" "$co"
		echo "$r $m $mb $cpu $co" >>"$T/results"
	done
done
python3 - "$T/results" "${modes[@]}" <<'EOF' | tee "$T/med"
import collections, statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
modes = sys.argv[2:]
runs = collections.defaultdict(dict)
for r, m, mb, cpu, co in rows:
    runs[r][m] = (float(mb), float(cpu), float(co))
def col(m, k):
    return [d[m][k] for d in runs.values() if m in d]
def paired(m, k):
    return [d[m][k] / d["off"][k] for d in runs.values() if m in d and d.get("off", (0, 0))[k]]
med = statistics.median
print("%-8s %22s %8s %8s %22s %8s %8s %10s" % ("median", "MB/s (min-max)", "ratio", "paired",
                                              "cpu ms (min-max)", "ratio", "paired", "coalesced"))
for m in modes:
    mb, cpu, co = col(m, 0), col(m, 1), col(m, 2)
    print("%-8s %22s %8.3f %8.3f %22s %8.3f %8.3f %10.0f" % (
        m, "%.0f (%.0f-%.0f)" % (med(mb), min(mb), max(mb)), med(mb) / med(col("off", 0)),
        med(paired(m, 0)), "%.1f (%.1f-%.1f)" % (med(cpu), min(cpu), max(cpu)),
        med(cpu) / med(col("off", 1)), med(paired(m, 1)), med(co)))
print("ratio: median / the median of off; paired: median over rounds of the run's figure / the")
print("same round's off figure. MB/s: higher is better; cpu ms per 256 MiB: lower is better.")
EOF
bench_headline "bulk TLS on lo, wire source: MB/s paired $(awk '$1 == "wire" { print $5 }' "$T/med"), CPU paired $(awk '$1 == "wire" { print $9 }' "$T/med")"
