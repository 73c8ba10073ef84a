#!/bin/bash
# The library path on bullseye's OpenSSL 1.1.1w (old SSL_METHOD layout, s3 behind a pointer), a
# build this machine does not have: tools/fetch-openssl.sh unpacks it (private apt state, cached).
#  1. .output/tests/test_libs_attach with AT_OPENSSL_LIBS = that libssl.so.1.1: its lib_peer
#     cases run a server and a client on 1.1.1w (its lines are forwarded as they are);
#  2. the ./alerttrace binary (--no-wire -j --lib LIBSSL.so.1.1), end to end:
#     a. tests/fixtures/lib_peer on 1.1.1w: both ends' events, from the 1.1.1w file;
#     b. a 1.1.1w client (tests/fixtures/lib_client) against this machine's `openssl s_server`
#        (3.0, -msg): the client's events must name the 1.1.1w file, the server's the system
#        libssl; the server's -msg log and both peers' own error text judge what happened.
# Each event: the right pid, direction, level, code, TLS version and library (compare_lib.py).
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/versions/lib_at.sh"
need_root lib_111
OSSL_DIR=${AT_OSSL_DIR:-/var/tmp/alerttrace-openssl}
start=$(now)

t0=$(now)
if ! bash "$TOP/tools/fetch-openssl.sh" "$OSSL_DIR" >"$T/fetch.log" 2>&1; then
	skip lib_111 "tools/fetch-openssl.sh $OSSL_DIR failed: $(tail -1 "$T/fetch.log")"
	exit 0
fi
LIB=$OSSL_DIR/bullseye$LIBDIR/libssl.so.1.1
if [ ! -f "$LIB" ]; then
	fail lib_111_fetched "expected $LIB, got: $(ls "$OSSL_DIR/bullseye$LIBDIR" 2>&1 |
		tr '\n' ' ')"
	exit 0
fi
LIB=$(realpath "$LIB")
echo "   fetched in $(elapsed "$t0") s: $(cat "$OSSL_DIR/bullseye/VERSION" 2>/dev/null) -> $LIB"

# ---- 1. the tracer library, through test_libs_attach ----
BIN=$TOP/.output/tests/test_libs_attach
if [ -x "$BIN" ]; then
	t0=$(now)
	AT_OPENSSL_LIBS=$LIB timeout 300 "$BIN" >"$T/libs_attach.out" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|SKIP) ' "$T/libs_attach.out"
	n=$(grep -c '^PASS peer_libssl.so.1.1_' "$T/libs_attach.out")
	echo "   test_libs_attach: status $rc, $n PASS lines for 1.1.1w, $(elapsed "$t0") s"
	if [ "$rc" -ne 0 ] || [ "$n" -eq 0 ]; then
		fail lib_111_libs_attach_ran_the_111_cases \
			"expected status 0 and peer_libssl.so.1.1_ lines, got status $rc and $n"
		grep -E '^   peer_libssl.so.1.1' "$T/libs_attach.out"
	else
		pass lib_111_libs_attach_ran_the_111_cases
	fi
else
	fail lib_111_libs_attach "expected $BIN, got none: run make tests"
fi

# ---- 2. the alerttrace binary ----
need_binary lib_111_alerttrace
CD=$T/certs
make_ca_certs "$CD" || { fail lib_111_certs "expected certificates in $CD, got an error"; exit 0; }
for f in lib_peer lib_client; do
	if ! ${CC:-cc} -O2 -o "$T/$f" "$TOP/tests/fixtures/$f.c" -ldl 2>"$T/$f.build"; then
		fail "lib_111_build_$f" \
			"expected tests/fixtures/$f.c to build, got: $(head -1 "$T/$f.build")"
		exit 0
	fi
done
SYS=$(realpath "$LIBDIR/libssl.so.3")
printf 'go\n' >"$T/go"

t0=$(now)
at_start lib111 --no-wire -j --lib "$LIB" || exit 0
# The coverage report names the 1.1.1w file with every hook it needs.
if grep -F "\"path\":\"$LIB\"" "$T/lib111.err" | grep -q '"sent":true,"received":true'; then
	pass "lib111_coverage_report_hooks_sent_and_received ($(grep -F "\"path\":\"$LIB\"" \
"$T/lib111.err" | sed -n 's/.*"version":"\([^"]*\)".*/\1/p'))"
else
	fail lib111_coverage_report_hooks_sent_and_received "expected $LIB with sent and received \
hooked, got: $(grep -F "$LIB" "$T/lib111.err" | head -2)"
fi

