#!/bin/bash
# End to end, library source, as a user runs it: `alerttrace --no-wire -j` (one tracer per case)
# while real `openssl s_server`/`s_client` processes on 127.0.0.1 make one alert each. Each alert
# must be reported twice, `sent` with the pid of the peer that sent it and `received` with the pid
# of the other peer, with the alert's code, level and version, exactly once each.
#
# What alert happened is decided independently of alerttrace: by the peers' own output ("SSL alert
# number 48", "peer did not return a certificate", ...) and by tshark on lo (plaintext alerts with
# their direction, and the version the ServerHello chose). Cases: unknown_ca (TLS 1.3, TLS 1.2,
# DTLS 1.2), protocol_version, no_application_protocol, close_notify (TLS 1.3, TLS 1.2),
# certificate_required (TLS 1.3) and handshake_failure (TLS 1.2), and a plaintext warning
# user_canceled from a raw socket, which OpenSSL reads and ignores: only the read probe sees it.
# VERBOSE=1 prints every tracer's output.
. "$(dirname "$0")/lib/common.sh"
need_root lib_behaviour
for c in openssl tshark python3; do
	command -v $c >/dev/null || { fail lib_behaviour_tools "$c not found: run make deps"; exit 1; }
done
[ -x "$AT" ] || { fail lib_behaviour_build "no $AT: run make"; exit 1; }
make_certs "$T/c" || { fail certs "openssl could not make test certificates"; exit 1; }
C=$T/c
. "$TOP/tests/fixtures/lib_path.sh"

# Ports of this run: a free block below the kernel's ephemeral range, captured.
capture_start 20

WIRE=()	# "NAME PORT PROTO EXPECTED-GLOB", checked once tshark has written the capture

# tls_case NAME PORT SENDER LEVEL CODE VERSION WIRE "SERVER ARGS" "CLIENT ARGS" CLIENT_STDIN
# SENDER: client or server. The alert must come out as sent by SENDER and received by the other.
tls_case() {
	local name=$1 port=$2 sender=$3 level=$4 code=$5 ver=$6 spid skeep cpid s r
	WIRE+=("$name $port tcp $7")
	at_start "$name" || return
	# shellcheck disable=SC2086
	server "$name" "$port" -naccept 1 $8 || { at_stop "$name"; return; }
	spid=$SPID skeep=$SKEEP
	# shellcheck disable=SC2086
	client "$name" "$port" "${10}" $9
	cpid=$CPID
	wait_exit $spid 5 "$skeep"	# -naccept 1: it ends after the connection
	at_stop "$name"
	if [ "$sender" = client ]; then s=$cpid r=$spid; else s=$spid r=$cpid; fi
	echo "   $name: server pid $spid, client pid $cpid"
	LAST_SPID=$spid
	expect "${name}_sent_by_$sender" "$T/$name.at" $s sent "$level" "$code" "$ver" dispatch
	if [ "$sender" = client ]; then sender=server; else sender=client; fi
	expect "${name}_received_by_$sender" "$T/$name.at" $r received "$level" "$code" "$ver" read
}

P=$BASE
# 1. unknown_ca, TLS 1.3: the client does not trust the server's CA. An OpenSSL client still
# writes in plaintext while it reads the server's encrypted flight: the alert is on the wire.
tls_case tls13_unknown_ca $P client 2 48 TLS1.3 "sh=TLS1.3 ch=TLS1.3 alerts=client:2/48@0303" \
	"" "-CAfile $C/other-ca.pem -verify_return_error" 3
peer_said tls13_unknown_ca cli "verify error:num=20" verify_error
peer_said tls13_unknown_ca srv "SSL alert number 48"

# 2. unknown_ca, TLS 1.2: the same, in plaintext before the client's ChangeCipherSpec.
tls_case tls12_unknown_ca $((P + 1)) client 2 48 TLS1.2 \
	"sh=TLS1.2 ch=TLS1.2 alerts=client:2/48@0303" "" \
	"-tls1_2 -CAfile $C/other-ca.pem -verify_return_error" 3
peer_said tls12_unknown_ca cli "verify error:num=20" verify_error
peer_said tls12_unknown_ca srv "SSL alert number 48"

# 3. protocol_version: a TLS 1.3-only server, a TLS 1.2-only client. The server answers in the
# client's version (statem_srvr.c), 0x0303 on the wire.
tls_case protocol_version $((P + 2)) server 2 70 TLS1.2 \
	"sh=none ch=TLS1.2 alerts=server:2/70@0303" "-tls1_3" "-tls1_2" 3
