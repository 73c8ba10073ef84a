#!/bin/bash
# The static binary (make static: alerttrace-static) is static and serves /metrics with real
# alerts counted. Witnesses of our own making are not used:
#  - ldd says "not a dynamic executable" and readelf finds no program interpreter;
#  - in a network namespace of the test's own, `alerttrace-static -H --prometheus` traces a
#    TLS 1.3-only `openssl s_server` and 3 `openssl s_client -tls1_2`; each client's own output
#    says "alert number 70" (protocol_version), and the server's -msg trace says it sent
#    "fatal protocol_version" 3 times. Copies of the openssl program named atst_srv and atst_cli
#    give the series comms no other process on the host has.
#  - the scrape: the openssl series (sent by atst_srv, received by atst_cli) and the wire series
#    (the namespace's lo, both directions) count exactly what the peers said; promtool accepts
#    the exposition; 404 elsewhere; the tracer exits 0 on SIGINT;
#  - `alerttrace-static --selftest` passes for openssl, gnutls and wire (its peers run with the
#    host's dynamic loader: a static dlopen cannot run libgnutls).
. "$(dirname "$0")/lib/common.sh"
need_root static
AT="$TOP/alerttrace-static"
[ -x "$AT" ] || { fail static_build "no $AT: run make static"; exit 1; }
test_prologue static curl promtool openssl ldd readelf
NS=at_static_$$
ip netns add "$NS" && AT_NETNS+=("$NS") && ip -n "$NS" link set lo up ||
	{ fail static_netns "cannot create a network namespace"; exit 1; }
nsx() { ip netns exec "$NS" "$@"; }

check static_ldd_not_dynamic "not a dynamic executable" "$(ldd "$AT" 2>&1 | sed 's/^[[:space:]]*//')"
check static_no_interpreter "" "$(readelf -l "$AT" | grep -i 'program interpreter')"

cp "$(command -v openssl)" "$T/atst_srv" && cp "$(command -v openssl)" "$T/atst_cli"
MPORT=$(( 31000 + RANDOM % 500 )) P=$(( 31600 + RANDOM % 300 ))
bg ip netns exec "$NS" "$AT" -H --prometheus 127.0.0.1:$MPORT -i lo >"$T/at.out" 2>"$T/at.err"
ATPID=$!
wait_for "$T/at.err" "Tracing TLS alerts" 30 ||
	{ fail static_start "$(tail -3 "$T/at.err")"; exit 1; }
# s_server ends at the end of its input: a FIFO the test holds open gives it none (not through
# bg: an asynchronous command's own redirection is what keeps bash from giving it /dev/null).
mkfifo "$T/srv.in" && exec 3<>"$T/srv.in"
ip netns exec "$NS" "$T/atst_srv" s_server -tls1_3 -accept $P -cert "$C/server.pem" \
	-key "$C/server.key" -msg <"$T/srv.in" >"$T/srv.txt" 2>&1 &
AT_PIDS+=($!)
for _ in $(seq 1 50); do
	nsx bash -c "echo >/dev/tcp/127.0.0.1/$P" 2>/dev/null && break
	sleep 0.1
done
# The tracer hooks a new program's libssl at its exec, or at the rescan every second.
sleep 1.2
for i in 1 2 3; do
	nsx "$T/atst_cli" s_client -tls1_2 -connect 127.0.0.1:$P </dev/null >"$T/cli$i.txt" 2>&1
done
cli=$(cat "$T"/cli?.txt | grep -c 'alert number 70')
srv=$(grep -c 'Alert .*fatal protocol_version' "$T/srv.txt")
check static_peers_saw_protocol_version "3 3" "$cli $srv"
sleep 2.2
code=$(nsx curl -s -o "$T/scrape" -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics")
check static_serves_metrics 200 "$code"
# sample SOURCE DIRECTION COMM: the value of that protocol_version series, 0 when absent.
sample() {
	local v
	v=$(grep -F "alerttrace_alerts_total{source=\"$1\",direction=\"$2\",level=\"fatal\",alert=\"protocol_version\",comm=\"$3\"} " \
		"$T/scrape" | awk '{print $2}')
	echo "${v:-0}"
}
check static_openssl_sent_counted 3 "$(sample openssl sent atst_srv)"
check static_openssl_received_counted 3 "$(sample openssl received atst_cli)"
check static_wire_sent_counted 3 "$(sample wire sent atst_srv)"
check static_wire_received_counted 3 "$(sample wire received atst_cli)"
msg=$(promtool check metrics <"$T/scrape" 2>&1) && pass static_promtool_accepts ||
	fail static_promtool_accepts "$(echo "$msg" | head -3 | tr '\n' ' ')"
check static_404_elsewhere 404 \
	"$(nsx curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/other")"
kill -INT $ATPID
wait $ATPID
check static_exits_0 0 $?
# The selftest's peers run with the host's dynamic loader, also from the static binary.
"$AT" --selftest >"$T/st.out" 2>&1
check static_selftest_exit_0 0 $?
check static_selftest_sources_ok "openssl gnutls go wire" \
	"$(grep -o '^[a-z]*: ok' "$T/st.out" | sed 's/: ok//' | tr '\n' ' ' | sed 's/ $//')"