# a. lib_peer: server and client both on 1.1.1w (the server is lib_peer, the client its child)
peer_case() { # CASE WANT...
	local c=$1 n=lib111_peer_$1 log=$T/lib111_peer_$1.log srv cli w args=()
	shift
	LD_LIBRARY_PATH=$(dirname "$LIB") "$T/lib_peer" "$LIB" "$CD" "$c" <"$T/go" >"$log" 2>&1 &
	srv=$!
	AT_PIDS+=("$srv")
	if ! wait_exit "$srv" 15; then
		fail "$n" "expected lib_peer to finish within 15 s, got a hang"
		return
	fi
	cli=$(sed -n 's/^client //p' "$log")
	if [ "$AT_RC" != 0 ] || [ -z "$cli" ]; then
		fail "$n" "expected lib_peer to run the case, got status $AT_RC: $(
			tr '\n' '|' <"$log")"
		return
	fi
	echo "   $n: server pid $srv, client pid $cli"
	for w in "$@"; do args+=(--want "$w"); done
	checklater lib111 "$n" --peer server "$srv" "$LIB" lib_peer - \
		--peer client "$cli" "$LIB" lib_peer - "${args[@]}"
}
peer_case unknown_ca "client sent 2 48 TLS1.3" "server received 2 48 TLS1.3"
peer_case protocol_version "server sent 2 70" "client received 2 70"
peer_case close_notify13 "client sent 1 0 TLS1.3" "server received 1 0 TLS1.3" \
	"server sent 1 0 TLS1.3" "client received 1 0 TLS1.3"
peer_case close_notify12 "client sent 1 0 TLS1.2" "server received 1 0 TLS1.2" \
	"server sent 1 0 TLS1.2" "client received 1 0 TLS1.2"

# b. a 1.1.1w client against this machine's s_server (3.0)
mixed_case() { # CASE SERVER-ARGS WANT...
	local c=$1 n=lib111_mixed_$1 sargs=$2 port slog clog cli w args=()
	shift 2
	port=$(free_port)
	slog=$T/$n.server.log clog=$T/$n.client.log
	if ! srv_start "$slog" openssl s_server -accept "127.0.0.1:$port" -naccept 1 \
		-cert "$CD/srv.pem" -key "$CD/srv.key" -msg $sargs; then
		fail "$n" "expected s_server to listen, got: $(head -3 "$slog" | tr '\n' '|')"
		return
	fi
	LD_LIBRARY_PATH=$(dirname "$LIB") "$T/lib_client" "$LIB" "$port" "$c" "$CD" >"$clog" 2>&1 &
	cli=$!
	AT_PIDS+=("$cli")
	wait_exit "$cli" 15 || fail "$n" "expected lib_client to finish within 15 s, got a hang"
	wait_exit "$SRV_PID" 10 ||
		fail "$n" "expected s_server to end after one session, got a hang"
	echo "   $n: server pid $SRV_PID (system $SYS), client pid $cli (1.1.1w)"
	case $c in
	unknown_ca)
		says "${n}_server_says_alert_unknown_ca" "$slog" "alert unknown ca" "s_server"
		says "${n}_client_says_verify_failed" "$clog" "certificate verify failed" 1.1.1w ;;
	protocol_version)
		says "${n}_client_says_alert_protocol_version" "$clog" "alert protocol version" \
			1.1.1w
		says "${n}_server_says_unsupported_protocol" "$slog" "unsupported protocol" \
			s_server ;;
	close_notify*)
		says "${n}_client_got_close_notify" "$clog" "peer closed: SSL_read 0 error 6" \
			"SSL_ERROR_ZERO_RETURN"
		says "${n}_server_got_close_notify" "$slog" "^DONE" "s_server" ;;
	esac
	for w in "$@"; do args+=(--want "$w"); done
	checklater lib111 "$n" --peer server "$SRV_PID" "$SYS" openssl "$slog" \
		--peer client "$cli" "$LIB" lib_client - "${args[@]}"
}
mixed_case unknown_ca "" "client sent 2 48 TLS1.3" "server received 2 48 TLS1.3"
mixed_case protocol_version "-tls1_3" "server sent 2 70" "client received 2 70"
mixed_case close_notify13 "" "client sent 1 0 TLS1.3" "server received 1 0 TLS1.3" \
	"server sent 1 0 TLS1.3" "client received 1 0 TLS1.3"
mixed_case close_notify12 "" "client sent 1 0 TLS1.2" "server received 1 0 TLS1.2" \
	"server sent 1 0 TLS1.2" "client received 1 0 TLS1.2"

at_stop lib111
run_checks lib111
lib_events_summary lib111
lost=$(grep -c '"error":"lost' "$T/lib111.err")
check lib111_no_lost_events 0 "$lost"
echo "   alerttrace part: $(elapsed "$t0") s; t_lib_111 in all: $(elapsed "$start") s"
exit 0
