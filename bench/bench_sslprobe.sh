#!/bin/bash
# alerttrace's library hooks against the probe people reach for to watch TLS in a process: bcc's
# sslsniff-bpfcc (Debian's bpfcc-tools) compiles its BPF program at start from kernel headers, and
# this kernel has none (and no kprobes), so it cannot run here (checked below); instead a
# bpftrace uprobe and uretprobe on SSL_read and SSL_write of the system libssl, summing the bytes
# per process (what sslsniff hooks, without its copy of the data). Set-ups, interleaved ROUNDS
# times in a rotating order, a tracer started afresh each run:
#   off       nothing
#   lib       alerttrace --no-wire -j
#   bpftrace  the bpftrace program
# Per run: handshakes/s of `openssl s_time -new` against `openssl s_server -WWW` for SECONDS,
# and bulk MB/s of curl fetching 3 x 256 MiB from it (each read of both ends fires the bpftrace
# probes; alerttrace's hooks sit on the alert paths only). Medians and paired ratios to off.
# Usage: bench/bench_sslprobe.sh [ROUNDS [SECONDS]]   (default 5 rounds, 4 s of handshakes)
set -u
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/bench/lib.sh"
ROUNDS=${1:-5}
SECS=${2:-4}
bench_setup bench_sslprobe "uprobes" openssl curl python3 bpftrace
LIB=/usr/lib/x86_64-linux-gnu/libssl.so.3
if command -v sslsniff-bpfcc >/dev/null; then
	timeout 30 sslsniff-bpfcc >"$T/sslsniff.out" 2>&1 &
	sp=$!
	sleep 8
	if kill -0 $sp 2>/dev/null; then
		kill -INT $sp
		echo "bench_sslprobe: sslsniff-bpfcc runs here, but is not measured by this bench"
	else
		echo "bench_sslprobe: sslsniff-bpfcc cannot run on this kernel:" \
			"$(grep -m1 -i 'kernel headers\|kprobe\|error' "$T/sslsniff.out")"
	fi
	wait $sp 2>/dev/null
else
	echo "bench_sslprobe: sslsniff-bpfcc not installed (bpfcc-tools: make deps)"
fi
BENCH_BPFTRACE="
uprobe:$LIB:SSL_read, uprobe:$LIB:SSL_write { @in[tid] = 1; }
uretprobe:$LIB:SSL_read, uretprobe:$LIB:SSL_write /@in[tid]/ {
	if ((int32)retval > 0) { @bytes[comm] = sum((int32)retval); }
	delete(@in[tid]);
}"
. "$TOP/tests/fixtures/lib_path.sh"
bench_ossl_server
handshakes() { bench_ossl_handshakes "$SECS"; }
bulk() { bench_ossl_bulk; }
echo "bench_sslprobe: $ROUNDS rounds, $SECS s of handshakes and 3 x 256 MiB per run; $(openssl version)," \
	"$(bpftrace --version)"
bench_rounds openssl "$ROUNDS" off lib bpftrace
echo "events: library events alerttrace printed (bpftrace: 0, it prints its sums at the end)"
bench_summary "$T/results" "off=off (nothing)" "lib=alerttrace --no-wire" \
	"bpftrace=bpftrace SSL_read/SSL_write"
