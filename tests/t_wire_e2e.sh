#!/bin/bash
# End to end, wire source: openssl s_server and s_client in two network namespaces joined by veth,
# alerttrace on the client's veth, tshark capturing the same interface. The alerts alerttrace
# prints must equal the alert records tshark decodes, field by field.
. "$(dirname "$0")/lib/common.sh"
need_root wire_e2e
SRV=at_w_srv CLI=at_w_cli
netns_pair $SRV $CLI 10.77.0.1 10.77.0.2 || { fail netns_setup "cannot create namespaces"; exit 1; }
make_certs "$T/c" || { fail certs "openssl could not make test certificates"; exit 1; }
C=$T/c

bg ip netns exec $CLI tshark -n -i b0 -w "$T/cap.pcapng" -f "tcp portrange 4430-4450" 2>"$T/tshark.err"
wait_for "$T/tshark.err" "Capturing on" 20 || { fail tshark_start "$(cat $T/tshark.err)"; exit 1; }
bg ip netns exec $CLI "$AT" --no-lib -j -i b0 >"$T/at.out" 2>"$T/at.err"
ATPID=$!
wait_for "$T/at.err" "Tracing TLS alerts" 20 || { fail alerttrace_start "$(cat $T/at.err)"; exit 1; }

# scenario PORT ADDR "SERVER ARGS" "CLIENT ARGS" [STDIN]
scenario() {
	local port=$1 addr=$2
	# s_server and s_client stop at EOF on stdin: keep it open while they work.
	sleep 3 | ip netns exec $SRV openssl s_server -accept "$port" -naccept 1 -cert $C/server.pem \
		-key $C/server.key $3 >"$T/srv.$port" 2>&1 &
	local spid=$!
	wait_for "$T/srv.$port" ACCEPT 10
	(echo "${5:-}"; sleep 1) | timeout 10 ip netns exec $CLI openssl s_client -connect "$addr:$port" \
		-servername server $4 >"$T/cli.$port" 2>&1
	sleep 0.3
	kill $spid 2>/dev/null; wait $spid 2>/dev/null
}
scenario 4431 10.77.0.1 "-tls1_3" "-tls1_2"                                   # protocol_version
scenario 4432 10.77.0.1 "-tls1_3 -groups X25519" "-tls1_3 -groups P-256"      # handshake_failure
scenario 4433 10.77.0.1 "-alpn foo" "-alpn bar"                               # no_application_protocol
scenario 4434 10.77.0.1 "-tls1_2" "-tls1_2 -verify_return_error -CAfile $C/other-ca.pem" # unknown_ca
scenario 4435 10.77.0.1 "-tls1_2" "-tls1_2 -CAfile $C/ca.pem" "hello"          # close_notify, encrypted
scenario 4436 '[fd00:77::1]' "-tls1_2 -Verify 1 -CAfile $C/ca.pem" "-tls1_2"    # IPv6 handshake_failure
scenario 4437 10.77.0.1 "-tls1_2 -Verify 1 -verify_return_error -CAfile $C/other-ca.pem" \
	"-tls1_2 -cert $C/client.pem -key $C/client.key"                      # unknown_ca from the server
scenario 4438 10.77.0.1 "-tls1_2" \
	"-tls1_2 -CAfile $C/ca.pem -verify_return_error -attime 4102444800"        # certificate_expired
scenario 4439 10.77.0.1 "-tls1_2" \
	"-tls1_2 -CAfile $C/ca.pem -verify_return_error -verify_hostname nothere.example" # bad_certificate
sleep 0.5

kill -INT $ATPID; wait $ATPID; rc=$?
check alerttrace_exits_0_on_sigint 0 $rc
ip netns exec $CLI pkill -INT -f "tshark -n -i b0" ; sleep 1
tshark -n -r "$T/cap.pcapng" -d tcp.port==4430-4450,tls -T json >"$T/tshark.json" 2>/dev/null
python3 "$TOP/tests/lib/compare_wire.py" "$T/at.out" "$T/tshark.json" 10.77.0.2,fd00:77::2 5 1
if [ -n "${VERBOSE:-}" ]; then cat "$T/at.out"; fi
