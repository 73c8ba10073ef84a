#!/bin/bash
# End to end, Go crypto/tls: `alerttrace --no-wire -j` (one tracer per case) while Go programs
# (tests/fixtures/go/tlspeer) built by Debian 12's Go 1.19 and by Go 1.24 to 1.27 (Debian's
# golang-1.NN-go, tools/fetch-go.sh) make alerts with openssl s_server/s_client and with each
# other on 127.0.0.1. Every alert a Go peer sends or receives must be reported once with
# "source":"go", the Go peer's pid, the direction, level, code, alert name, the version from the
# Conn (absent or "unknown" before the version is chosen), hook send_alert or read_record, a
# session and the binary's path; the coverage report must list each Go binary once with provider
# go, the toolchain's version and both hooks. Each toolchain's builds come in 4 variants (normal,
# stripped, PIE, stripped PIE, tests/fixtures/go_build.sh): the variants rotate over the cases so
# each variant runs at least once per toolchain. Every Go program starts after its tracer, which
# must hook it at exec; its handshake waits until the tracer lists its binary (go_peers.sh:
# a Go client connects faster than the hooking, the README's caveat), except in the late-start
# case at the end, which is that race: a Go client let through at once must have its first
# alert reported.
#
# What alert happened is decided without alerttrace: by the peers' own output (Go's error names
# the alert: "remote error: tls: protocol version not supported", "x509: certificate signed by
# unknown authority"; s_server's "SSL alert number 42") and by tshark on lo, which decrypts TLS
# 1.3 and encrypted TLS 1.2 alerts with the key logs (tls.Config.KeyLogWriter, -keylogfile).
# The version expected is Go's c.vers (crypto/tls): a client sets it from the ServerHello, a
# server from the ClientHello when the two have a version in common, before it looks at cipher
# suites and ALPN; a server without one, and a client before the ServerHello, have none.
# What the peers really do (found with tshark, and asserted as such): a Go client that does not
# trust the server sends bad_certificate (42), not unknown_ca, in every version; a Go server that
# has no version in common answers protocol_version in record version 0301 (c.vers is 0: Go
# writes TLS 1.0 then); s_server -tls1_3 answers a TLS 1.2-only Go client with protocol_version;
# Go 1.19 checks ALPN after its ServerHello (its no_application_protocol is encrypted), 1.24 and
# later before it.
# Per toolchain: unknown CA from a Go client to s_server (TLS 1.3), protocol_version received
# and sent, no_application_protocol (TLS 1.3) and handshake_failure (TLS 1.2) Go to Go, and one
# close_notify exchange (TLS 1.3 Go client first, or TLS 1.2 s_client first, alternating);
# every other toolchain also unknown CA Go to Go (TLS 1.2). Tracers are stopped without waiting
# (at_stop_later in go_peers.sh): the whole run is about 50 s on a warm build cache.
#
# Also: a Go program without crypto/tls (tests/fixtures/go/hello), one process started before
# the tracer and one after, is listed once with provider go and no hooks, with a reason.
# The toolchains are fetched (tools/fetch-go.sh, idempotent) and built (cached) first: a missing
# one is a FAIL with the reason, and the other versions still run. GO_VERSIONS="1.19 1.26" runs
# a subset. VERBOSE=1 prints every tracer's output.
. "$(dirname "$0")/lib/common.sh"
need_root go
test_prologue go openssl tshark python3 flock
. "$TOP/tests/fixtures/lib_path.sh"
. "$TOP/tests/fixtures/gnutls_peers.sh"
. "$TOP/tests/fixtures/go_peers.sh"
go_test_setup

