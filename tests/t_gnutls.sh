#!/bin/bash
# End to end, GnuTLS: `alerttrace --no-wire -j` (one tracer per case) while real GnuTLS peers
# (gnutls-cli, gnutls-serv, wget) on 127.0.0.1 make alerts with OpenSSL peers (s_server,
# s_client) and with each other. Each alert must be reported `sent` with the sender's pid and
# `received` with the receiver's, "source":"gnutls" for a GnuTLS peer (hooks alert_send and
# record, libgnutls.so.30) and "source":"openssl" for an OpenSSL one, with the alert's level,
# code and version, exactly once each; the coverage report must list libgnutls.so.30 with
# provider gnutls and both hooks.
#
# What alert happened is decided without alerttrace: by the peers' own output (gnutls-cli's
# "*** Received alert [48]: CA is unknown", s_server's "SSL alert number 42", and GnuTLS's log
# at level 5, which names every alert the library sends or parses), and by tshark on lo, which
# decrypts TLS 1.3 (and encrypted TLS 1.2 alerts) with the peers' key logs.
# The version expected: the one the ServerHello chose; before one, the version each peer had
# settled on: a server its choice from the ClientHello (OpenSSL and GnuTLS choose it before the
# cipher and ALPN); an OpenSSL client the highest it offered (tshark's ch=), as in
# t_lib_behaviour.sh; a GnuTLS client the ClientHello's legacy version it set, which its own log
# names ("Adv. version: 3.3": TLS1.2, also when it offers TLS 1.3); a server that rejected every
# version the client offered writes its alert in the record version on the wire (0303: TLS1.2).
# What the peers really do (found with tshark, and asserted as such): a GnuTLS client that does
# not trust the server sends bad_certificate (42), not unknown_ca; a TLS 1.3 s_client sends its
# unknown_ca in plaintext, which a GnuTLS server tries to decrypt and answers with bad_record_mac
# (20); a GnuTLS server whose versions do not meet the client's answers handshake_failure (40),
# protocol_version (70) only to a version older than all of its own; wget sends no alert at all
# when it does not trust the server (it checks the certificate after the handshake and closes).
# VERBOSE=1 prints every tracer's output.
. "$(dirname "$0")/lib/common.sh"
need_root gnutls
test_prologue gnutls openssl gnutls-cli gnutls-serv wget tshark python3
# wget checks the URL's host against the certificate: one for 127.0.0.1, signed by ca.
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
	-keyout "$C/ip.key" -out "$C/ip.csr" 2>/dev/null &&
	openssl x509 -req -in "$C/ip.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -days 2 \
		-extfile <(echo subjectAltName=IP:127.0.0.1) -out "$C/ip.pem" 2>/dev/null ||
	{ fail certs "openssl could not make the 127.0.0.1 certificate"; exit 1; }
. "$TOP/tests/fixtures/lib_path.sh"
. "$TOP/tests/fixtures/gnutls_peers.sh"

capture_start 24

# shellcheck disable=SC2034 # pair and wire_checks (gnutls_peers.sh) use it
WIRE=()	# "NAME PORT EXPECTED-GLOB" of each pair, checked once tshark has written the capture

P=$BASE
ON="--x509cafile $C/other-ca.pem" OK="--x509cafile $C/ca.pem"
TLS12=--priority=NORMAL:-VERS-ALL:+VERS-TLS1.2 TLS13=--priority=NORMAL:-VERS-ALL:+VERS-TLS1.3
# v2 ARG: ARG for the TLS 1.2 round of a loop over v in 3 2
v2() { [ "$v" = 2 ] && echo "$1"; }

# 1, 2. A gnutls-cli that does not trust the server's CA sends bad_certificate (42): in TLS 1.3
# encrypted with its handshake keys, in TLS 1.2 in plaintext.
for v in 3 2; do
	n=tls1${v}_bad_certificate_gnutls_client
	pair $n $((P + (v == 2))) openssl gnutls 3 "" "$ON $(v2 "$TLS12")" \
		"sh=TLS1.$v ch=TLS1.$v alerts=client:2/42@0303" || continue
	peer_said $n cli "The certificate issuer is unknown" verify_error
	gnutls_said $n cli sent 2 42
	peer_said $n srv "SSL alert number 42"
	exchange $n client 2 42 TLS1.$v
	[ $v = 3 ] || continue
	# The coverage report, once: the host's libgnutls.so.30 with both hooks.
	got=$(judge coverage "$T/$n.at.err" gnutls |
		awk '$1 ~ /\/libgnutls\.so\.30(\.[0-9]+)*$/ { n = split($1, p, "/"); print p[n], $2 }' |
		sed -E 's/^(libgnutls\.so\.30)[.0-9]* /\1 /')
	check gnutls_coverage_report_lists_libgnutls_sent_received \
		"libgnutls.so.30 sent,received" "$got"