peer_said protocol_version cli "SSL alert number 70"
peer_said protocol_version srv "unsupported protocol" error

# 4. no_application_protocol: ALPN foo against bar. The server chose TLS 1.3 before ALPN; the
# alert goes before its ServerHello, in plaintext.
tls_case no_application_protocol $((P + 3)) server 2 120 TLS1.3 \
	"sh=none ch=TLS1.3 alerts=server:2/120@0303" "-alpn foo" "-alpn bar" 3
peer_said no_application_protocol cli "SSL alert number 120"
peer_said no_application_protocol srv "no application protocol" error

# 5, 6. close_notify: s_client's stdin ends 1 s after the handshake, it shuts the connection.
tls_case tls13_close_notify $((P + 4)) client 1 0 TLS1.3 "sh=TLS1.3 ch=TLS1.3 alerts=none" \
	"" "-CAfile $C/ca.pem" 1
peer_said tls13_close_notify cli "DONE" "done"
peer_said tls13_close_notify srv "DONE" "done"
tls_case tls12_close_notify $((P + 5)) client 1 0 TLS1.2 \
	"sh=TLS1.2 ch=TLS1.2 alerts=client:encrypted*" "" "-tls1_2 -CAfile $C/ca.pem" 1
peer_said tls12_close_notify cli "DONE" "done"
peer_said tls12_close_notify srv "DONE" "done"
CN12_SPID=$LAST_SPID

# 7. certificate_required: TLS 1.3 server requiring a client certificate, a client without one.
tls_case tls13_certificate_required $((P + 6)) server 2 116 TLS1.3 \
	"sh=TLS1.3 ch=TLS1.3 alerts=none" "-Verify 1 -verify_return_error -CAfile $C/ca.pem" "" 3
peer_said tls13_certificate_required cli "SSL alert number 116"
peer_said tls13_certificate_required srv "peer did not return a certificate" error

# 8. The same in TLS 1.2: OpenSSL sends handshake_failure (its internal 116 goes out as 40).
tls_case tls12_handshake_failure $((P + 7)) server 2 40 TLS1.2 \
	"sh=TLS1.2 ch=TLS1.2 alerts=server:2/40@0303" \
	"-tls1_2 -Verify 1 -verify_return_error -CAfile $C/ca.pem" "-tls1_2" 3
peer_said tls12_handshake_failure cli "SSL alert number 40"
peer_said tls12_handshake_failure srv "peer did not return a certificate" error

# 9-12. A plaintext warning user_canceled (15 03 03 00 02 01 5a) from a raw socket (no TLS library
# on that side). After a real ClientHello (TLS 1.2, then TLS 1.3), OpenSSL reads the alert and
# ignores it: only the read probe can report it. Once with s_server -msg, whose own trace must then
# show the warning, once without (the usual case: no message callback). When the raw peer then
# closes, the server answers the early EOF with decode_error (50): in plaintext in TLS 1.2.
# Before any ClientHello, OpenSSL does not read the record as an alert at all: its server rejects
# it with unexpected_message (10), what s_server -msg and the wire both show.
# raw_case NAME PORT MODE WIRE-GLOB [SERVER ARGS...]; the server's pid in RAW_SPID.
raw_case() {
	local name=$1 port=$2 mode=$3 spid skeep
	WIRE+=("$name $port tcp $4")
	shift 4
	at_start "$name" || return 1
	server "$name" "$port" -naccept 1 "$@" || { at_stop "$name"; return 1; }
	spid=$SPID skeep=$SKEEP
	timeout 10 python3 "$FIX/raw_alert_peer.py" 127.0.0.1 "$port" "$mode" >"$T/$name.cli" 2>&1 ||
		fail "${name}_raw_peer" "$(tail -3 "$T/$name.cli")"
	wait_exit $spid 5 "$skeep"
	at_stop "$name"
	echo "   $name: server pid $spid; $(tail -1 "$T/$name.cli")"
	peer_said "$name" cli "sent alert 1/90" raw_peer_sent
	RAW_SPID=$spid
}
if raw_case user_canceled_after_hello12 $((P + 8)) hello12 \
	"sh=TLS1.2 ch=TLS1.2 alerts=client:1/90@0303,server:2/50@0303"; then
	expect user_canceled_after_hello12_received_by_server "$T/user_canceled_after_hello12.at" \
		$RAW_SPID received 1 90 TLS1.2 read
	expect user_canceled_after_hello12_eof_decode_error_sent_by_server \
		"$T/user_canceled_after_hello12.at" $RAW_SPID sent 2 50 TLS1.2 dispatch
