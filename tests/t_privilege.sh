#!/bin/bash
# Least privilege: the tracer run as a user of its own (not root), holding exactly the capability
# set of dist/alerttrace.service (CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_SYS_PTRACE CAP_DAC_READ_SEARCH
# CAP_CHECKPOINT_RESTORE, as ambient capabilities through setpriv), sees both sources work on alerts
# of root's processes:
#  - the peers, both root: `openssl s_server -tls1_3` with a private copy of libssl (found only
#    through the server's /proc/PID/maps and reached through /proc/PID/root: another user's
#    process) and `openssl s_client -tls1_2`, which says "alert number 70" (its own witness);
#  - wire: protocol_version(70) sent by the server's port, its owner the server's pid (the owner
#    of a socket older than the tracer comes from another user's /proc/PID/fd);
#  - openssl: the server's sent 70 from the private copy, the client's received 70; and a second
#    server's, whose private copy was deleted after it mapped it: reached only through
#    /proc/PID/map_files (CAP_CHECKPOINT_RESTORE);
#  - the kernel's own view of the tracer (/proc/PID/status) shows the user and exactly that set;
#  - without one capability, the tracer exits non-zero with one line naming that one
#    (CAP_CHECKPOINT_RESTORE aside: without it a run goes on, blind to deleted libraries only).
# No CAP_SYS_ADMIN: the uprobes are uprobe_multi links here (Linux 6.6+); on an older kernel with
# the fix of CVE-2025-38466 the tracer would name it.
# The state directory /run/alerttrace is a tmpfs owned by the user in the tracer's mount
# namespace (what systemd's RuntimeDirectory= gives the service), so the host's stays untouched.
. "$(dirname "$0")/lib/common.sh"
need_root privilege
test_prologue privilege openssl setpriv capsh unshare useradd userdel python3
U=atpriv$$
# The set the unit grants (t_service.sh checks it is the one README.md documents), as setpriv names.
SET=$(sed -n 's/^AmbientCapabilities=//p' "$TOP/dist/alerttrace.service" | tr 'A-Z ' 'a-z,' | sed 's/cap_//g')
[ -n "$SET" ] || { fail privilege_set "no AmbientCapabilities= in dist/alerttrace.service"; exit 1; }
useradd --system --no-create-home --shell /usr/sbin/nologin "$U" ||
	{ fail privilege_user "useradd $U failed"; exit 1; }
priv_cleanup() { at_cleanup; userdel "$U" 2>/dev/null; }
trap priv_cleanup EXIT
UID_=$(id -u "$U") GID_=$(id -g "$U")
NS=at_priv_$$
ip netns add $NS && AT_NETNS+=($NS) && ip -n $NS link set lo up ||
	{ fail privilege_netns "cannot create a network namespace"; exit 1; }
mkdir -p /run/alerttrace	# the mount point (every tracer makes it, 0755)
LIBSSL=$(ldconfig -p | awk '/libssl.so.3 .*x86-64/ {print $NF; exit}')
mkdir -p "$T/priv" && cp "$LIBSSL" "$T/priv/" ||
	{ fail privilege_libssl "no libssl.so.3 to copy"; exit 1; }

