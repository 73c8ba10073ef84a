#!/bin/bash
# Why and where of an alert: the server name (sni), the certificate verification result
# (verify_error, verify_reason) and the library's reason (reason), judged by the peers' own words.
#   verify cases  curl and Python clients against `openssl s_server` with an expired certificate,
#                 one from a CA the client does not trust, a self-signed one, and one for another
#                 name: the client's sent alert must carry what the client itself printed (curl -v
#                 "SSL certificate problem: TEXT", Python's SSLCertVerificationError.verify_code),
#                 and the name it asked for (curl --resolve, Python's server_hostname) as sni; the
#                 server's received alert the name s_server's servername callback printed
#                 ("Hostname in TLS extension"). curl checks the host name itself after the
#                 handshake and closes with close_notify: that alert must carry no verify_error.
#   reason cases  s_server with no shared cipher suite, no common protocol version and no
#                 common ALPN protocol (not 1.1.1's s_server, which then goes on without ALPN):
#                 its sent alert's reason must be the reason of the ERR line s_server printed;
#                 the client's received alert has none.
#   versions      the same verify and reason cases with s_client and s_server of OpenSSL 1.1.1w
#                 (bullseye) and 3.5 (trixie), chrooted into the roots tools/mkroot-trixie.sh
#                 makes (it is idempotent: made here when missing, reused by tests/versions).
#   gnutls        a gnutls-cli that does not trust s_server's CA and a gnutls-serv whose CA
#                 s_client does not trust: both GnuTLS events carry the name the client was given
#                 (s_server's callback printed it too), no verification result; the sent alerts
#                 (gnutls-cli's, and a TLS 1.3-only gnutls-serv's refusing a TLS 1.2 client) the
#                 reason the GnuTLS program itself printed ("*** Fatal error: ...", "Error in
#                 handshake: ...").
#   static        alerttrace-static (when made) loads no libssl: its verify_reason for curl's
#                 cases is curl's text (its own libcrypto's), and its reason for s_server's
#                 refusals reason(N), N the reason bits of the error code s_server printed.
#   text          the SNI and WHY columns of the text output, cut to their width, and in full
#                 with -w.
# Every peer runs as a program named atwhy (a symlink), so `-c atwhy` keeps other processes'
# alerts out; servers listen on 127.0.0.1 in a network namespace of this test.
. "$(dirname "$0")/lib/common.sh"
need_root why
test_prologue why openssl curl python3 gnutls-cli gnutls-serv
. "$TOP/tests/fixtures/lib_path.sh"
FIXW=$TOP/tests/fixtures
NAME=good.test

# leaf FILE SIGNER: a key and certificate for DNS:$NAME signed by $C/SIGNER (or self-signed).
leaf() {
	local f=$C/$1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$NAME" \
		-addext "subjectAltName=DNS:$NAME" -keyout "$f.key" -out "$f.csr" 2>/dev/null || return 1
	if [ "$2" = self ]; then
		openssl x509 -req -in "$f.csr" -signkey "$f.key" -days 2 -copy_extensions copy \
			-out "$f.pem" 2>/dev/null
	else
		openssl x509 -req -in "$f.csr" -CA "$C/$2.pem" -CAkey "$C/$2.key" -CAcreateserial \
			-days 2 -copy_extensions copy -out "$f.pem" 2>/dev/null
	fi
}
# expired: valid in January 2020 only (openssl ca takes explicit dates).
expired() {
	mkdir -p "$C/db" && : >"$C/db/index.txt" && echo 01 >"$C/db/serial" &&
	printf '%s\n' '[ca]' 'default_ca=d' '[d]' "dir=$C" 'database=$dir/db/index.txt' \
		'serial=$dir/db/serial' 'new_certs_dir=$dir/db' 'default_md=sha256' 'policy=p' \
		'copy_extensions=copy' '[p]' 'commonName=supplied' >"$C/ca.cnf" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$NAME" \
		-addext "subjectAltName=DNS:$NAME" -keyout "$C/expired.key" -out "$C/expired.csr" \
		2>/dev/null &&
	openssl ca -batch -config "$C/ca.cnf" -cert "$C/ca.pem" -keyfile "$C/ca.key" \
		-in "$C/expired.csr" -out "$C/expired.pem" -startdate 20200101000000Z \
		-enddate 20200102000000Z >/dev/null 2>&1
}
{ leaf good ca && leaf unknown other-ca && leaf self self && expired; } ||
	{ fail why_certs "expected test certificates, got an openssl error"; exit 1; }

