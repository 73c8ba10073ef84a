#!/bin/bash
# The cost of the connection's ends in library events: the reads of the session's socket at each
# alert (the BIO's fd, the task's file table, the socket; bpf/fdsock.bpf.h), measured on real
# OpenSSL traffic over loopback as bench_lib.sh does (`openssl s_time -new`: every connection ends
# with an alert from the server, so the reads run once a connection; curl bulk: 3 x 256 MiB),
# `--no-wire` with the reads (lib) against the same tracer without them (noaddr:
# ALERTTRACE_NO_ADDRS=1), and no tracer (off). Interleaved rounds in a rotating order, a fresh
# tracer each run; medians and per-round ratios to noaddr (the goal: >= 0.99). Figures only.
# Usage: bench/bench_reads.sh [ROUNDS [SECONDS]]   (default 7 rounds, 5 s of handshakes per run)
set -u
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/bench/lib.sh"
ROUNDS=${1:-7}
SECS=${2:-5}
bench_setup bench_reads "uprobes" openssl curl python3
. "$TOP/tests/fixtures/lib_path.sh"
bench_ossl_server
handshakes() { bench_ossl_handshakes "$SECS"; }
bulk() { bench_ossl_bulk; }
BENCH_COMM=openssl
echo "bench_reads: $ROUNDS rounds, ${SECS} s of handshakes and 3 x 256 MiB per run; s_server on" \
	"127.0.0.1:$PORT; $(openssl version)"
bench_rounds openssl "$ROUNDS" noaddr lib off
bench_legend "$SECS" openssl
bench_summary "$T/results" "noaddr=without the socket reads (ALERTTRACE_NO_ADDRS=1)" \
	"lib=with them (--no-wire)" "off=no tracer"

# The probes' own cost, free of the peers' noise: kernel.bpf_stats' run time per run of the
# tracer's uprobe programs (prog_type 2), every process's alerts included.
bench_bpf_stats
echo "bpf time of the uprobe programs (run_time_ns / run_cnt), $SECS s of handshakes a run:"
printf '%-6s %-8s %12s %10s %10s\n' round mode run_ns runs "ns a run"
: >"$T/bpf"
for rm in $(bench_order 3 noaddr lib); do
	r=${rm%%:*} m=${rm#*:}
	bench_tracer "$BENCH" "$m"
	handshakes >/dev/null
	read -r ns cnt < <(for f in /proc/"$TPID"/fdinfo/*; do
		awk '$1 == "prog_type:" { t = $2 } $1 == "run_time_ns:" { n = $2 }
		     $1 == "run_cnt:" { c = $2 } END { if (t == 2) print n, c }' "$f" 2>/dev/null
	done | awk '{ n += $1; c += $2 } END { print n + 0, c + 0 }')
	bench_stop
	printf '%-6s %-8s %12s %10s %10s\n' "$r" "$m" "$ns" "$cnt" "$((cnt ? ns / cnt : 0))"
	echo "$m $((cnt ? ns / cnt : 0))" >>"$T/bpf"
done
for m in noaddr lib; do
	echo "$m: median $(awk -v m=$m '$1 == m { print $2 }' "$T/bpf" | sort -n | sed -n 2p) ns a run"
done