# tracer CAPS ARGS...: the tracer as $U in the namespace, with a state directory $U owns, holding
# exactly CAPS (a comma list): the ambient set carries them over the exec (setpriv keeps them
# across the setuid with SECBIT_KEEP_CAPS). It replaces the shell: call it in a subshell.
tracer() {
	local caps=$1
	shift
	exec ip netns exec $NS unshare -m --propagation private sh -c \
		'mount -t tmpfs -o mode=0755,uid=$1,gid=$2 at-priv /run/alerttrace && shift 2 && exec "$@"' \
		at-priv "$UID_" "$GID_" setpriv --reuid="$U" --regid="$U" --clear-groups \
		--inh-caps=-all$(printf ',+%s' ${caps//,/ }) --ambient-caps=-all$(printf ',+%s' ${caps//,/ }) \
		--bounding-set=-all$(printf ',+%s' ${caps//,/ }) "$AT" "$@"
}

# Without one capability: non-zero, one line on stderr naming that capability and no other.
# names_missing NAME CAPS WANT ARGS...
names_missing() {
	local name=$1 caps=$2 want=$3
	shift 3
	(tracer "$caps" "$@") >"$T/neg.out" 2>"$T/neg.err"
	local rc=$? named
	named=$(grep -o 'CAP_[A-Z_]*' "$T/neg.err" | sort -u | tr '\n' ' ')
	if [ $rc -ne 0 ] && [ "$(wc -l <"$T/neg.err")" = 1 ] && [ "$named" = "$want " ]; then
		pass "$name"
	else
		fail "$name" "expected exit != 0 and one line naming $want only, got rc=$rc: $(head -c 300 "$T/neg.err")"
	fi
}
without() { echo ",$SET," | sed "s/,$1,/,/; s/^,//; s/,\$//"; }
names_missing without_net_admin_names_it "$(without net_admin)" CAP_NET_ADMIN -i lo
names_missing without_sys_ptrace_names_it "$(without sys_ptrace)" CAP_SYS_PTRACE -i lo
names_missing without_dac_read_search_names_it "$(without dac_read_search)" CAP_DAC_READ_SEARCH -i lo
names_missing without_bpf_names_it "$(without bpf)" CAP_BPF -i lo
names_missing without_perfmon_names_it "$(without perfmon)" CAP_PERFMON -i lo

# server DIR PORT: a TLS 1.3-only openssl s_server (root) on PORT with DIR/libssl.so.3, once it has
# mapped that copy; its pid in SRVPID (the function runs in this shell: no subshell for $!).
server() {
	bg ip netns exec $NS env LD_LIBRARY_PATH="$1" openssl s_server -tls1_3 -accept 127.0.0.1:$2 \
		-cert "$C/server.pem" -key "$C/server.key" -quiet </dev/null >"$T/srv.$2.log" 2>&1
	SRVPID=$!
	for i in $(seq 50); do
		grep -q "$1/libssl.so.3" /proc/$SRVPID/maps 2>/dev/null && return 0
		sleep 0.1
	done
	fail privilege_server "the server on $2 did not map $1/libssl.so.3"
	exit 1
}
# The peers' servers first: their listening sockets are older than the tracer. The second one's
# copy goes away once mapped, as an upgrade replaces a library.
P=$(( 30000 + RANDOM % 2000 )) P2=$(( P + 1 ))
server "$T/priv" $P
SRV=$SRVPID
mkdir -p "$T/del" && cp "$LIBSSL" "$T/del/"
server "$T/del" $P2
SRV2=$SRVPID
rm "$T/del/libssl.so.3"
grep -q "$T/del/libssl.so.3 (deleted)" /proc/$SRV2/maps ||
	{ fail privilege_server2 "the second server does not map a deleted libssl"; exit 1; }

bg tracer $SET -j -i lo >"$T/at.out" 2>"$T/at.err"
ATP=$!
wait_for "$T/at.err" 'Tracing TLS alerts' 30 ||
	{ fail privilege_start "the tracer did not start: $(grep -v '"library"' "$T/at.err" | head -c 300)"; exit 1; }

# The kernel's view of the running tracer.
uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/$ATP/status)
check tracer_runs_as_the_user "$UID_ $UID_ $UID_ $UID_" "$uid"
eff=$(capsh --decode="$(awk '/^CapEff:/ {print $2}' /proc/$ATP/status)" | sed 's/.*=//' |
	tr ',' '\n' | sort | tr '\n' ' ')
want=$(echo "$SET" | tr ',' '\n' | sed 's/^/cap_/' | sort | tr '\n' ' ')
check tracer_holds_exactly_the_set "$want" "$eff"

ip netns exec $NS openssl s_client -tls1_2 -connect 127.0.0.1:$P </dev/null >"$T/cli.log" 2>&1 &
CLI=$!
wait $CLI
ip netns exec $NS openssl s_client -tls1_2 -connect 127.0.0.1:$P2 </dev/null >"$T/cli2.log" 2>&1
grep -q 'alert number 70' "$T/cli2.log" || fail client2_witness "no 'alert number 70' from the second server"
grep -q 'alert number 70' "$T/cli.log" && pass client_witness_got_protocol_version ||
	fail client_witness_got_protocol_version "no 'alert number 70' in the client's output: $(head -c 300 "$T/cli.log")"
sleep 1.5	# the library events of both ends, gathered and flushed
kill -INT $ATP
wait $ATP
check tracer_exits_0 0 $?

python3 - "$T/at.out" "$P" "$SRV" "$CLI" "$T/priv/libssl.so.3" "$SRV2" <<'EOF'
import json, sys
path, port, srv, cli, priv = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
srv2 = int(sys.argv[6])
ev = [json.loads(l) for l in open(path) if l.startswith("{")]
def one(name, ok, what):
    print(("PASS %s" % name) if ok else ("FAIL %s: expected %s, got %d events: %s" %
          (name, what, len(ev), [e for e in ev if e.get("code") == 70][:4])))
wire = [e for e in ev if e["source"] == "wire" and e.get("code") == 70 and e.get("sport") == port]
one("wire_sees_protocol_version", any(e["direction"] == "sent" for e in wire) and
    any(e["direction"] == "received" for e in wire), "wire sent and received 70 from port %d" % port)
one("wire_owner_of_the_older_socket_is_the_server",
    any(e["direction"] == "sent" and e["pid"] == srv for e in wire), "owner pid %d" % srv)
lib = [e for e in ev if e["source"] == "openssl" and e.get("code") == 70]
one("openssl_sees_the_server_send_70_through_its_private_libssl",
    any(e["direction"] == "sent" and e["pid"] == srv and e["lib"].endswith(priv) for e in lib),
    "sent by pid %d from .../%s" % (srv, priv))
one("openssl_sees_the_second_server_send_70_through_its_deleted_libssl",
    any(e["direction"] == "sent" and e["pid"] == srv2 and "/proc/%d/map_files/" % srv2 in e["lib"]
        for e in lib), "sent by pid %d from /proc/%d/map_files/..." % (srv2, srv2))
one("openssl_sees_the_client_receive_70",
    any(e["direction"] == "received" and e["pid"] == cli for e in lib), "received by pid %d" % cli)
EOF