NS=at_why_$$
ip netns add "$NS" && AT_NETNS+=("$NS") && ip -n "$NS" link set lo up ||
	{ fail why_netns "expected a network namespace, got an error"; exit 1; }
# Python's own binary, not a wrapper (pyenv's shim finds no "atwhy").
for p in curl:/usr/bin/curl py:"$(python3 -c 'import sys; print(sys.executable)')" \
	ossl:/usr/bin/openssl gcli:/usr/bin/gnutls-cli gserv:/usr/bin/gnutls-serv; do
	mkdir -p "$T/bin/${p%%:*}" && ln -s "${p#*:}" "$T/bin/${p%%:*}/atwhy"
done

# The other OpenSSL builds: a root each, the certificates and an atwhy inside it.
ROOTS=() LIBS=()
for suite in bullseye trixie; do
	var=AT_ROOT_${suite^^}
	root=${!var:-/var/tmp/alerttrace-$suite}
	if ! AT_ROOT_SUITE=$suite "$TOP/tools/mkroot-trixie.sh" "$root" 2>"$T/mkroot.$suite"; then
		fail "why_${suite}_root" "expected a $suite root, got: $(tail -3 "$T/mkroot.$suite" |
			tr '\n' '|')"
		continue
	fi
	root=$(realpath "$root")
	lib=$(ls "$root"/usr/lib/x86_64-linux-gnu/libssl.so.* 2>/dev/null | head -1)
	[ -f "$lib" ] || { fail "why_${suite}_libssl" "expected a libssl in $root"; continue; }
	d=$(mktemp -d "$root/tmp/alerttrace-why.XXXXXX")
	cp "$C"/*.pem "$C"/*.key "$d/" && ln -s /usr/bin/openssl "$d/atwhy"
	# Private copies of its libssl and libcrypto (the peers' LD_LIBRARY_PATH): the hooks of
	# this run stay off the root's own files, which other tests read and trace.
	mkdir "$d/lib" && cp "$lib" "$root"/usr/lib/x86_64-linux-gnu/libcrypto.so.* "$d/lib/"
	lib=$d/lib/${lib##*/}
	ROOTS+=("$suite $root ${d#"$root"} $(chroot "$root" openssl version | cut -d' ' -f2)")
	LIBS+=(--lib "$lib")
done
trap 'for r in "${ROOTS[@]}"; do set -- $r; rm -rf "$2$3"; done; at_cleanup' EXIT

# The tracers: JSON, text and wide text.
bg "$AT" --no-wire -j -c atwhy "${LIBS[@]}" >"$T/at.json" 2>"$T/at.err"
ATJ=$!
bg "$AT" --no-wire -c atwhy "${LIBS[@]}" >"$T/at.txt" 2>"$T/at.txt.err"
ATT=$!
bg "$AT" --no-wire -w -c atwhy "${LIBS[@]}" >"$T/atw.txt" 2>"$T/atw.txt.err"
ATW=$!
# The static build, when made (make static): it loads no library, so its names are its own.
STATIC=$TOP/alerttrace-static TRACERS="at.err at.txt.err atw.txt.err" ATS=
if [ -x "$STATIC" ]; then
	bg "$STATIC" --no-wire -j -c atwhy "${LIBS[@]}" >"$T/ats.json" 2>"$T/ats.err"
	ATS=$! TRACERS="$TRACERS ats.err"
else
	echo "   no $STATIC: its names are not checked (make static)"
fi
for f in $TRACERS; do
	wait_for "$T/$f" "Tracing TLS alerts" 40 ||
		{ fail why_tracer_starts "expected the ready line in $f, got: $(tail -3 "$T/$f")"; exit 1; }
done

