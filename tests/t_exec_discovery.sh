#!/bin/bash
# Discovery at exec (bpf/exec.bpf.c, user/tls/execwatch.c): a process started after the tracer,
# from a binary and a libssl file it has never seen, is hooked before its first handshake.
# Each round copies the openssl program, libssl.so.3 and libcrypto.so.3 into a fresh directory
# (new inodes: nothing there is hooked, and the one-second rescan is too slow for a client that
# connects at once) and runs `openssl s_client -tls1_2` from it against a TLS 1.3-only s_server:
# the server answers with protocol_version (70). The alert is decided by the client's own output
# ("SSL alert number 70"); alerttrace must report it received by that client's pid, from the
# copy of libssl. Then a copy of node (99 MB, OpenSSL linked in; a new inode of a build-id the
# first scan analysed in /usr/bin) makes one TLS 1.2 connection to the same server and exits: its
# received protocol_version must be reported from the copy.
#
# The race is real: the client runs on while the tracer hooks it. The window between the kernel's
# exec and the hooks being attached, as the tracer measured it (-v), is printed for every round;
# an openssl client takes longer than that to reach its handshake, so ROUNDS - 1 of ROUNDS rounds
# must be seen (one may lose the race on a loaded machine) and the node client too.
. "$(dirname "$0")/lib/common.sh"
need_root exec_discovery
for c in openssl python3; do
	command -v $c >/dev/null || { fail exec_discovery_tools "$c not found: run make deps"; exit 1; }
done
[ -x "$AT" ] || { fail exec_discovery_build "no $AT: run make"; exit 1; }
make_certs "$T/c" || { fail certs "openssl could not make test certificates"; exit 1; }
C=$T/c
. "$TOP/tests/fixtures/lib_path.sh"
LIBDIR=/usr/lib/x86_64-linux-gnu
PORT=$(port_block 1)
ROUNDS=5

# seen_70 LOG PID LIB: "1" when the client's own output says it received alert 70 and
# alerttrace reported exactly that, once, from LIB; "0" when alerttrace did not; "peer" when the
# client did not receive it (then the case itself failed).
seen_70() {
	grep -q "alert number 70" "$1" || { echo peer; return; }
	python3 - "$T/exec.at" "$2" "$3" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("pid") == int(sys.argv[2]) and e.get("direction") == "received" and \
       e.get("code") == 70 and e.get("source") == "openssl" and e.get("lib") == sys.argv[3]:
        n += 1
print(n)
PY
}

# window PID: what the tracer said about hooking PID.
window() {
	sed -n "s/^exec: pid $1 .*hooked \(.*\)/\1/p" "$T/exec.at.err" | head -1
}

at_start exec --no-wire -j -v || exit 1
server exec "$PORT" -tls1_3 || exit 1
for i in $(seq 1 $ROUNDS); do
	d=$T/priv$i
	mkdir -p "$d"
	cp /usr/bin/openssl "$d/" && cp -L $LIBDIR/libssl.so.3 $LIBDIR/libcrypto.so.3 "$d/" ||
		{ fail exec_discovery_copy "cannot copy openssl into $d"; exit 1; }
	LD_LIBRARY_PATH=$d "$d/openssl" s_client -connect "127.0.0.1:$PORT" -tls1_2 </dev/null \
		>"$T/cli$i.log" 2>&1 &
	pids[$i]=$!
	wait "${pids[$i]}"
done
NODE=$(command -v node || true)
if [ -n "$NODE" ]; then
	cp "$NODE" "$T/node-copy"
	cat >"$T/cli.js" <<'JS'
const tls = require('tls');
const s = tls.connect({host: '127.0.0.1', port: +process.argv[2], maxVersion: 'TLSv1.2',
		       rejectUnauthorized: false});
s.on('error', (e) => { console.log('error: ' + e.message); process.exit(1); });
JS
	"$T/node-copy" "$T/cli.js" "$PORT" >"$T/node.log" 2>&1 &
	NPID=$!
	wait "$NPID"
fi
sleep 0.5
at_stop exec

seen=0 peers=0
for i in $(seq 1 $ROUNDS); do
	r=$(seen_70 "$T/cli$i.log" "${pids[$i]}" "$T/priv$i/libssl.so.3")
	case $r in
	1) seen=$((seen + 1)) ;;
	peer) peers=$((peers + 1)) ;;
	esac
	echo "   round $i: pid ${pids[$i]}: reported $r; hooked $(window "${pids[$i]}")"
done
check exec_clients_received_70_per_their_output "$ROUNDS" "$((ROUNDS - peers))"
if [ "$seen" -ge $((ROUNDS - 1)) ]; then
	pass "exec_new_binary_and_libssl_hooked_before_first_handshake ($seen of $ROUNDS)"
else
	fail exec_new_binary_and_libssl_hooked_before_first_handshake \
		"expected at least $((ROUNDS - 1)) of $ROUNDS clients' alerts reported, got $seen"
fi
if [ -n "$NODE" ]; then
	check exec_node_copy_hooked_before_first_handshake 1 \
		"$(seen_70 "$T/node.log" "$NPID" "$T/node-copy")"
	echo "   node copy: pid $NPID: hooked $(window "$NPID")"
fi
