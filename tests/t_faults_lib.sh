#!/bin/bash
# Faults on the library path, with real peers (openssl s_server -tls1_3 against TLS 1.2 clients:
# protocol_version, 70, judged by each peer's own output):
#  exit_exec:    40 s_client processes that end right after their alert and 10 python3 clients
#                that exec /bin/true right after theirs, all at once: the tracer reports the
#                received alert of each (by pid), keeps running, prints no error, exits 0.
#  lib_replaced: a private copy of libssl/libcrypto used through LD_LIBRARY_PATH by a server;
#                the copy is deleted and a new copy put in its place (a package upgrade) while
#                the server still maps the old one: the old server's alerts are still reported,
#                a new server on the new file gets it hooked, and its alerts are reported too.
#  ring_full:    the tracer is SIGSTOPped during an alert storm (tests/fixtures/storm_lib.c, which
#                counts its own alerts with libssl's info callback), then SIGCONT: the loss is
#                reported ("lost N events", an {"error":...} object with -j), every alert of the
#                storm was either delivered or counted lost, and the tracer runs on.
#  two:          two tracers with library hooks at once, one streaming sent alerts, one
#                counting the alerts python3 received: each reports its own share alone.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/fixtures/lib_path.sh"
need_root faults_lib
test_prologue faults_lib openssl python3 cc

# events FILE PID DIRECTION CODE [LIB]: library events of pid with this direction and code.
events() {
	python3 - "$@" <<'EOF'
import json, sys
f, pid, d, code = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
lib = sys.argv[5] if len(sys.argv) > 5 else None
n = 0
for l in open(f):
    if not l.startswith("{"):
        continue
    e = json.loads(l)
    n += (e.get("source") != "wire" and e.get("pid") == pid and e.get("direction") == d and
          e.get("code") == code and (lib is None or e.get("lib") == lib))
print(n)
EOF
}
errors() { grep -c '"error"' "$1"; }

# ---- exit_exec ----
BASE=$(port_block 3)
at_start ee --no-wire -j || exit 1
server ee $BASE -tls1_3 || exit 1
pids=() ppids=()
for i in $(seq 1 40); do
	openssl s_client -connect 127.0.0.1:$BASE -tls1_2 </dev/null >"$T/ee.c$i" 2>&1 &
	pids+=($!)
done
for i in $(seq 1 10); do
	python3 - $BASE >"$T/ee.p$i" 2>&1 <<'EOF' &
import os, socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
try:
    ctx.wrap_socket(s)
except ssl.SSLError as e:
    print(e, flush=True)
os.execv("/bin/true", ["true"])
EOF
	ppids+=($!)
done
wait "${pids[@]}" "${ppids[@]}" 2>/dev/null
sleep 1
kill -0 $ATPID 2>/dev/null && pass ee_tracer_keeps_running || fail ee_tracer_keeps_running "it exited"
# reported NAME PATTERN FILEPREFIX PID...: of the clients whose output says PATTERN, how many
# the tracer reported receiving 70, as "said seen".
reported() {
	local name=$1 pat=$2 pre=$3 i=0 p said=0 seen=0
	shift 3
	for p in "$@"; do
		i=$((i + 1))
		grep -q "$pat" "$pre$i" || continue
		said=$((said + 1))
		[ "$(events "$T/ee.at" "$p" received 70)" = 1 ] && seen=$((seen + 1))
	done
	check "$name" "$# $#" "$said $seen"
}
reported ee_exiting_clients_each_reported "alert number 70" "$T/ee.c" "${pids[@]}"
reported ee_execing_clients_each_reported ALERT_PROTOCOL_VERSION "$T/ee.p" "${ppids[@]}"
check ee_server_sent_each "50" "$(events "$T/ee.at" $SPID sent 70)"
at_stop ee
check ee_no_error_lines 0 "$(errors "$T/ee.at.err")"

# ---- lib_replaced ----
L=$T/lib
mkdir -p "$L"
cp /usr/lib/x86_64-linux-gnu/libssl.so.3 /usr/lib/x86_64-linux-gnu/libcrypto.so.3 "$L/"
at_start lr --no-wire -j || exit 1
# libreport N: the tracer has reported N hooked files at $L/libssl.so.3 (one per inode).
libreport() {
	local i
	for i in $(seq 1 100); do
		[ "$(grep -F "\"path\":\"$L/libssl.so.3\"" "$T/lr.at.err" | grep -c '"sent":true')" -ge "$1" ] &&
			return 0
		sleep 0.1
	done
	return 1
}
SRV_PREFIX=(env LD_LIBRARY_PATH="$L")
server lr1 $((BASE + 1)) -tls1_3 || exit 1
S1=$SPID
libreport 1 && pass lr_private_copy_hooked ||
	fail lr_private_copy_hooked "no report of $L/libssl.so.3: $(tail -c 300 "$T/lr.at.err")"
client lr1a $((BASE + 1)) 0.3 -tls1_2
peer_said lr1a cli "alert number 70"
# The upgrade: the old file deleted, a new one (another inode) in its place.
rm -f "$L/libssl.so.3" "$L/libcrypto.so.3"
cp /usr/lib/x86_64-linux-gnu/libssl.so.3 /usr/lib/x86_64-linux-gnu/libcrypto.so.3 "$L/"
grep -q "$L/libssl.so.3 (deleted)" /proc/$S1/maps && pass lr_old_server_maps_the_deleted_file ||
	fail lr_old_server_maps_the_deleted_file "$(grep libssl /proc/$S1/maps | head -1)"