# run_case NAME PORT "SERVER COMMAND" "CLIENT COMMAND": the server (its stdin held open) on
# 127.0.0.1:PORT in the namespace, then the client; "NAME SERVER-PID CLIENT-PID" into $T/cases.
run_case() {
	local name=$1 port=$2 spid cpid keep
	# shellcheck disable=SC2086
	sleep 20 | ip netns exec "$NS" $3 -accept "127.0.0.1:$port" -naccept 1 >"$T/$name.srv" 2>&1 &
	spid=$! keep=$(jobs -p %%)
	AT_PIDS+=("$spid" "$keep")
	wait_for "$T/$name.srv" ACCEPT 10 ||
		{ fail "${name}_server_starts" "expected ACCEPT, got: $(tail -3 "$T/$name.srv")"; return; }
	# shellcheck disable=SC2086
	ip netns exec "$NS" $4 >"$T/$name.cli" 2>&1 </dev/null &
	cpid=$!
	AT_PIDS+=("$cpid")
	wait_exit "$cpid" 15 || fail "${name}_client_ends" "expected the client to end within 15 s"
	wait_exit "$spid" 5 "$keep"
	echo "$name $spid $cpid" >>"$T/cases"
}

P=$((20000 + $$ % 20000))
SRV="$T/bin/ossl/atwhy s_server"
CURL="$T/bin/curl/atwhy -sv --max-time 10 --cacert $C/ca.pem"
PY="$T/bin/py/atwhy $FIXW/why_client.py"
# verify_server CERT [SERVERNAME]: s_server with CERT, its servername callback on SERVERNAME.
# srv_args DIR CERT [SERVERNAME]: s_server's certificate (the same in the servername context).
srv_args() {
	echo "-cert $1/$2.pem -key $1/$2.key -servername ${3:-$NAME} -cert2 $1/$2.pem -key2 $1/$2.key"
}
verify_server() { echo "$SRV $(srv_args "$C" "$@")"; }
n=0
for cert in expired unknown self; do
	run_case "curl_$cert" $((P + n)) "$(verify_server $cert)" \
		"$CURL --resolve $NAME:$((P + n)):127.0.0.1 https://$NAME:$((P + n))/"
	run_case "python_$cert" $((P + n + 1)) "$(verify_server $cert)" \
		"$PY $NAME $C/ca.pem $((P + n + 1))"
	n=$((n + 2))
done
run_case curl_hostname $((P + n)) "$(verify_server good other.test)" \
	"$CURL --resolve other.test:$((P + n)):127.0.0.1 https://other.test:$((P + n))/"
run_case python_hostname $((P + n + 1)) "$(verify_server good other.test)" \
	"$PY other.test $C/ca.pem $((P + n + 1))"
n=$((n + 2))

# GnuTLS: a client that does not trust s_server's CA (its bad_certificate carries the name it was
# given with --sni-hostname); a gnutls-serv that receives s_client's unknown_ca for that name.
GCLI="$T/bin/gcli/atwhy --x509cafile $C/other-ca.pem 127.0.0.1 --sni-hostname $NAME"
run_case gnutls_client $((P + n)) "$(verify_server good)" "$GCLI -p $((P + n))"
# gserv NAME PORT ARGS...: gnutls-serv with $C/good.pem on PORT, listening; its pid in GSPID.
gserv() {
	local name=$1 port=$2
	shift 2
	ip netns exec "$NS" "$T/bin/gserv/atwhy" -p "$port" --x509certfile "$C/good.pem" \
		--x509keyfile "$C/good.key" "$@" >"$T/$name.srv" 2>&1 &
	GSPID=$!
	AT_PIDS+=("$GSPID")
	wait_for "$T/$name.srv" "listening" 10 && return 0
	fail "${name}_server_starts" "expected gnutls-serv to listen, got: $(tail -3 "$T/$name.srv")"
	return 1
}
gnutls_server_case() {
	local name=gnutls_server port=$((P + n + 1)) spid cpid
	gserv $name "$port" || return
	spid=$GSPID
	# TLS 1.2: a TLS 1.3 OpenSSL client writes this alert in plaintext, which GnuTLS, expecting
	# it encrypted, answers with bad_record_mac.
	ip netns exec "$NS" "$T/bin/ossl/atwhy" s_client -tls1_2 -connect "127.0.0.1:$port" \
		-servername $NAME -CAfile "$C/other-ca.pem" -verify_return_error >"$T/$name.cli" 2>&1 </dev/null &
	cpid=$!
	AT_PIDS+=("$cpid")
	wait_exit "$cpid" 15 || fail "${name}_client_ends" "expected s_client to end within 15 s"
	sleep 0.2
	kill "$spid" 2>/dev/null
	echo "$name $spid $cpid" >>"$T/cases"
}
gnutls_server_case
# A TLS 1.3-only gnutls-serv refuses a TLS 1.2-only s_client: its reason is what it prints.
gnutls_refusal_case() {
	local name=gnutls_refusal port=$((P + n + 2)) spid cpid
	gserv $name "$port" --priority NORMAL:-VERS-ALL:+VERS-TLS1.3 || return
	spid=$GSPID
	ip netns exec "$NS" "$T/bin/ossl/atwhy" s_client -tls1_2 -connect "127.0.0.1:$port" \
		-servername $NAME >"$T/$name.cli" 2>&1 </dev/null &
	cpid=$!
	AT_PIDS+=("$cpid")
	wait_exit "$cpid" 15 || fail "${name}_client_ends" "expected s_client to end within 15 s"
	wait_for "$T/$name.srv" "Error in handshake" 5
	kill "$spid" 2>/dev/null
	echo "$name $spid $cpid" >>"$T/cases"
}
gnutls_refusal_case
n=$((n + 3))

