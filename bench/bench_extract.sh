#!/bin/bash
# Alert extraction: what it costs to learn which alerts crossed an interface, alerttrace watching
# live against a capture decoded afterwards. N short handshakes, each ending in a plaintext alert:
# a Python client (ssl, TLS 1.2 at most) in one network namespace connects N times to
# `openssl s_server -tls1_3` in another over a veth pair; the server answers every ClientHello
# with a fatal protocol_version alert (a 7-byte record) and the connection ends. Watching the
# client's veth b0, one set-up a run, interleaved ROUNDS times in a rotating order:
#   stream   alerttrace --no-lib -i b0 -j (one JSON line per alert, to a file)
#   hist     alerttrace --no-lib -i b0 -H -j (counted in the kernel, one histogram at the end)
#   capture  tcpdump -w FILE of the server's port on b0, then
#            `tshark -r FILE -d tcp.port==PORT,tls -Y tls.alert_message` decoding it
# Per run: CPU ms of each side: the tracer's own (schedstat of all its threads) plus the run time
# of its TC programs (kernel.bpf_stats_enabled, set for the bench and restored after;
# run_time_ns from /proc/PID/fdinfo of its program fds); tcpdump's own CPU plus tshark's (user +
# system). And the alerts each found: all must report N (the client counts the alerts it got),
# and the stream and the capture the very connections the client says got one (by client port).
# Usage: bench/bench_extract.sh [ROUNDS [N]]   (default 3 rounds of 3000 handshakes)
set -u
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/bench/lib.sh"
ROUNDS=${1:-3}
N=${2:-3000}
bench_setup bench_extract "network namespaces, TC, bpf_stats" openssl python3 tcpdump tshark ip
bench_bpf_stats
SRV=at_bx_srv_$$ CLI=at_bx_cli_$$
netns_pair $SRV $CLI 10.79.0.1 10.79.0.2 || { echo "bench_extract: cannot create namespaces" >&2; exit 1; }
PORT=4460
sleep 100000 | ip netns exec $SRV openssl s_server -tls1_3 -accept $PORT -cert "$C/server.pem" \
	-key "$C/server.key" -quiet >"$T/srv.log" 2>&1 &
AT_PIDS+=("$!" "$(jobs -p %%)")
sleep 1

# handshakes: N connections from the client's namespace; prints how many ended in an alert, and
# writes the client port of each such connection into $T/client.ports (the client's own word of
# which connections got protocol_version).
handshakes() {
	ip netns exec $CLI python3 - "$N" $PORT "$T/client.ports" <<-'EOF'
	import socket, ssl, sys
	ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
	ctx.check_hostname = False
	ctx.verify_mode = ssl.CERT_NONE
	ctx.maximum_version = ssl.TLSVersion.TLSv1_2
	ports = []
	for _ in range(int(sys.argv[1])):
	    s = socket.create_connection(("10.79.0.1", int(sys.argv[2])))
	    port = s.getsockname()[1]
	    try:
	        ctx.wrap_socket(s).close()
	    except ssl.SSLError as e:
	        if "PROTOCOL_VERSION" in str(e).upper():
	            ports.append(port)
	    s.close()
	open(sys.argv[3], "w").write("".join("%d\n" % p for p in ports))
	print(len(ports))
	EOF
}

# same FILE: whether the protocol_version alerts FILE lists by client port ("PORT" lines, one per
# alert found) are those of $T/client.ports, connection for connection: "same", or what differs.
same() {
	python3 - "$1" "$T/client.ports" <<-'EOF'
	import collections, sys
	got = collections.Counter(l.strip() for l in open(sys.argv[1]) if l.strip())
	want = collections.Counter(l.strip() for l in open(sys.argv[2]) if l.strip())
	miss, extra = sum((want - got).values()), sum((got - want).values())
	print("same" if not miss and not extra else "missing:%d,extra:%d" % (miss, extra))
	EOF
}

