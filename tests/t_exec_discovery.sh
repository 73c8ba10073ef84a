#!/bin/bash
# Discovery at exec (bpf/exec.bpf.c, user/tls/execwatch.c): a process started after the tracer,
# from a binary and a libssl file it has never seen, is hooked before its first handshake.
# Each round copies the openssl program, libssl.so.3 and libcrypto.so.3 into a fresh directory
# (new inodes: nothing there is hooked, and the one-second rescan is too slow for a client that
# connects at once) and runs `openssl s_client -tls1_2` from it against a TLS 1.3-only s_server:
# the server answers with protocol_version (70). The alert is decided by the client's own output
# ("SSL alert number 70"); alerttrace must report it received by that client's pid, from the
# copy of libssl. The window between the kernel's exec and the hooks being attached, as the
# tracer measured it (-v), is printed; so is the window for a copy of node (99 MB, OpenSSL linked
# in), which is analysed from scratch, and only has to be hooked (its handshake may come first).
. "$(dirname "$0")/lib/common.sh"
KEEP=${KEEP:-}
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
# node: a binary never seen, analysed from scratch.
NODE=$(command -v node || true)
if [ -n "$NODE" ]; then
	cp "$NODE" "$T/node-copy"
	"$T/node-copy" -e 'setTimeout(() => {}, 1500)' &
	NPID=$!
	wait "$NPID"
fi
sleep 0.5
at_stop exec

for i in $(seq 1 $ROUNDS); do
	name=exec_round${i}
	if ! grep -q "SSL alert number 70" "$T/cli$i.log"; then
		fail "${name}_client_received_70" "expected 'SSL alert number 70' in the client's output, got: $(grep -i alert "$T/cli$i.log" | head -2)"
		continue
	fi
	got=$(python3 - "$T/exec.at" "${pids[$i]}" "$T/priv$i/libssl.so.3" <<'PY'
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
)
	check "${name}_new_binary_and_libssl_hooked_before_first_handshake" 1 "$got"
	w=$(sed -n "s/^exec: pid ${pids[$i]} .*hooked \([0-9.]*\) ms after.*/\1/p" "$T/exec.at.err" | head -1)
	echo "   round $i: pid ${pids[$i]}: exec -> hooked ${w:-?} ms"
done
if [ -n "$NODE" ]; then
	if grep -q "\"path\":\"$T/node-copy\".*\"sent\":true" "$T/exec.at.err"; then
		pass exec_node_copy_hooked
	else
		fail exec_node_copy_hooked "expected a coverage line for $T/node-copy with sent:true"
	fi
	w=$(sed -n "s/^exec: pid $NPID .*hooked \([0-9.]*\) ms after.*/\1/p" "$T/exec.at.err" | head -1)
	echo "   node copy (99 MB, analysed from scratch): exec -> hooked ${w:-?} ms"
fi
