#!/bin/bash
# A traced process that exits or execs inside its alert's write (issue 10's "exits or execs
# mid-event"): tests/fixtures/alert_cut.c, a TLS 1.2 server of the system libssl, refuses an
# `openssl s_client -tls1_3` with protocol_version (70), and a callback on its socket BIO ends
# the process once the alert record went to the socket, inside ssl3_dispatch_alert: by _exit(7)
# ("exit"), by an exec of sleep ("exec"), or not at all ("return", the control). The dispatch's
# return probe never fires in the first two: the tracer must still report the sent alert, once,
# with "written":null (text: "(ended in the write)"), taken at the thread's exit or exec
# (bpf/libprobe.bpf.h AT_PENDING_CUT). The same for GnuTLS (tests/fixtures/alert_cut_gnutls.c: a
# TLS 1.2-only server whose push function _exits inside gnutls_alert_send once its
# handshake_failure (40) record went out, and the control). Judged by the server's own word that
# it wrote the alert record and ended there, its exit status, and the client's own output that it
# received the alert.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/fixtures/lib_path.sh"
need_root faults_cut
test_prologue faults_cut openssl python3 cc
CUT=$T/alert_cut CUTG=$T/alert_cut_gnutls
cc -O1 -o "$CUT" "$TOP/tests/fixtures/alert_cut.c" -lssl -lcrypto 2>"$T/cc.err" &&
	cc -O1 -o "$CUTG" "$TOP/tests/fixtures/alert_cut_gnutls.c" -lgnutls 2>>"$T/cc.err" ||
	{ fail faults_cut_build "$(head -3 "$T/cc.err")"; exit 1; }

# sent FILE SOURCE PID CODE: the sent events of pid from SOURCE with CODE, as "N written=W" (W of
# the last).
sent() {
	python3 - "$@" <<'EOF'
import json, sys
n, w = 0, "none"
for l in open(sys.argv[1]):
    if not l.startswith("{"):
        continue
    e = json.loads(l)
    if (e.get("source") == sys.argv[2] and e.get("pid") == int(sys.argv[3]) and
            e.get("direction") == "sent" and e.get("code") == int(sys.argv[4])):
        n, w = n + 1, json.dumps(e.get("written"))
print(n, "written=%s" % w)
EOF
}

# one LIB MODE STATUS WRITTEN: LIB's server (openssl: alert_cut, protocol_version; gnutls:
# alert_cut_gnutls, handshake_failure) in MODE, its expected exit status and the tracer's
# "written" for its alert.
one() {
	local lib=$1 mode=$2 port bin=$CUT code=70 name=${1}_$2
	[ "$lib" = gnutls ] && bin=$CUTG code=40
	port=$(port_block 1)
	"$bin" "$mode" "$port" "$C/server.pem" "$C/server.key" >"$T/$name.srv" 2>&1 &
	local spid=$!
	AT_PIDS+=("$spid")
	wait_for "$T/$name.srv" listening 10 ||
		{ fail "${name}_server_start" "$(cat "$T/$name.srv")"; return; }
	timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_3 </dev/null >"$T/$name.cli" 2>&1
	wait "$spid"
	check "${name}_server_status" "$3" $?
	grep -q "^cut $mode: wrote [0-9]* bytes of a record of type 21" "$T/$name.srv" &&
		pass "${name}_server_wrote_the_alert_record" ||
		fail "${name}_server_wrote_the_alert_record" "$(head -3 "$T/$name.srv")"
	grep -q "alert number $code" "$T/$name.cli" &&
		pass "${name}_client_received_alert_$code" ||
		fail "${name}_client_received_alert_$code" "$(grep -i alert "$T/$name.cli" | head -2)"
	sleep 0.5 # the stream gathers for up to 32 ms
	check "${name}_reported_once" "1 written=$4" "$(sent "$T/cut.at" "$lib" "$spid" "$code")"
}

at_start cut --no-wire -j || exit 1
one openssl exit 7 null
one openssl exec 0 null
one openssl return 0 true
one gnutls exit 7 null
one gnutls return 0 true
at_stop cut
check cut_no_error_lines 0 "$(grep -c '"error"' "$T/cut.at.err")"

# The same as text: the exited server's row says so.
at_start cuttext --no-wire || exit 1
port=$(port_block 1)
"$CUT" exit "$port" "$C/server.pem" "$C/server.key" >"$T/text.srv" 2>&1 &
spid=$!
AT_PIDS+=("$spid")
wait_for "$T/text.srv" listening 10 &&
	timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_3 </dev/null >"$T/text.cli" 2>&1
wait "$spid"
sleep 0.5
at_stop cuttext
row="^[0-9]* *openssl sent fatal *protocol_version(70) *$spid .*(ended in the write)"
n=$(grep -c "$row" "$T/cuttext.at")
check text_row_says_ended_in_the_write 1 "$n"
