#!/bin/bash
# What the why and where of OpenSSL alerts cost (the server name, the verification result and the
# reason: reads at each alert, and a uprobe on libcrypto's ERR function, which fires only when
# OpenSSL raises an error): the same end-to-end loops as bench_lib.sh (`openssl s_time -new`
# handshakes, each ending with the server's decode_error alert; curl fetching 3 x 256 MiB from
# `openssl s_server -WWW`) traced by `alerttrace --no-wire -j` built without them ("base": the
# tree at BASE_REF, default 8c155b5, the main this work was last rebased on; or the binary BASE_AT)
# and with them ("why": ./alerttrace), interleaved ROUNDS times in a rotating order, a tracer
# started afresh for each run. Ratios why / base (the goal: >= 0.99); figures only, never
# PASS/FAIL.
# Usage: bench/bench_why.sh [ROUNDS [SECONDS]]   (default 5 rounds, 5 s of handshakes per run)
set -u
ROUNDS=${1:-5} SECS=${2:-5}
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/bench/lib.sh" && . "$TOP/tests/fixtures/lib_path.sh"
bench_setup bench_why "uprobes" openssl curl python3 git
BASE=${BASE_AT:-}
if [ -z "$BASE" ]; then
	ref=${BASE_REF:-8c155b5}
	mkdir -p "$T/base"
	git -C "$TOP" archive "$ref" | tar -x -C "$T/base" &&
		nice -n 10 make -C "$T/base" -j2 alerttrace >"$T/base.log" 2>&1 ||
		{ echo "bench_why: cannot build $ref: $(tail -3 "$T/base.log")" >&2; exit 1; }
	BASE=$T/base/alerttrace
fi
bench_ossl_loops "$SECS"

echo "bench_why: $ROUNDS rounds, ${SECS} s of handshakes and 3 x 256 MiB per run; base $BASE;" \
	"$(openssl version)"
printf '%-6s %-4s %14s %12s %12s %10s %8s\n' round mode "handshakes/s" connections "bulk MB/s" \
	events "with why"
: >"$T/results"
for rm in $(bench_order "$ROUNDS" base why); do
	r=${rm%%:*} m=${rm#*:}
	bin=$AT
	[ "$m" = base ] && bin=$BASE
	AT=$bin bench_tracer bench_why lib
	read -r hs n < <(handshakes)
	mb=$(bulk)
	bench_stop
	ev=$(bench_events "$T/at.out" openssl)
	# events that carry a reason, a verification result or a server name (none for base)
	wy=$(grep -c '"reason":"\|"sni":"' "$T/at.out")
	printf '%-6s %-4s %14s %12s %12s %10s %8s\n' "$r" "$m" "$hs" "$n" "$mb" "$ev" "$wy"
	echo "$m $hs $mb" >>"$T/results"
done
echo "events: library events the tracer printed during the run; with why: those carrying sni or"
echo "reason"
bench_summary "$T/results" "base=base (without the why)" "why=why (this tree)"
