#!/bin/bash
# The quic source under a flood of QUIC Initial packets: valid client Initials (each opens with
# keys from its own connection ID: a key derivation, header protection and AES-GCM in the loader)
# sent on lo at a ramp of rates for about 2 s each, to a port nothing listens on, while
# `alerttrace -i lo --no-lib -j` runs. Per step: the datagrams sent, those the kernel's rate limit
# left unopened (stderr and alerttrace_quic_unopened_total; the limit is 2000 a second per CPU, and
# on lo each datagram passes egress and ingress), the tracer's CPU per Initial it opened, and the
# events lost (none expected: an Initial without a close makes no event). ROUNDS ramps; figures
# only, never PASS/FAIL.
# Usage: bench/bench_quic.sh [ROUNDS]   (default 2)
set -u
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/bench/lib.sh"
ROUNDS=${1:-2}
bench_setup bench_quic "TC on lo" python3
python3 -c 'import cryptography' 2>/dev/null || { echo "bench_quic: python3-cryptography missing: run make deps" >&2; exit 1; }
NS=at_bq_$$
ip netns add $NS && AT_NETNS+=($NS) && ip -n $NS link set lo up || { echo "bench_quic: netns" >&2; exit 1; }
# 512 distinct client Initials (1200 bytes), built once with python's cryptography.
python3 - "$T/initials" "$TOP/tests/fixtures/quic_vectors.py" <<'PY'
import os, sys
src = open(sys.argv[2]).read().split("\nout = []")[0]   # the helpers, not the vector list
ns = {}
exec(src, ns)
with open(sys.argv[1], "wb") as f:
    for i in range(512):
        d = os.urandom(8)
        p = ns["packet"](ns["V1"], 0, d, os.urandom(8), 0,
                         ns["crypto"](os.urandom(300)) + b"\0" * 860, ns["keys"](ns["V1"], d, True))
        f.write(len(p).to_bytes(2, "big") + p)
PY
printf '%-6s %8s %8s %9s %9s %12s %6s\n' round rate sent unopened opened "us/opened" lost
for round in $(seq 1 "$ROUNDS"); do
	for rate in 500 2000 8000 32000; do
		bg ip netns exec $NS "$AT" -i lo --no-lib -j >"$T/at.out" 2>"$T/at.err"
		TPID=$!
		wait_for "$T/at.err" "Tracing TLS alerts" 20 || { echo "bench_quic: tracer did not start" >&2; exit 1; }
		c0=$(bench_cpu $TPID)
		sent=$(ip netns exec $NS python3 - "$T/initials" $rate <<'PY'
import socket, sys, time
data = open(sys.argv[1], "rb").read()
pk, i = [], 0
while i < len(data):
    n = int.from_bytes(data[i:i + 2], "big"); pk.append(data[i + 2:i + 2 + n]); i += 2 + n
rate = int(sys.argv[2]); s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t0 = time.monotonic(); k = 0
while time.monotonic() - t0 < 2:
    d = t0 + k / rate - time.monotonic()
    if d > 0:
        time.sleep(d)
    s.sendto(pk[k % len(pk)], ("127.0.0.1", 9)); k += 1
print(k)
PY
)
		sleep 0.5
		cpu=$(( $(bench_cpu $TPID) - c0 ))
		kill -INT $TPID; wait $TPID
		unopened=$(grep -o '[0-9]* QUIC Initial packets not opened' "$T/at.err" | awk '{ n += $1 } END { print n + 0 }')
		lost=$(grep -c '"error":"lost' "$T/at.err")
		# on lo each datagram is seen twice (egress and ingress)
		opened=$(( 2 * sent - unopened ))
		printf '%-6s %8s %8s %9s %9s %12s %6s\n' $round $rate $sent $unopened $opened \
			"$(awk -v c=$cpu -v o=$opened 'BEGIN { printf "%.1f", o ? c * 1000 / o : 0 }')" $lost
	done
done