# reason_cases TAG "SERVER PREFIX" "CLIENT PREFIX" DIR: the three refusals of one OpenSSL build.
reason_cases() {
	local tag=$1 srv="$2 s_server $(srv_args "$4" good)"
	local cli="$3 s_client -servername $NAME"
	run_case "${tag}_no_shared_cipher" $((P + n)) "$srv -ciphersuites TLS_AES_128_GCM_SHA256" \
		"$cli -connect 127.0.0.1:$((P + n)) -ciphersuites TLS_AES_256_GCM_SHA384"
	run_case "${tag}_protocol_version" $((P + n + 1)) "$srv -tls1_3" \
		"$cli -connect 127.0.0.1:$((P + n + 1)) -tls1_2"
	# 1.1.1's s_server goes on without ALPN when nothing matches (no alert to judge).
	[ "$tag" = bullseye ] && { n=$((n + 3)); return; }
	# s_server's second context (-cert2, for the servername callback) has no ALPN: here the
	# client sends no name, which the alert must then not carry either.
	run_case "${tag}_no_alpn" $((P + n + 2)) \
		"$2 s_server -cert $4/good.pem -key $4/good.key -alpn foo" \
		"$3 s_client -noservername -connect 127.0.0.1:$((P + n + 2)) -alpn bar"
	n=$((n + 3))
}
reason_cases host "$T/bin/ossl/atwhy" "$T/bin/ossl/atwhy" "$C"
for r in "${ROOTS[@]}"; do
	set -- $r
	tag=$1 pre="chroot $2 env LD_LIBRARY_PATH=$3/lib $3/atwhy"
	reason_cases "$tag" "$pre" "$pre" "$3"
	for cert in expired unknown self; do
		run_case "${tag}_s_client_$cert" $((P + n)) \
			"$pre s_server $(srv_args "$3" $cert)" \
			"$pre s_client -connect 127.0.0.1:$((P + n)) -servername $NAME -CAfile $3/ca.pem \
			-verify_return_error"
		n=$((n + 1))
	done
done

sleep 0.5
for p in $ATJ $ATT $ATW $ATS; do kill -INT "$p"; done
for p in $ATJ $ATT $ATW $ATS; do
	wait "$p"; rc=$?
	[ $rc = 0 ] || fail why_tracer_exits_0 "expected status 0 after SIGINT, got $rc (pid $p)"
done

# ---- judging, from the peers' own output ----
pids() { awk -v n="$1" '$1 == n { print $2, $3 }' "$T/cases"; }
judge_why() { python3 "$FIXW/why_judge.py" "$@"; }
# fatal NAME PID DIR: the one fatal event of PID in DIR, into EV (fails NAME unless one)
fatal() {
	local all
	all=$(judge_why "$T/at.json" "$2" "$3" | awk -F'\t' '$1 == 2')
	EV=$all
	[ "$(printf '%s' "$all" | grep -c .)" = 1 ] && return 0
	fail "$1" "expected one fatal $3 alert of pid $2, got: $(printf '%s' "$all" | tr '\n\t' '| ')"
	return 1
}
field() { printf '%s\n' "$EV" | cut -f"$1"; }
# srv_sni NAME: the name s_server's servername callback printed, "" when it printed none
srv_sni() { sed -n 's/^Hostname in TLS extension: "\(.*\)"$/\1/p' "$T/$1.srv" | head -1; }