done

# 3. The same between two GnuTLS peers: gnutls-serv reads it.
n=tls13_bad_certificate_gnutls_both
if pair $n $((P + 2)) gnutls gnutls 3 "" "$ON" "sh=TLS1.3 ch=TLS1.3 alerts=client:2/42@0303"
then
	gnutls_said $n cli sent 2 42
	gnutls_said $n srv received 2 42
	peer_said $n srv "A TLS fatal alert has been received" error
	exchange $n client 2 42 TLS1.3
fi

# 4. An s_client that does not trust gnutls-serv sends unknown_ca (48), TLS 1.2: gnutls-serv
# reads it.
n=tls12_unknown_ca_to_gnutls_server
if pair $n $((P + 3)) gnutls openssl 3 "" "-tls1_2 -CAfile $C/other-ca.pem -verify_return_error" \
	"sh=TLS1.2 ch=TLS1.2 alerts=client:2/48@0303"; then
	peer_said $n cli "verify error:num=20" verify_error
	gnutls_said $n srv received 2 48
	exchange $n client 2 48 TLS1.2
fi

# 5. The same in TLS 1.3: s_client writes its unknown_ca in plaintext while gnutls-serv already
# expects its handshake keys; GnuTLS fails to decrypt the record ("Decryption has failed"),
# never parses an alert, and sends bad_record_mac (20), encrypted.
n=tls13_unknown_ca_to_gnutls_server
if pair $n $((P + 4)) gnutls openssl 3 "" "-CAfile $C/other-ca.pem -verify_return_error" \
	"sh=TLS1.3 ch=TLS1.3 alerts=client:2/48@0303,server:2/20@0303"; then
	peer_said $n cli "verify error:num=20" verify_error
	peer_said $n srv "Decryption has failed" error
	gnutls_said $n srv sent 2 20
	gnutls_said $n srv received 2 48 0
	alert $n client sent 2 48 TLS1.3
	no_alert $n server 48
	alert $n server sent 2 20 TLS1.3 bad_record_mac
fi

# 6. TLS 1.3, the other way: s_server does not trust gnutls-cli's client certificate and sends
# unknown_ca, encrypted; gnutls-cli reads it.
n=tls13_unknown_ca_to_gnutls_client
if pair $n $((P + 5)) openssl gnutls 3 "-Verify 1 -verify_return_error -CAfile $C/other-ca.pem" \
	"$OK --x509certfile $C/client.pem --x509keyfile $C/client.key" \
	"sh=TLS1.3 ch=TLS1.3 alerts=server:2/48@0303"; then
	peer_said $n cli "*** Received alert [48]: CA is unknown"
	gnutls_said $n cli received 2 48
	exchange $n server 2 48 TLS1.3
fi

# 7. gnutls-serv requiring a client certificate from a CA it does not trust: it sends two
# alerts, access_denied (49) then bad_certificate (42); s_client reads the first and stops.
n=tls13_access_denied_from_gnutls_server
if pair $n $((P + 6)) gnutls openssl 3 \
	"--require-client-cert --verify-client-cert --x509cafile $C/other-ca.pem" \
	"-cert $C/client.pem -key $C/client.key -CAfile $C/ca.pem" \
	"sh=TLS1.3 ch=TLS1.3 alerts=server:2/49@0303,server:2/42@0303"; then
	gnutls_said $n srv sent 2 49
	gnutls_said $n srv sent 2 42
	peer_said $n cli "SSL alert number 49"
	exchange $n server 2 49 TLS1.3
	alert $n server sent 2 42 TLS1.3 bad_certificate
	no_alert $n client 42
fi

# 8. handshake_failure (40), TLS 1.3: no common cipher suite (s_server: ChaCha20 only,
# gnutls-cli: AES-128-GCM only). s_server chose TLS 1.3 before it looked at the suites.
n=tls13_handshake_failure_to_gnutls_client
if pair $n $((P + 7)) openssl gnutls 3 "-ciphersuites TLS_CHACHA20_POLY1305_SHA256" \
	"$OK --priority=NORMAL:-CIPHER-ALL:+AES-128-GCM" "sh=none ch=TLS1.3 alerts=server:2/40@0303"
then
	peer_said $n srv "no shared cipher" error
	peer_said $n cli "*** Received alert [40]: Handshake failed"
	gnutls_said $n cli received 2 40
	exchange $n server 2 40 TLS1.3 "$(gnutls_hello_version $n)"