# one MODE: prints "CPU_MS BPF_MS DECODE_MS FOUND SENT DROPPED" (DECODE_MS: tshark's; DROPPED:
# tcpdump's "packets dropped by kernel"; capture only)
one() {
	local mode=$1 wpid c0 b0=0 c1 b1=0 sent found dec=0 drop=-
	: >"$T/w.err"
	case $mode in
	stream|hist)
		local args=(--no-lib -i b0 -j)
		[ "$mode" = hist ] && args+=(-H)
		ip netns exec $CLI "$AT" "${args[@]}" >"$T/w.out" 2>"$T/w.err" &
		wpid=$!
		AT_PIDS+=("$wpid")
		wait_for "$T/w.err" "Tracing TLS alerts" 20 ||
			{ echo "bench_extract: alerttrace did not start: $(tail -2 "$T/w.err")" >&2; exit 1; } ;;
	capture)
		ip netns exec $CLI tcpdump -n -i b0 -w "$T/cap.pcap" tcp port $PORT 2>"$T/w.err" &
		wpid=$!
		AT_PIDS+=("$wpid")
		wait_for "$T/w.err" "listening on" 20 ||
			{ echo "bench_extract: tcpdump did not start: $(tail -2 "$T/w.err")" >&2; exit 1; } ;;
	esac
	sleep 0.3
	c0=$(bench_sched_ms "$wpid")
	[ "$mode" = capture ] || b0=$(bench_bpf_ns "$wpid")
	sent=$(handshakes)
	# tcpdump hands packets over a block at a time (1 s timeout): stopped sooner, it loses the
	# tail of the capture without counting it as dropped (up to 5 % of the alerts here at 0.5 s).
	if [ "$mode" = capture ]; then sleep 2; else sleep 0.5; fi
	c1=$(bench_sched_ms "$wpid")
	[ "$mode" = capture ] || b1=$(bench_bpf_ns "$wpid")
	kill -INT "$wpid"
	wait "$wpid"
	local which=-
	case $mode in
	stream)
		found=$(grep -c '"source":"wire"' "$T/w.out")
		python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l) if l.startswith("{") else {}
    if e.get("source") == "wire" and e.get("code") == 70:
        print(e["dport"])' "$T/w.out" >"$T/found.ports"
		which=$(same "$T/found.ports") ;;
	hist) found=$(bench_events "$T/w.out" wire) ;;
	capture)
		# tshark's own CPU is timed on the decode that counts (-e desc); the ports of the same
		# records are a second, untimed pass.
		read -r dec found < <(python3 - "$T/cap.pcap" $PORT <<-'EOF'
		import os, subprocess, sys
		p = subprocess.Popen(["tshark", "-n", "-r", sys.argv[1], "-d", "tcp.port==%s,tls" % sys.argv[2],
		                      "-Y", "tls.alert_message", "-T", "fields", "-e", "tls.alert_message.desc"],
		                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
		out = p.stdout.read().decode().split()
		_, _, ru = os.wait4(p.pid, 0)
		print("%d %d" % ((ru.ru_utime + ru.ru_stime) * 1000, len(out)))
		EOF
		)
		tshark -n -r "$T/cap.pcap" -d "tcp.port==$PORT,tls" -Y "tls.alert_message.desc == 70" \
			-T fields -e tcp.dstport 2>/dev/null | tr ',' '\n' >"$T/found.ports"
		which=$(same "$T/found.ports")
		drop=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$T/w.err")
		[ -n "${KEEP:-}" ] && cp "$T/cap.pcap" "$KEEP/cap.$$.$RANDOM.pcap"
		rm -f "$T/cap.pcap" ;;
	esac
	echo "$((c1 - c0)) $(( (b1 - b0) / 1000000 )) $dec $found $sent ${drop:--} $which"
}

echo "bench_extract: $ROUNDS rounds of $N handshakes ending in a plaintext protocol_version alert," \
	"veth $CLI -> $SRV; $(openssl version), $(tshark --version | head -1)"
# "alerts": the connections whose alert each found against those the client says got one (by
# client port): "same", or how many are missing or extra; "-" for -H, which keeps no ports.
printf '%-6s %-8s %10s %8s %10s %9s %9s %7s %8s %s\n' round mode "watch ms" "bpf ms" "decode ms" \
	"total ms" found sent dropped alerts
: >"$T/results"
for rm in $(bench_order "$ROUNDS" stream hist capture); do
	r=${rm%%:*} m=${rm#*:}
	read -r cpu bpf dec found sent drop which < <(one "$m")
	printf '%-6s %-8s %10s %8s %10s %9s %9s %7s %8s %s\n' "$r" "$m" "$cpu" "$bpf" "$dec" \
		"$((cpu + bpf + dec))" "$found" "$sent" "$drop" "$which"
	echo "$m $((cpu + bpf + dec)) $found $sent $which" >>"$T/results"
done
head=$(python3 - "$T/results" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for m, label in (("stream", "alerttrace -j"), ("hist", "alerttrace -H"),
                 ("capture", "tcpdump -w + tshark -Y tls.alert_message")):
    r = [x for x in rows if x[0] == m]
    t = [float(x[1]) for x in r]
    med[m] = statistics.median(t)
    print("%-42s median %6.0f ms of CPU (%.0f-%.0f), found/sent %s%s" % (
        label, med[m], min(t), max(t), " ".join("%s/%s" % (x[2], x[3]) for x in r),
        "" if m == "hist" else ", the same connections as the client's in %d of %d runs" % (
            sum(x[4] == "same" for x in r), len(r))),
        file=sys.stderr)
print("CPU to extract the alerts, ratio to tcpdump+tshark: -j %.2f, -H %.2f" % (
    med["stream"] / med["capture"], med["hist"] / med["capture"]))
EOF
)
bench_headline "$head"
