# Shared by the wire tests (t_faults_wire.sh, t_ifaces.sh): what is attached as tc lists it, a
# tracer started in a namespace, one openssl round with its protocol_version alert.
# Source after common.sh and fixtures/lib_path.sh.

# our NS DEV...: our filters (handle 0xa1e7 with an at_tc_* program) on these devices of NS.
our() {
	local ns=$1 d
	shift
	for d in "$@"; do
		tc -n "$ns" filter show dev "$d" ingress 2>/dev/null
		tc -n "$ns" filter show dev "$d" egress 2>/dev/null
	done | grep -c 'at_tc_'
}
clsacts() {
	local ns=$1 d
	shift
	for d in "$@"; do tc -n "$ns" qdisc show dev "$d" 2>/dev/null; done | grep -c clsact
}
# nsstart NAME NS ARGS...: a tracer in NS, ready; its pid in ATPID (at_stop NAME stops it).
nsstart() {
	local name=$1 ns=$2
	shift 2
	bg ip netns exec "$ns" "$AT" "$@" >"$T/$name.at" 2>"$T/$name.at.err"
	ATPID=$!
	wait_for "$T/$name.at.err" "Tracing TLS alerts" 20 ||
		{ fail "${name}_tracer_start" "$(tail -3 "$T/$name.at.err")"; return 1; }
}
# round NAME NS_SRV NS_CLI ADDR PORT: one s_server -tls1_3 in NS_SRV, one s_client -tls1_2 from
# NS_CLI to ADDR:PORT; the client must say "alert number 70".
round() {
	local name=$1
	sleep 30 | ip netns exec "$2" openssl s_server -accept "$4:$5" -cert "$C/server.pem" \
		-key "$C/server.key" -tls1_3 >"$T/$name.srv" 2>&1 &
	local spid=$! keep
	keep=$(jobs -p %%)
	AT_PIDS+=("$spid" "$keep")
	wait_for "$T/$name.srv" ACCEPT 10 || { fail "${name}_server" "$(tail -2 "$T/$name.srv")"; return 1; }
	sleep 0.3 | ip netns exec "$3" openssl s_client -connect "$4:$5" -tls1_2 >"$T/$name.cli" 2>&1
	peer_said "$name" cli "alert number 70"
	kill "$spid" "$keep" 2>/dev/null
	wait "$spid" "$keep" 2>/dev/null
}