fi

# 9. handshake_failure, TLS 1.2, from gnutls-serv (AES-128-GCM only; s_client: ChaCha20 only).
n=tls12_handshake_failure_from_gnutls_server
if pair $n $((P + 8)) gnutls openssl 3 "--priority=NORMAL:-CIPHER-ALL:+AES-128-GCM" \
	"-tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305" "sh=none ch=TLS1.2 alerts=server:2/40@0303"
then
	peer_said $n srv "No supported cipher suites have been found" error
	gnutls_said $n srv sent 2 40
	peer_said $n cli "SSL alert number 40"
	exchange $n server 2 40 TLS1.2
fi

# 10-12. no_application_protocol (120): ALPN foo against bar, before any ServerHello; both
# servers chose the version before they read ALPN.
n=tls13_no_application_protocol_to_gnutls_client
if pair $n $((P + 9)) openssl gnutls 3 "-alpn foo" "$OK --alpn=bar" \
	"sh=none ch=TLS1.3 alerts=server:2/120@0303"; then
	peer_said $n srv "no application protocol" error
	gnutls_said $n cli received 2 120
	exchange $n server 2 120 TLS1.3 "$(gnutls_hello_version $n)"
fi
for v in 3 2; do
	n=tls1${v}_no_application_protocol_from_gnutls_server
	pair $n $((P + 10 + (v == 2))) gnutls openssl 3 "--alpn=foo --alpn-fatal" \
		"-alpn bar $(v2 -tls1_2)" "sh=none ch=TLS1.$v alerts=server:2/120@0303" || continue
	peer_said $n srv "No common application protocol could be negotiated" error
	gnutls_said $n srv sent 2 120
	peer_said $n cli "SSL alert number 120"
	exchange $n server 2 120 TLS1.$v
done

# 13, 14. protocol_version (70) from s_server to a gnutls-cli of the other version only: the
# server's alert goes in record version 0303 (TLS1.2); the client's is its legacy version (TLS1.2
# for both: GnuTLS writes 0303 in the ClientHello of a TLS 1.3-only client too).
for v in 2 3; do
	n=protocol_version_tls1${v}_gnutls_client
	pair $n $((P + 12 + (v == 3))) openssl gnutls 3 "-tls1_$((5 - v))" \
		"$OK $([ $v = 2 ] && echo "$TLS12" || echo "$TLS13")" \
		"sh=none ch=TLS1.$v alerts=server:2/70@0303" || continue
	peer_said $n srv "unsupported protocol" error
	peer_said $n cli "*** Received alert [70]: Error in protocol version"
	gnutls_said $n cli received 2 70
	exchange $n server 2 70 TLS1.2 "$(gnutls_hello_version $n)"
done

# 15. A TLS 1.2-only gnutls-serv and a TLS 1.3-only s_client: GnuTLS settles on TLS 1.2 from
# the legacy version ("Client's version: 3.3"), then finds no suite: handshake_failure.
n=tls12_gnutls_server_vs_tls13_client_handshake_failure
if pair $n $((P + 14)) gnutls openssl 3 "$TLS12" "-tls1_3" \
	"sh=none ch=TLS1.3 alerts=server:2/40@0303"; then
	peer_said $n srv "No supported cipher suites have been found" error
	gnutls_said $n srv sent 2 40
	gnutls_said $n srv sent 2 70 0
	peer_said $n cli "SSL alert number 40"
	exchange $n server 2 40 TLS1.2 TLS1.3
fi

# 16. protocol_version from gnutls-serv (TLS 1.2 only) to a TLS 1.1 s_client: older than all
# it has, so GnuTLS rejects the version itself. Record version 0303: TLS1.2.
n=protocol_version_from_gnutls_server
if pair $n $((P + 15)) gnutls openssl 3 "$TLS12" "-tls1_1 -cipher DEFAULT@SECLEVEL=0" \
	"sh=none ch=TLS1.1 alerts=server:2/70@0303"; then
	peer_said $n srv "A packet with illegal or unsupported version was received" error
	gnutls_said $n srv sent 2 70
	peer_said $n cli "SSL alert number 70"
	exchange $n server 2 70 TLS1.2 TLS1.1
fi

# 17, 18. close_notify (1/0): gnutls-cli's stdin ends 1 s after the handshake; it says goodbye,
# s_server answers with its own close_notify and gnutls-cli reads it. Four events.
for v in 3 2; do
	n=tls1${v}_close_notify_gnutls_client_first
	pair $n $((P + 16 + (v == 2))) openssl gnutls 1 "" "$OK $(v2 "$TLS12")" \
		"sh=TLS1.$v ch=TLS1.$v alerts=client:1/0@0303,server:1/0@0303" || continue
	gnutls_said $n cli sent 1 0
	gnutls_said $n cli received 1 0
	peer_said $n srv "DONE" "done"
	exchange $n client 1 0 TLS1.$v
	exchange $n server 1 0 TLS1.$v