fi
if raw_case user_canceled_after_hello12_msg $((P + 9)) hello12 \
	"sh=TLS1.2 ch=TLS1.2 alerts=client:1/90@0303,server:2/50@0303" -msg; then
	peer_said user_canceled_after_hello12_msg srv "Alert [length 0002], warning user_canceled" \
		msg_trace
	expect user_canceled_after_hello12_msg_received_by_server \
		"$T/user_canceled_after_hello12_msg.at" $RAW_SPID received 1 90 TLS1.2 read
fi
if raw_case user_canceled_after_hello13 $((P + 11)) hello13 \
	"sh=TLS1.3 ch=TLS1.3 alerts=client:1/90@0303" -msg; then
	peer_said user_canceled_after_hello13 srv "TLS 1.3, Alert [length 0002], warning user_canceled" \
		msg_trace
	expect user_canceled_after_hello13_received_by_server "$T/user_canceled_after_hello13.at" \
		$RAW_SPID received 1 90 TLS1.3 read
	# The decode_error after the EOF is encrypted now: s_server's -msg trace is the judge.
	peer_said user_canceled_after_hello13 srv "Alert [length 0002], fatal decode_error" \
		msg_trace_eof
	expect user_canceled_after_hello13_eof_decode_error_sent_by_server \
		"$T/user_canceled_after_hello13.at" $RAW_SPID sent 2 50 TLS1.3 dispatch
fi
if raw_case user_canceled_bare $((P + 12)) bare \
	"sh=none ch=none alerts=client:1/90@0303,server:2/10@0303" -msg; then
	peer_said user_canceled_bare srv "Alert [length 0002], fatal unexpected_message" msg_trace
	expect user_canceled_bare_unexpected_message_sent_by_server "$T/user_canceled_bare.at" \
		$RAW_SPID sent 2 10 TLS1.2 dispatch
	echo "   user_canceled_bare: what alerttrace says the server received (OpenSSL never parsed" \
		"the alert): $(judge event "$T/user_canceled_bare.at" $RAW_SPID received 90)"
fi

# 13. DTLS 1.2 unknown_ca over UDP (the capture filter takes UDP too), in plaintext.
DP=$((P + 13))
dtls_case() {
	local name=dtls12_unknown_ca port=$DP spid skeep cpid
	WIRE+=("$name $port udp sh=DTLS1.2 ch=DTLS1.2 alerts=client:2/48@fefd")
	at_start $name || return
	server $name $port -naccept 1 -dtls || { at_stop $name; return; }
	spid=$SPID skeep=$SKEEP
	client $name $port 3 -dtls -CAfile "$C/other-ca.pem" -verify_return_error
	cpid=$CPID
	wait_exit $spid 3 "$skeep"
	at_stop $name
	echo "   $name: server pid $spid, client pid $cpid"
	expect ${name}_sent_by_client "$T/$name.at" $cpid sent 2 48 DTLS1.2 dispatch
	expect ${name}_received_by_server "$T/$name.at" $spid received 2 48 DTLS1.2 read
	peer_said $name cli "verify error:num=20" verify_error
	peer_said $name srv "SSL alert number 48"
}
dtls_case

# The wire, as tshark decoded it.
capture_stop
for w in "${WIRE[@]}"; do
	read -r name port proto want <<<"$w"
	got=$(judge wire "$T/cap.pcapng" "$port" "$proto")
	# shellcheck disable=SC2053
	if [[ "$got" == $want ]]; then pass "${name}_wire_shows_it"; else
		fail "${name}_wire_shows_it" "expected '$want', got '$got'"; fi
	echo "   $name wire: $got"
	# The server's answering close_notify (TLS 1.2) is on the wire only if it was written before
	# the client's socket went away; when it is, alerttrace must have reported it.
	if [ "$name" = tls12_close_notify ] && [[ "$got" == *server:encrypted* ]]; then
		expect tls12_close_notify_answer_sent_by_server "$T/$name.at" "$CN12_SPID" sent 1 0 \
			TLS1.2 dispatch
	fi
done
if [ -n "${VERBOSE:-}" ]; then for f in "$T"/*.at; do echo "== $f"; cat "$f"; done; fi