client lr1b $((BASE + 1)) 0.3 -tls1_2
peer_said lr1b cli "alert number 70"
server lr2 $((BASE + 2)) -tls1_3 || exit 1
S2=$SPID
libreport 2 && pass lr_new_file_hooked ||
	fail lr_new_file_hooked "one report of $L/libssl.so.3 only: $(tail -c 300 "$T/lr.at.err")"
client lr2a $((BASE + 2)) 0.3 -tls1_2
peer_said lr2a cli "alert number 70"
SRV_PREFIX=()
sleep 0.5
kill -0 $ATPID 2>/dev/null && pass lr_tracer_keeps_running || fail lr_tracer_keeps_running "it exited"
at_stop lr
check lr_old_server_both_alerts_reported 2 "$(events "$T/lr.at" $S1 sent 70 "$L/libssl.so.3")"
check lr_new_server_alert_reported 1 "$(events "$T/lr.at" $S2 sent 70 "$L/libssl.so.3")"
check lr_no_error_lines 0 "$(errors "$T/lr.at.err")"

# ---- ring_full ----
cc -O2 -o "$T/storm_lib" "$TOP/tests/fixtures/storm_lib.c" -lssl -lcrypto 2>"$T/build.err" ||
	{ fail rf_storm_build "$(head -3 "$T/build.err")"; exit 1; }
# ring NAME ARGS...: a tracer stopped during a 3 s storm, continued; its stderr in $T/NAME.at.err
ring() {
	local name=$1 gen
	shift
	at_start "$name" "$@" || return 1
	kill -STOP $ATPID
	gen=$("$T/storm_lib" protocol_version 3 "$C/server.pem" "$C/server.key" "$C/other-ca.pem")
	kill -CONT $ATPID
	sleep 1.5
	kill -0 $ATPID 2>/dev/null && pass "${name}_tracer_runs_on" || fail "${name}_tracer_runs_on" "it exited"
	at_stop "$name"
	GEN_PID=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["pid"])' "$gen")
	GEN_N=$(python3 -c 'import json,sys; e=json.loads(sys.argv[1]); print(sum(e["sent"].values())+sum(e["received"].values()))' "$gen")
}
ring rf_json --no-wire -j || exit 1
lost=$(python3 - "$T/rf_json.at.err" <<'EOF'
import json, re, sys
n = 0
for l in open(sys.argv[1]):
    if l.startswith("{"):
        m = re.match(r"lost (\d+) events \(ring buffer full\)", json.loads(l).get("error", ""))
        n += int(m.group(1)) if m else 0
print(n)
EOF
)
got=$(( $(events "$T/rf_json.at" $GEN_PID sent 70) + $(events "$T/rf_json.at" $GEN_PID received 70) ))
echo "   storm: $GEN_N alerts made, $got delivered, $lost reported lost"
[ "$lost" -gt 0 ] && [ "$got" -lt "$GEN_N" ] && pass rf_json_loss_reported_as_error_object ||
	fail rf_json_loss_reported_as_error_object "made $GEN_N, delivered $got, lost reported $lost"
[ $((got + lost)) -ge "$GEN_N" ] && pass rf_json_every_alert_delivered_or_counted_lost ||
	fail rf_json_every_alert_delivered_or_counted_lost "made $GEN_N, delivered $got + lost $lost"
ring rf_text --no-wire || exit 1
grep -qE '^alerttrace: lost [0-9]+ events \(ring buffer full\)' "$T/rf_text.at.err" &&
	pass rf_text_lost_line || fail rf_text_lost_line "$(tail -3 "$T/rf_text.at.err")"

# ---- two ----
# Two tracers with library hooks at once, on the same libssl, with different filters and modes:
# A streams sent alerts only (--sent -j: the dispatch's entry probe and uretprobe), B counts the
# received alerts of python3 only (-H -c python3 --received: the entry probe alone, fewer reads).
# Each uprobe of one fires the other's too; each must report exactly its own share, judged by
# the peers' own output.
BASE=$(port_block 1)
at_start twa --no-wire -j --sent || exit 1
A=$ATPID
at_start twb --no-wire -H -c python3 --received || exit 1
B=$ATPID
server tw $BASE -tls1_3 || exit 1
said_o=0 said_p=0
for i in $(seq 1 5); do
	openssl s_client -connect 127.0.0.1:$BASE -tls1_2 </dev/null >"$T/tw.o$i" 2>&1
	grep -q "alert number 70" "$T/tw.o$i" && said_o=$((said_o + 1))
	python3 - $BASE >"$T/tw.p$i" 2>&1 <<'PY'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
try:
    ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
except ssl.SSLError as e:
    print(e)
PY
	grep -q ALERT_PROTOCOL_VERSION "$T/tw.p$i" && said_p=$((said_p + 1))
done
check tw_peers_said_their_alerts "5 5" "$said_o $said_p"
sleep 0.5
ATPID=$A
at_stop twa
ATPID=$B
at_stop twb
check tw_a_server_sent_each 10 "$(events "$T/twa.at" $SPID sent 70)"
check tw_a_nothing_received 0 "$(grep -c '"direction":"received"' "$T/twa.at")"
check tw_b_python3_received_each 1 \
	"$(grep -c "^comm python3: sent 0, received $said_p\$" "$T/twb.at")"
check tw_b_one_row "1" "$(grep -c 'protocol_version(70)' "$T/twb.at")"
# B is text: its errors are "alerttrace: ..." lines, its losses "lost N events".
check tw_no_error_lines "0 0" \
	"$(errors "$T/twa.at.err") $(grep -Ec '^alerttrace: |lost [0-9]+ events|error' "$T/twb.at.err")"