done

# 19. close_notify, s_client first (stdin EOF), TLS 1.3: gnutls-serv reads it and answers.
# Whether s_client reads the answer before it exits no peer says: not asserted.
n=tls13_close_notify_to_gnutls_server
if pair $n $((P + 18)) gnutls openssl 1 "--disable-client-cert" "-CAfile $C/ca.pem" \
	"sh=TLS1.3 ch=TLS1.3 alerts=client:1/0@0303,server:1/0@0303"; then
	gnutls_said $n srv received 1 0
	gnutls_said $n srv sent 1 0
	exchange $n client 1 0 TLS1.3
	alert $n server sent 1 0 TLS1.3
fi

# 20. close_notify between two GnuTLS peers, TLS 1.2: both directions, four events.
n=tls12_close_notify_gnutls_both
if pair $n $((P + 19)) gnutls gnutls 1 "--disable-client-cert" "$OK $TLS12" \
	"sh=TLS1.2 ch=TLS1.2 alerts=client:1/0@0303,server:1/0@0303"; then
	gnutls_said $n cli sent 1 0
	gnutls_said $n srv received 1 0
	gnutls_said $n srv sent 1 0
	gnutls_said $n cli received 1 0
	exchange $n client 1 0 TLS1.2
	exchange $n server 1 0 TLS1.2
fi

# 21. wget that does not trust s_server: it completes the handshake, checks the certificate,
# and closes the socket without any alert. s_server, reading EOF, may try an alert of its own
# (OpenSSL calls its send path for it), which finds the socket closed: nothing on the wire, so
# any event of s_server must say written false.
n=wget_untrusted_server_no_alert
if pair $n $((P + 20)) openssl wget 0 "-www" "--ca-certificate=$C/other-ca.pem" \
	"sh=TLS1.3 ch=TLS1.3 alerts=none"; then
	peer_said $n cli "doesn't have a known issuer" verify_error
	check ${n}_wget_gnutls_log_sends_no_alert 0 "$(grep -c 'Sending Alert' "$T/$n.cli")"
	check ${n}_no_event_from_wget none "$(judge lall "$T/$n.at" "$CP")"
	got=$(judge lall "$T/$n.at" "$SP") ok=1
	if [ "$got" != none ]; then
		IFS=, read -ra evs <<<"$got"
		for e in "${evs[@]}"; do [[ "${e# }" == "sent "*"(not written)" ]] || ok=0; done
	fi
	if [ $ok = 1 ]; then pass "${n}_s_server_wrote_no_alert ($got)"; else
		fail "${n}_s_server_wrote_no_alert" "expected none or only '(not written)', got '$got'"; fi
fi

# 22, 23. wget fetching from s_server -www (trusted, the 127.0.0.1 certificate): s_server ends
# the response with a close_notify, wget reads it and sends none. (wget's --secure-protocol
# sets a minimum with GnuTLS: the server is the one held to TLS 1.2.)
for v in 3 2; do
	n=tls1${v}_close_notify_to_wget
	pair $n $((P + 21 + (v == 2))) openssl wget 0 \
		"-www -cert $C/ip.pem -key $C/ip.key $(v2 -tls1_2)" "--ca-certificate=$C/ca.pem" \
		"sh=TLS1.$v ch=TLS1.3 alerts=server:1/0@0303" || continue
	peer_said $n cli "saved" fetched
	gnutls_said $n cli received 1 0
	gnutls_said $n cli sent 1 0 0
	exchange $n server 1 0 TLS1.$v
done

# The coverage report without -j: a text block for the library.
if at_start text_report --no-wire; then
	at_stop text_report
	if grep -qE '^library [0-9]+: .*/libgnutls\.so\.30(\.[0-9]+)*$' "$T/text_report.at.err"; then
		pass gnutls_text_coverage_report_lists_libgnutls
	else
		fail gnutls_text_coverage_report_lists_libgnutls "expected 'library N: .../libgnutls.so.30' \
on stderr, got: $(grep '^library' "$T/text_report.at.err" | tr '\n' '|')"
	fi
fi

# The wire, as tshark decoded it with every peer's secrets.
wire_checks "$T"
if [ -n "${VERBOSE:-}" ]; then for f in "$T"/*.at; do echo "== $f"; cat "$f"; done; fi
