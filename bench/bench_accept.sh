#!/bin/bash
# The accept-side attribution's cost: connections/s of nginx with two workers (plain HTTP/1.0,
# one request a connection, on lo of a private network namespace; bench/connrate.c with 2 client
# processes) without a tracer and with the whole tracer (`-i lo`: wire and library sources; it
# enters only the network namespace) whose accepting-task program sits on the tracepoints
# syscalls/sys_exit_accept{,4} (all: their ids from tracefs, or from a private mount of it) or
# on the raw tracepoint sys_exit, which
# runs at every system call's exit (rawacc: ALERTTRACE_ACCEPT_RAW=1), and the same tracer without
# either (noacc: ALERTTRACE_NO_ACCEPT=1, the listener's owner for every accepted connection).
# Interleaved rounds in a rotating order, a fresh tracer each run; per-round ratios to the
# round's "off" run and, for the attribution's own cost, to its "noacc" run; medians (the goal:
# >= 0.97). Figures only, never PASS/FAIL.
# Usage: bench/bench_accept.sh [ROUNDS [SECONDS]]   (default 5 rounds of 4 s)
set -u
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/bench/lib.sh"
ROUNDS=${1:-5}
SECS=${2:-4}
bench_setup bench_accept "nginx in a network namespace, TC on lo" nginx
CR=$TOP/.output/bench/connrate
[ -x "$CR" ] || { echo "bench_accept: no $CR: run make tests" >&2; exit 1; }
NS=at_bacc_$$
ip netns add $NS && AT_NETNS+=("$NS") && ip -n $NS link set lo up ||
	{ echo "bench_accept: cannot create a network namespace" >&2; exit 1; }
ip netns exec $NS sysctl -qw net.ipv4.ip_local_port_range="10000 65000" net.ipv4.tcp_tw_reuse=1
PORT=8080
mkdir -p "$T/ng/logs"
cat >"$T/ng/nginx.conf" <<EOF
user root;
worker_processes 2;
daemon off;
pid $T/ng/nginx.pid;
error_log $T/ng/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_timeout 0;
	server { listen 127.0.0.1:$PORT; location / { return 200 "ok\n"; } }
}
EOF
bg ip netns exec $NS nginx -p "$T/ng" -c "$T/ng/nginx.conf" -e "$T/ng/error.log"
for i in $(seq 1 100); do
	ip netns exec $NS ss -Htln | grep -q ":$PORT " && break
	sleep 0.05
done

echo "bench_accept: $ROUNDS rounds of $SECS s; nginx $(nginx -v 2>&1 | sed 's/.*\///'), 2" \
	"workers, 2 client processes, 127.0.0.1:$PORT in a private namespace"
printf '%-6s %-6s %12s %12s %10s %s\n' round mode "conn/s" connections "tracer ms" "accept by"
: >"$T/results"
BENCH_NETNS=$NS BENCH_AT_ARGS=-v
for rm in $(bench_order "$ROUNDS" off noacc all rawacc); do
	r=${rm%%:*} m=${rm#*:}
	bench_tracer bench_accept "$m"
	read -r n secs < <(ip netns exec $NS "$CR" 127.0.0.1 $PORT "$SECS" 2)
	rate=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
	how=- TCPU=-
	if [ -n "$TPID" ]; then
		how=$(sed -n 's/.*accepting tasks from the //p' "$T/at.err" | head -1)
		bench_stop
	fi
	printf '%-6s %-6s %12s %12s %10s %s\n' "$r" "$m" "$rate" "$n" "$TCPU" "$how"
	echo "$r $m $rate" >>"$T/results"
done
python3 - "$T/results" "$T/head" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for r, m, v in rows:
    by.setdefault(r, {})[m] = float(v)
offs = [d["off"] for d in by.values() if "off" in d]
print("off    median %.0f conn/s (%.0f-%.0f)" % (statistics.median(offs), min(offs), max(offs)))
head = []
def paired(m, base):
    r = [d[m] / d[base] for d in by.values() if d.get(base) and m in d]
    return statistics.median(r), min(r), max(r)
for m in ("noacc", "all", "rawacc"):
    rates = [d[m] for d in by.values() if m in d]
    line = "%-6s median %.0f conn/s (%.0f-%.0f), paired ratio to off %.3f (%.3f-%.3f)" % (
        (m, statistics.median(rates), min(rates), max(rates)) + paired(m, "off"))
    if m != "noacc":
        line += ", to noacc %.3f (%.3f-%.3f)" % paired(m, "noacc")
        head.append("%s %.2f of off, %.2f of noacc" % (m, paired(m, "off")[0],
                                                        paired(m, "noacc")[0]))
    else:
        head.append("noacc %.2f of off" % paired(m, "off")[0])
    print(line)
open(sys.argv[2], "w").write("nginx conn/s paired: " + ", ".join(head) + "\n")
EOF
bench_headline "$(cat "$T/head")"

# The programs' own cost, free of the machine's noise: kernel.bpf_stats' run count and time per
# run of the tracer's socket-owner programs during one run of each attach path.
bench_bpf_stats
echo "bpf time of the owner programs (bpf_stats), $SECS s of connections a run:"
printf '%-7s %-20s %10s %10s\n' mode program runs "ns a run"
for m in all rawacc; do
	bench_tracer bench_accept "$m"
	ip netns exec $NS "$CR" 127.0.0.1 $PORT "$SECS" 2 >/dev/null
	for f in /proc/"$TPID"/fdinfo/*; do
		awk '$1 == "prog_id:" { print $2 }' "$f" 2>/dev/null
	done | sort -u | while read -r id; do
		bpftool prog show id "$id" --json 2>/dev/null | python3 -c '
import json, sys
p = json.load(sys.stdin)
if p.get("name") in ("accept4_exit", "accept_exit", "sys_exit_any", "sock_state"):
    n = p.get("run_cnt", 0)
    ns = p.get("run_time_ns", 0) // n if n else 0
    print("%-7s %-20s %10d %10d" % (sys.argv[1], p["name"], n, ns))
' "$m"
	done
	bench_stop
done