NCASES=8
capture_start $(( ${#VERS[@]} * NCASES + 2 ))	# + the late-start case, the exec cases
# shellcheck disable=SC2034 # wire_checks (gnutls_peers.sh) uses it
WIRE=()

# A Go program without crypto/tls: one process before the tracer (found in /proc), one after
# (found at exec), one binary: one line, provider go, no hooks, a reason.
no_tls_checks() {
	local got
	got=$(digest "$1" entry "$2")
	check "$1_listed_once" 1 "$(echo "$got" | grep -c .)"
	# No hook on: "sent" and "received" false, or absent (null) as for a file no provider
	# takes; the reason under reasons.analysis.
	got=$(echo "$got" | head -1 | sed -E 's/ version=[^ ]*//; s/=null/=false/g')
	check "$1_provider_go_no_hooks_with_a_reason" \
		"provider=go sent=false received=false reasons=analysis" "$got"
}
v=${VERS[$((${#VERS[@]} - 1))]} n=go_binary_without_crypto_tls
hb=${GOBIN[$v:stripped]}/hello
bg "$hb" 2 >"$T/hello1.out"
if wait_for "$T/hello1.out" hello 5 && at_start $n; then
	bg "$hb" 1 >"$T/hello2.out"
	wait_for "$T/hello2.out" hello 5 || fail ${n}_second_process "no output: $(cat "$T/hello2.out")"
	wait_exit "$!" 3
	at_stop_later $n
	later no_tls_checks $n "$hb"
fi

OK="-ca $C/ca.pem"
AES=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 CHACHA=TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
i=0
for v in "${VERS[@]}"; do
	P=$((BASE + i * NCASES))
	# g N: this toolchain's build of variant N (rotating with the toolchain's index)
	g() { echo "$v:${VARIANTS[$(( ($1 + i) % 4 ))]}"; }
	V=go${v/./}

	# 1. unknown CA, TLS 1.3: a Go client without the CA (the system pool) against s_server
	# sends bad_certificate, encrypted with its handshake keys.
	n=${V}_tls13_bad_certificate_from_go_client
	if gpair $n $P openssl "$(g 0)" "" "-max 1.3" "sh=TLS1.3 ch=TLS1.3 alerts=client:2/42@0303"
	then
		peer_said $n cli "x509: certificate signed by unknown authority" verify_error
		peer_said $n srv "SSL alert number 42"
		later galert $n client sent 2 42 TLS1.3
		later gcoverage $n
	fi

	# 2. unknown CA, TLS 1.2, Go to Go: the client trusts another CA; the server reads the
	# plaintext bad_certificate. Every other toolchain (the time a tracer takes).
	n=${V}_tls12_bad_certificate_go_both
	if [ $((i % 2)) = 1 ] && gpair $n $((P + 1)) "$(g 1)" "$(g 2)" "-max 1.2" "-max 1.2 -ca $C/other-ca.pem" \
		"sh=TLS1.2 ch=TLS1.2 alerts=client:2/42@0303"; then
		peer_said $n cli "x509: certificate signed by unknown authority" verify_error
		peer_said $n srv "error: remote error: tls: bad certificate"
		later galert $n client sent 2 42 TLS1.2
		later galert $n server received 2 42 TLS1.2
		later gcoverage $n
	fi

	# 3. protocol_version to a TLS 1.2-only Go client from s_server -tls1_3: received before
	# any ServerHello (no version yet).
	n=${V}_protocol_version_to_go_client
	if gpair $n $((P + 2)) openssl "$(g 3)" "-tls1_3" "-max 1.2 $OK" \
		"sh=none ch=TLS1.2 alerts=server:2/70@0303"; then
		peer_said $n srv "unsupported protocol" error
		peer_said $n cli "error: remote error: tls: protocol version not supported"
		later galert $n client received 2 70 unknown
		later gcoverage $n
	fi

	# 4. protocol_version from a TLS 1.3-only Go server to s_client -tls1_2: no version in
	# common, so c.vers is 0 and the record says TLS 1.0 (0301).
	n=${V}_protocol_version_from_go_server
	if gpair $n $((P + 3)) "$(g 0)" openssl "-min 1.3" "-tls1_2 -CAfile $C/ca.pem" \
		"sh=none ch=TLS1.2 alerts=server:2/70@0301"; then
		peer_said $n srv "error: tls: client offered only unsupported versions" error
		peer_said $n cli "SSL alert number 70"
		later galert $n server sent 2 70 unknown
		later gcoverage $n
	fi

	# 5. no_application_protocol, TLS 1.3, Go to Go: the server offers foo, the client bar.
	# Go 1.19 looks at ALPN after its ServerHello (sendServerParameters): its alert is
	# encrypted and its client has its version; later ones look before (processClientHello).
	n=${V}_tls13_no_application_protocol_go_both sh=none cv=unknown
	[ "$v" = 1.19 ] && sh=TLS1.3 cv=TLS1.3
	if gpair $n $((P + 4)) "$(g 1)" "$(g 2)" "-alpn foo" "-alpn bar $OK" \
		"sh=$sh ch=TLS1.3 alerts=server:2/120@0303"; then
		peer_said $n srv "error: tls: client requested unsupported application protocols" error
		peer_said $n cli "error: remote error: tls: no application protocol"
		later galert $n server sent 2 120 TLS1.3
		later galert $n client received 2 120 $cv
		later gcoverage $n
	fi

	# 6. handshake_failure, TLS 1.2, Go to Go: no common cipher suite (AES-128-GCM against
	# ChaCha20).
	n=${V}_tls12_handshake_failure_go_both
	if gpair $n $((P + 5)) "$(g 3)" "$(g 0)" "-max 1.2 -ciphers $AES" \
		"-max 1.2 -ciphers $CHACHA $OK" "sh=none ch=TLS1.2 alerts=server:2/40@0303"; then
		peer_said $n srv "error: tls: no cipher suite supported by both client and server" error
		peer_said $n cli "error: remote error: tls: handshake failure"
		later galert $n server sent 2 40 TLS1.2
		later galert $n client received 2 40 unknown
		later gcoverage $n
	fi

	# 7, 8: close_notify both ways, one of the two per toolchain, alternating.
	# 7. close_notify, TLS 1.3: the Go client sends it (CloseWrite) and reads on; s_server
	# answers with its own, which the Go client reads as EOF.
	n=${V}_tls13_close_notify_go_client
	if [ $((i % 2)) = 0 ] && gpair $n $((P + 6)) openssl "$(g 1)" "" "-closewrite $OK" \
		"sh=TLS1.3 ch=TLS1.3 alerts=client:1/0@0303,server:1/0@0303"; then
		peer_said $n cli "closewrite: ok" close_notify_sent
		peer_said $n cli "read: EOF" close_notify_read
		peer_said $n srv "DONE" "done"
		later galert $n client sent 1 0 TLS1.3
		later galert $n client received 1 0 TLS1.3
		later same_session $n client
		later gcoverage $n
	fi

	# 8. close_notify, TLS 1.2: s_client's stdin ends, it sends close_notify; the Go server
	# reads it as EOF and closes with its own.
	n=${V}_tls12_close_notify_go_server
	if [ $((i % 2)) = 1 ] && gpair $n $((P + 7)) "$(g 2)" openssl "-max 1.2" "-CAfile $C/ca.pem" \
		"sh=TLS1.2 ch=TLS1.3 alerts=client:1/0@0303,server:1/0@0303" 1; then
		peer_said $n srv "read: EOF" close_notify_read
		peer_said $n srv "close: ok" close_notify_sent
		later galert $n server received 1 0 TLS1.2
		later galert $n server sent 1 0 TLS1.2
		later same_session $n server
		later gcoverage $n
	fi
	i=$((i + 1))
done
at_collect

# A Go client started after the tracer, from a binary this tracer has not seen, that connects
# 0.2 s after its exec (a program with some start-up work: the common case; the gate opens then,
# hooked or not): it must be hooked at exec before its first handshake, so its first alert
# (bad_certificate to s_server, TLS 1.3) is reported. Run alone, with no other tracer detaching.
# A client that connects within milliseconds of its exec can win the race (README's caveat).
v=${VERS[$((${#VERS[@]} - 1))]} n=go_client_started_after_the_tracer
SB="" CB=${GOBIN[$v:normal]}/tlspeer
if GO_GATE=0.2 PAIR_STOP=at_stop pair $n \
	$((BASE + ${#VERS[@]} * NCASES)) openssl "$v:normal" 1 "" "-max 1.3" \
	"sh=TLS1.3 ch=TLS1.3 alerts=client:2/42@0303"; then
	peer_said $n cli "x509: certificate signed by unknown authority" verify_error
	judge godigest "$T/$n.at" "$T/$n.at.err" >"$T/$n.digest"
	first_alert $n client "sent 2/42"
	galert $n client sent 2 42 TLS1.3
fi

# Hooked from the exec, no race: a Go client that connects at once (no gate) from a file the
# tracer hooked before any process ran it. Uprobes are per file: a process of a hooked file
# runs hooked from its first instruction. Three ways a file is hooked before it runs: named by
# --lib; in a standard binary directory (the start-up scan hooks the TLS programs there: the
# tracer here runs in a mount namespace of its own whose /usr/local/bin is a tmpfs holding the
# client, and the clients exec it in that namespace); or run once before (its first process
# may lose the race, every later one is hooked from its exec). Each round: a fresh client
# process, bad_certificate (42) to s_server -tls1_3, judged by the client's own error; every
# round's alert must be reported for its pid.
# exec_rounds NAME ROUNDS PORT CMD...: ROUNDS clients `CMD -mode client ...` one after another,
# their pids in RPIDS.
exec_rounds() {
	local name=$1 rounds=$2 port=$3 r
	shift 3
	RPIDS=()
	for r in $(seq 1 "$rounds"); do
		"$@" -mode client -addr "127.0.0.1:$port" -max 1.3 </dev/null >"$T/$name.cli$r" 2>&1 &
		RPIDS+=("$!")
		AT_PIDS+=("$!")
		wait_exit $! 15 || fail "${name}_client${r}_exit" "the Go client did not finish in 15 s"
		grep -q "x509: certificate signed by unknown authority" "$T/$name.cli$r" ||
			fail "${name}_client${r}_output_says_verify_error" "$(head -2 "$T/$name.cli$r")"
	done
}
# exec_seen NAME FIRST PIDS...: each pid from the FIRST-th has exactly one go event
# "sent", level 2 (fatal), code 42 in $T/NAME.at; the check says how many rounds were seen.
exec_seen() {
	local name=$1 first=$2 want got
	shift 2
	want=$(( $# - first + 1 ))
	got=$(python3 - "$T/$name.at" "$first" "$@" <<'PY'
import json, sys
ev = {}
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("source") == "go" and e.get("direction") == "sent" and e.get("code") == 42 \
            and e.get("level") == 2:
        ev[e.get("pid")] = ev.get(e.get("pid"), 0) + 1
pids = [int(p) for p in sys.argv[3:]][int(sys.argv[2]) - 1:]
print(sum(1 for p in pids if ev.get(p) == 1))
PY
)
	check "${name}_every_round_reported_once" "$want of $want" "$got of $want"
}
v=${VERS[$((${#VERS[@]} - 1))]}
PX=$((BASE + ${#VERS[@]} * NCASES))
mkdir -p "$T/x1" "$T/x3" && cp "${GOBIN[$v:stripped]}/tlspeer" "$T/x1/" &&
	cp "${GOBIN[$v:pie]}/tlspeer" "$T/x3/" || fail go_exec_copies "cannot copy tlspeer"
server go_exec "$PX" -tls1_3 || exit 1
n=go_client_named_by_lib_hooked_from_its_exec
if at_start $n --no-wire -j --lib "$T/x1/tlspeer"; then
	exec_rounds $n 3 "$PX" "$T/x1/tlspeer"
	at_stop $n
	exec_seen $n 1 "${RPIDS[@]}"
fi
n=go_client_in_a_binary_directory_hooked_from_its_exec
# A host's first start (an empty plan cache): the client is analysed by the child that prepares
# the binary directories' programs after the ready line (user/tls/binprep.c), and hooked then.
mkdir -m 0700 "$T/pc-bindir"
bg env ALERTTRACE_CACHE="$T/pc-bindir" unshare -m --propagation private sh -c \
	'mount -t tmpfs alerttrace-test /usr/local/bin &&
	cp "$1" /usr/local/bin/tlspeer-at-test && shift && exec "$@"' sh "${GOBIN[$v:normal]}/tlspeer" \
	"$AT" --no-wire -j -v >"$T/$n.at" 2>"$T/$n.at.err"
ATPID=$!
if wait_for "$T/$n.at.err" "Tracing TLS alerts" 20; then
	wait_for "$T/$n.at.err" "libs: /usr/local/bin/tlspeer-at-test: go go.*probes attached" 20 &&
		pass ${n}_hooked_by_the_start_up_scan ||
		fail ${n}_hooked_by_the_start_up_scan "$(grep tlspeer-at-test "$T/$n.at.err" | head -3)"
	r=$(grep -n -m1 "Tracing TLS alerts" "$T/$n.at.err" | cut -d: -f1)
	h=$(grep -n -m1 "libs: /usr/local/bin/tlspeer-at-test: go go.*probes attached" "$T/$n.at.err" |
		cut -d: -f1)
	[ -n "$h" ] && [ "$h" -gt "$r" ] && pass ${n}_hooked_after_the_ready_line ||
		fail ${n}_hooked_after_the_ready_line "ready at line $r, hooked at line ${h:-none}"
	exec_rounds $n 3 "$PX" nsenter -t "$ATPID" -m /usr/local/bin/tlspeer-at-test
	at_stop $n
	exec_seen $n 1 "${RPIDS[@]}"
else
	fail ${n}_tracer_start "no 'Tracing' line: $(tail -3 "$T/$n.at.err")"
fi
n=go_client_run_before_hooked_from_its_exec
if at_start $n --no-wire -j -v; then
	exec_rounds $n 4 "$PX" "$T/x3/tlspeer"
	at_stop $n
	# The first process raced the hooks (printed, not judged); the next three must be seen.
	echo "   $n: the first process, hooked $(sed -n "s/^exec: pid ${RPIDS[0]} .*hooked \(.*\)/\1/p" \
		"$T/$n.at.err" | head -1)"
	exec_seen $n 2 "${RPIDS[@]}"
fi
# Go programs in containers: two roots of their own (chroot: another root, the same network), each
# with a copy of one build of tlspeer (new inodes, one build-id): the first a directory of the
# tracer's mount namespace, the second a tmpfs in a mount namespace of its own, which the tracer
# reaches only through /proc/PID/root. The tracer finds each, hooks it (the client waits at its
# gate until the coverage report lists it), reports its bad_certificate with the file's path
# (the host path of the first; for the second the mapping itself, /proc/PID/map_files/START-END,
# as its name leads nowhere from the tracer's root), and analyses the build once: the second
# copy's analysis is the first's, cached by build-id.
n=go_clients_in_two_containers
if at_start $n --no-wire -j; then
	CPIDS=()
	for k in 1 2; do
		mkdir -p "$T/root$k" || fail ${n}_root$k "cannot make the root"
		if [ $k = 1 ]; then
			cp "${GOBIN[$v:normal]}/tlspeer" "$T/root1/tlspeer"
			chroot "$T/root1" /tlspeer -mode client -addr "127.0.0.1:$PX" -max 1.3 \
				-gate /gate </dev/null >"$T/$n.cli$k" 2>&1 &
		else
			unshare -m --propagation private sh -c 'mount -t tmpfs alerttrace-test "$1" &&
				cp "$2" "$1/tlspeer" && exec chroot "$1" /tlspeer -mode client \
				-addr "127.0.0.1:$3" -max 1.3 -gate /gate' sh "$T/root2" \
				"${GOBIN[$v:normal]}/tlspeer" "$PX" </dev/null >"$T/$n.cli$k" 2>&1 &
		fi
		CPIDS+=("$!")
		AT_PIDS+=("$!")
		want=$T/root1/tlspeer
		[ $k = 2 ] && want=/proc/$!/map_files/
		wait_for "$T/$n.at.err" "\"path\":\"$want" 10 ||
			fail ${n}_client${k}_listed "no coverage line for $want"
		: >"/proc/${CPIDS[-1]}/root/gate"
		wait_exit "${CPIDS[-1]}" 15 || fail ${n}_client${k}_exit "did not finish in 15 s"
		grep -q "x509: certificate signed by unknown authority" "$T/$n.cli$k" ||
			fail ${n}_client${k}_output_says_verify_error "$(head -2 "$T/$n.cli$k")"
	done
	at_stop $n
	got=$(python3 - "$T/$n.at" "$T/$n.at.err" "$T" "${CPIDS[@]}" <<'PY'
import json, sys
ev, cov = {}, {}
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("source") == "go" and e.get("direction") == "sent" and e.get("code") == 42:
        ev.setdefault(e["pid"], []).append(e.get("lib"))
for line in open(sys.argv[2]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("type") == "library":
        cov[e.get("path")] = e
out = []
for k, p in enumerate(sys.argv[4:], 1):
    path = sys.argv[3] + "/root1/tlspeer"
    if k == 2:
        path = ([c for c in cov if c.startswith("/proc/%s/map_files/" % p)] + [None])[0]
    c = cov.get(path, {})
    out.append("lib=%s provider=%s cached=%s" % (ev.get(int(p), []) == [path], c.get("provider"),
                                                  c.get("cached")))
print(" | ".join(out))
PY
)
	check ${n}_each_reported_from_its_root_second_cached \
		"lib=True provider=go cached=False | lib=True provider=go cached=True" "$got"
fi
kill "$SPID" 2>/dev/null

# The wire, as tshark decoded it with every peer's secrets.
wire_checks "$T"
if [ -n "${VERBOSE:-}" ]; then for f in "$T"/*.at; do echo "== $f"; cat "$f"; done; fi