# verify_check NAME ASKED CLIENT: CLIENT (curl, python, s_client) said why; the events agree.
verify_check() {
	local name=$1 asked=$2 sp cp num text
	read -r sp cp < <(pids "$name")
	[ -n "$cp" ] || return
	case $3 in
	curl) text=$(sed -n 's/^\* SSL certificate problem: //p' "$T/$name.cli" | head -1) num=- ;;
	python) num=$(sed -n 's/^verify_code=\([0-9]*\) .*/\1/p' "$T/$name.cli") text=- ;;
	s_client)
		# The number only: an older libcrypto spells some texts otherwise ("self signed").
		num=$(sed -n 's/^verify error:num=\([0-9]*\):.*/\1/p' "$T/$name.cli" | head -1)
		text=- ;;
	esac
	if [ -z "$num$text" ] || [ "$num" = "" ] || [ "$text" = "" ]; then
		fail "${name}_client_reports_verify_error" "expected the client to say why, got: $(
			grep -iE 'verify|problem|error' "$T/$name.cli" | head -2 | tr '\n' '|')"
		return
	fi
	echo "   $name: client pid $cp says: ${num/-/} ${text/-/}"
	fatal "${name}_client_sent_one_fatal_alert" "$cp" sent || return
	[ "$num" = - ] || check "${name}_verify_error_is_the_clients" "$num" "$(field 4)"
	[ "$text" = - ] || check "${name}_verify_reason_is_the_clients" "$text" "$(field 5)"
	# alerttrace-static's own libcrypto says it as curl's does
	if [ -n "$ATS" ] && [ "$3" = curl ]; then
		check "${name}_static_verify_reason_is_the_clients" "$text" \
			"$(judge_why "$T/ats.json" "$cp" sent | awk -F'\t' '$1 == 2' | cut -f5)"
	fi
	check "${name}_sni_is_the_name_asked" "$asked" "$(field 3)"
	check "${name}_server_saw_the_name" "$asked" "$(srv_sni "$name")"
	fatal "${name}_server_received_one_fatal_alert" "$sp" received || return
	check "${name}_server_event_sni_is_what_it_saw" "$(srv_sni "$name")" "$(field 3)"
	check "${name}_received_alert_has_no_reason" "null null null" "$(field 4) $(field 5) $(field 6)"
}
# reason_check NAME: s_server's ERR line names the reason of its sent alert.
reason_check() {
	local name=$1 sp cp want saw code
	read -r sp cp < <(pids "$name")
	[ -n "$sp" ] || return
	# pid:error:code:library:function:REASON:file:line[:data]
	want=$(grep -a ':error:' "$T/$name.srv" | head -1 | cut -d: -f6)
	[ -n "$want" ] || { fail "${name}_server_prints_the_error" "expected an ERR line, got: $(
		tail -3 "$T/$name.srv" | tr '\n' '|')"; return; }
	echo "   $name: server pid $sp says: $want"
	fatal "${name}_server_sent_one_fatal_alert" "$sp" sent || return
	check "${name}_reason_is_the_servers" "$want" "$(field 6)"
	# alerttrace-static names it by number: the reason bits of s_server's packed code
	if [ -n "$ATS" ] && [[ $name == host_* ]]; then
		code=$(grep -a ':error:' "$T/$name.srv" | head -1 | cut -d: -f3)
		check "${name}_static_reason_is_the_servers_number" "reason($((0x$code & 0x7fffff)))" \
			"$(judge_why "$T/ats.json" "$sp" sent | awk -F'\t' '$1 == 2' | cut -f6)"
	fi
	check "${name}_no_verify_error" null "$(field 4)"
	saw=$(srv_sni "$name")
	check "${name}_sni_is_what_the_server_saw" "${saw:-null}" "$(field 3)"
	fatal "${name}_client_received_one_fatal_alert" "$cp" received || return
	check "${name}_received_alert_has_no_reason" null "$(field 6)"
}

for cert in expired unknown self; do
	verify_check "curl_$cert" $NAME curl
	verify_check "python_$cert" $NAME python
