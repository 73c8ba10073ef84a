#!/bin/bash
# make sanitize: the C tests built with ASan and UBSan (.output-san/tests/) run under them; then
# every shell test (tests/t_*.sh, tests/versions) with the loader built the same way
# (./alerttrace-san, through ALERTTRACE_BIN): the tracers those tests start, in every mode and
# fault they drive, write any sanitizer report into a directory of this run (log_path), and one
# report there fails the run, beside the tests' own failures (a report also makes the tracer exit
# 99, which the tests that check its status see); then alerttrace-san traces real alerts with its
# reports on stderr: --no-wire streaming JSON, then -H, each while a libssl client capped at TLS
# 1.2 meets a TLS 1.3-only libssl server (protocol_version, sent and received), each ended by
# SIGINT. Leak checking is on (detect_leaks=1).
# Not a t_*.sh: make test does not run it (see README, Hardening). SAN_TESTS: the C tests to run,
# SAN_SHELL: the shell tests (default all; "none" for none).
set -u
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
start=$(date +%s)
FUZZ_SECONDS=${FUZZ_SECONDS:-10} ./tests/run.sh ${SAN_TESTS:-.output-san/tests/test_*}
rc_unit=$?
unit_s=$(( $(date +%s) - start ))
[ "$(id -u)" -eq 0 ] || { echo "sanitize: the shell tests and the tracer runs need root"; exit $((rc_unit ? 1 : 0)); }

# The shell tests with the sanitized loader; its reports into LOGS (ASan and UBSan append the pid).
rc_shell=0 shell_s=0
if [ "${SAN_SHELL:-}" != none ]; then
	LOGS=$(mktemp -d /tmp/alerttrace-san-logs.XXXXXX)
	t0=$(date +%s)
	# The whole output kept (SAN_LOG), the failures printed with their test's name.
	SAN_LOG=${SAN_LOG:-/tmp/alerttrace-san-shell.log}
	ALERTTRACE_BIN=$PWD/alerttrace-san \
		ASAN_OPTIONS=$ASAN_OPTIONS:log_path=$LOGS/asan UBSAN_OPTIONS=$UBSAN_OPTIONS:log_path=$LOGS/ubsan \
		./tests/run.sh ${SAN_SHELL:-$(ls tests/t_*.sh) tests/versions} >"$SAN_LOG" 2>&1
	echo "shell tests with alerttrace-san: $(tail -1 "$SAN_LOG") (the output: $SAN_LOG)"
	grep -q '^[0-9]* passed, 0 failed' <(tail -1 "$SAN_LOG") || {
		rc_shell=1
		awk '/^== / { t = $2 } /^ *FAIL / { sub(/^ */, ""); print t ": " substr($0, 1, 300) }' \
			"$SAN_LOG" | head -60
	}
	shell_s=$(( $(date +%s) - t0 ))
	n=$(ls "$LOGS" | wc -l)
	if [ "$n" -gt 0 ]; then
		echo "FAIL san_shell_reports: $n sanitizer report(s) from alerttrace-san in the shell tests:"
		for f in "$LOGS"/*; do echo "== $f"; head -30 "$f"; done
		rc_shell=1
	else
		echo "PASS san_shell_no_reports (the shell tests with alerttrace-san, ${shell_s} s)"
	fi
	rm -rf "$LOGS"
fi

. tests/lib/common.sh
AT="$TOP/alerttrace-san"
rc_run=0
fail() { echo "FAIL $1: $2"; rc_run=1; }
PORT=$(( 22000 + RANDOM % 2000 ))
# The tracer sees the whole host: peers with a comm of their own (-c at_san) keep other
# processes' alerts out. They are tests/fixtures/tls_workload.py (Python's ssl: the host's
# libssl), on the lo of a network namespace of their own.
workload_setup san

# sanitizer_clean NAME FILE: no ASan/UBSan/LSan report in FILE (a leak also makes status 99).
sanitizer_clean() {
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|LeakSanitizer has encountered|runtime error:' "$2"; then
		fail "$1" "sanitizer report: $(grep -m1 -A6 -E 'ERROR:|runtime error:' "$2" | tr '\n' ' ')"
		return 1
	fi
	pass "$1"
}

# alert_once: a TLS 1.2-only client against a TLS 1.3-only server: protocol_version(70), sent
# by the server, received by the client.
alert_once() {
	ip netns exec $NS $PY "$W" server --port $PORT --cert $C/server.pem --key $C/server.key \
		--min TLSv1_3 --name at_san --log "$T/srv.$PORT.log" &
	local s=$!
	wait_for "$T/srv.$PORT.log" listening 10 || fail san_server "the test server did not start"
	ip netns exec $NS $PY "$W" client --name at_san --log "$T/cli.$PORT.log" \
		--do port=$PORT,ca=$C/ca.pem,max=TLSv1_2,n=1
	kill $s; wait $s 2>/dev/null
	PORT=$((PORT + 1))
}

# run_tracer NAME ARGS...: start, wait for the ready line, make the alert, SIGINT; status 0 and a
# clean sanitizer report expected.
run_tracer() {
	local name=$1 pid rc t0
	shift
	t0=$(date +%s.%N)
	"$AT" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	pid=$!
	AT_PIDS+=($pid)
	if ! wait_for "$T/$name.err" "Tracing TLS alerts" 60; then
		fail "${name}_start" "no ready line in 60 s: $(tail -5 "$T/$name.err")"
		kill -9 $pid 2>/dev/null
		return 1
	fi
	echo "$name: ready after $(echo "$(date +%s.%N) - $t0" | bc) s"
	alert_once
	sleep 1.5
	kill -INT $pid
	wait $pid
	rc=$?
	check "${name}_exit_status" 0 "$rc"
	sanitizer_clean "${name}_sanitizers_clean" "$T/$name.err"
}

run_tracer san_stream --no-wire -j -c at_san
n=$(grep -c '"source":"openssl".*"alert":"protocol_version"' "$T/san_stream.out")
if [ "$n" -ge 2 ]; then
	pass san_stream_alerts_seen
else
	fail san_stream_alerts_seen "expected protocol_version sent and received, got $n: $(head -c 400 "$T/san_stream.out")"
fi
run_tracer san_hist --no-wire -H -c at_san
if grep -q 'comm at_san: sent 1, received 1' "$T/san_hist.out" &&
	grep -q 'openssl sent fatal protocol_version(70) *1 ' "$T/san_hist.out" &&
	grep -q 'openssl recv fatal protocol_version(70) *1 ' "$T/san_hist.out"; then
	pass san_hist_alerts_counted
else
	fail san_hist_alerts_counted "no protocol_version row: $(head -c 400 "$T/san_hist.out")"
fi
echo "sanitize: C tests ${unit_s} s, shell tests ${shell_s} s, all $(( $(date +%s) - start )) s"
[ "$rc_unit" -eq 0 ] && [ "$rc_shell" -eq 0 ] && [ "$rc_run" -eq 0 ] || exit 1