done
verify_check python_hostname other.test python
# curl checks the name itself after a verified handshake and closes: no verification error.
read -r sp cp < <(pids curl_hostname)
if [ -n "$cp" ]; then
	if grep -q "no alternative certificate subject name matches" "$T/curl_hostname.cli"; then
		pass curl_hostname_client_reports_the_mismatch
	else
		fail curl_hostname_client_reports_the_mismatch "expected curl's own check, got: $(
			grep -iE 'ssl|alert' "$T/curl_hostname.cli" | tail -2 | tr '\n' '|')"
	fi
	got=$(judge_why "$T/at.json" "$cp" sent | cut -f1-5 | tr '\t\n' ' |')
	check curl_hostname_close_notify_without_verify_error "1 0 other.test null null|" "$got"
fi
for tag in host $(for r in "${ROOTS[@]}"; do echo "${r%% *}"; done); do
	for c in no_shared_cipher protocol_version no_alpn; do
		[ "$tag.$c" = bullseye.no_alpn ] || reason_check "${tag}_$c"
	done
done
for r in "${ROOTS[@]}"; do
	for cert in expired unknown self; do verify_check "${r%% *}_s_client_$cert" $NAME s_client; done
done

# GnuTLS: the server name each side's session held, as its peer or its own command line says.
read -r sp cp < <(pids gnutls_client)
if [ -n "$cp" ]; then
	echo "   gnutls_client: client pid $cp: $(grep -a -m1 -iE 'alert|verif|error' \
		"$T/gnutls_client.cli")"
	if fatal gnutls_client_sent_one_fatal_alert "$cp" sent; then
		check gnutls_client_sni_is_the_name_asked $NAME "$(field 3)"
		check gnutls_client_no_verify_error null "$(field 4)"
		check gnutls_client_reason_is_the_clients \
			"$(sed -n 's/^\*\*\* Fatal error: //p' "$T/gnutls_client.cli" | head -1)" \
			"$(field 6)"
	fi
	check gnutls_client_server_saw_the_name $NAME "$(srv_sni gnutls_client)"
fi
read -r sp cp < <(pids gnutls_server)
if [ -n "$cp" ]; then
	got=$(sed -n 's/^verify error:num=\([0-9]*\):.*/\1/p' "$T/gnutls_server.cli" | head -1)
	check gnutls_server_client_refused_the_ca 20 "$got"
	fatal gnutls_server_received_one_fatal_alert "$sp" received &&
		check gnutls_server_sni_is_what_the_client_asked "$NAME" "$(field 3)"
fi

read -r sp cp < <(pids gnutls_refusal)
if [ -n "$sp" ]; then
	want=$(sed -n 's/^Error in handshake: //p' "$T/gnutls_refusal.srv" | head -1)
	echo "   gnutls_refusal: server pid $sp says: $want"
	if fatal gnutls_refusal_server_sent_one_fatal_alert "$sp" sent; then
		check gnutls_refusal_reason_is_the_servers "$want" "$(field 6)"
		check gnutls_refusal_sni_is_what_the_client_asked "$NAME" "$(field 3)"
	fi
fi

# Text: the columns, cut to width; -w: the whole text.
read -r sp cp < <(pids curl_expired)
if [ -n "$cp" ]; then
	check text_sni_and_why_columns "$NAME	expired" \
		"$(judge_why --text "$T/at.txt" "$cp" sent | head -1)"
	read -r sp cp < <(pids host_no_alpn)
	check text_why_cut_to_its_column "no application prot~" \
		"$(judge_why --text "$T/at.txt" "$sp" sent | head -1 | cut -f2)"
	read -r sp cp < <(pids curl_expired)
	line=$(awk -v p="$cp" '$6 == p && $3 == "sent"' "$T/atw.txt")
	[[ "$line" == *" $NAME "*"certificate has expired"* ]] && pass text_wide_shows_the_whole_reason ||
		fail text_wide_shows_the_whole_reason \
			"expected '$NAME' and 'certificate has expired', got '$line'"
fi
[ -n "${VERBOSE:-}" ] && cat "$T/at.json" "$T/at.txt"
[ -n "${KEEP:-}" ] && cp -r "$T" /tmp/why-keep
exit 0
