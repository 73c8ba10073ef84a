#!/bin/bash
# Who owns an accepted connection: nginx with two workers (started before the tracer: its
# listeners' owner read from /proc is the master) and haproxy in master-worker mode (`-W`, started
# after it: the master calls listen()), both TLS 1.3-only, with their clients in a network
# namespace of their own, over its lo (the tracers on lo: each record's egress is its sender's). Python clients offering at most TLS 1.2 get protocol_version from the server;
# over TLS 1.2, nginx answers a request and closes with close_notify (an encrypted record on the
# wire). IPv4 and IPv6. For every connection, the server side's wire event must name the worker
# that accepted it and say so (accepted), and the worker's openssl event must be the same alert
# (same_as) on the same connection.
#
# The judges: the worker of each connection is the one nginx itself names in its error log (the
# pid of the "SSL_do_handshake() failed" line) or access log ($pid $remote_port); haproxy's is the
# one child of its master (/proc); the client's port is the one its own socket reports.
. "$(dirname "$0")/lib/common.sh"
need_root workers
test_prologue workers nginx haproxy python3 openssl
SRV=at_wk_$$
CLI=$SRV
ip netns add $SRV && AT_NETNS+=("$SRV") && ip -n $SRV link set lo up ||
	{ fail workers_netns "cannot create a network namespace"; exit 1; }
PCL="$TOP/tests/fixtures/port_client.py"
Q=$(( 5200 + (RANDOM % 50) * 10 ))
NG=$Q NG12=$((Q + 1)) HA=$((Q + 2))
mkdir -p "$T/ng/logs"

cat >"$T/ng/nginx.conf" <<EOF
user root;
worker_processes 2;
daemon off;
pid $T/ng/nginx.pid;
error_log $T/ng/error.log info;
events { worker_connections 64; }
http {
	log_format w '\$pid \$remote_addr \$remote_port';
	access_log $T/ng/access.log w;
	keepalive_timeout 0;
	ssl_certificate $C/server.pem;
	ssl_certificate_key $C/server.key;
	server {
		listen 127.0.0.1:$NG ssl;
		listen [::1]:$NG ssl;
		ssl_protocols TLSv1.3;
		location / { return 200 "ok\n"; }
	}
	server {
		listen 127.0.0.1:$NG12 ssl;
		listen [::1]:$NG12 ssl;
		ssl_protocols TLSv1.2;
		location / { return 200 "ok\n"; }
	}
}
EOF
cat "$C/server.pem" "$C/server.key" >"$T/combined.pem"
cat >"$T/haproxy.cfg" <<EOF
global
	nbthread 2
defaults
	mode http
	timeout connect 5s
	timeout client 5s
	timeout server 5s
frontend fe
	bind 127.0.0.1:$HA ssl crt $T/combined.pem ssl-min-ver TLSv1.3
	bind [::1]:$HA ssl crt $T/combined.pem ssl-min-ver TLSv1.3
	http-request return status 200 content-type text/plain string ok
EOF

# nginx first: its listeners are older than the tracer.
bg ip netns exec $SRV nginx -p "$T/ng" -c "$T/ng/nginx.conf" -e "$T/ng/error.log"
NGM=$!
for i in $(seq 1 100); do
	[ "$(pgrep -P $NGM -f 'nginx: worker' | wc -l)" = 2 ] && break
	sleep 0.05
done
NGW=$(pgrep -P $NGM -f 'nginx: worker' | sort -n | tr '\n' ' ')
check workers_nginx_has_two_workers 2 "$(echo $NGW | wc -w)"

# Two tracers: one on the raw tracepoint sys_exit (ALERTTRACE_ACCEPT_RAW=1, the fallback where
# no tracefs can be had), one entering only the network namespace (the accept tracepoints: from
# the host's tracefs, or a private mount of it where the host has none).
ALERTTRACE_ACCEPT_RAW=1 bg ip netns exec $SRV "$AT" -v -j -i lo >"$T/raw.out" 2>"$T/raw.err"
AT_R=$!
bg nsenter --net=/run/netns/$SRV "$AT" -v -j -i lo >"$T/tp.out" 2>"$T/tp.err"
AT_T=$!
# A third whose tracepoints will not attach (ALERTTRACE_ACCEPT_LATE=1): the raw tracepoint's
# program, not loaded with the object where the tracepoints are found, is loaded then.
ALERTTRACE_ACCEPT_LATE=1 bg nsenter --net=/run/netns/$SRV "$AT" -v -j -i lo >"$T/late.out" \
	2>"$T/late.err"
AT_L=$!
for f in raw tp late; do
	wait_for "$T/$f.err" "Tracing TLS alerts" 30 ||
		{ fail workers_tracer_start "no 'Tracing' line: $(tail -3 "$T/$f.err")"; exit 1; }
done
check workers_accept_forced_raw_by_raw_sys_exit 1 \
	"$(grep -c 'accepting tasks from the raw tracepoint sys_exit' "$T/raw.err")"
check workers_accept_by_its_tracepoints 1 "$(grep -c 'accepting tasks from the tracepoints' "$T/tp.err")"
check workers_accept_late_raw 1 "$(grep -c 'accepting tasks from the raw tracepoint sys_exit (the tracepoints would not attach)' "$T/late.err")"
# The raw tracepoint's program is loaded by the tracers that attach it, not by the one on the
# tracepoints; libbpf reads the kernel's whole BTF to load it (btfmin.c), on top of the one read
# that cuts it for every object: libbpf's own log (-v) says each read.
check workers_accept_raw_loaded_only_where_attached "1 0 2 1 2" \
	"$(grep -c 'sys_exit_any [0-9]* insns verified' "$T/raw.err") \
$(grep -c 'sys_exit_any [0-9]* insns verified' "$T/tp.err") \
$(grep -c "loading kernel BTF" "$T/raw.err") $(grep -c "loading kernel BTF" "$T/tp.err") \
$(grep -c "loading kernel BTF" "$T/late.err")"
# Under `ip netns exec` no tracefs is mounted (its /sys is the namespace's): the ids come from a
# private mount of tracefs, and nothing is left mounted, here or on the host.
mounts() { grep -c ' - tracefs ' /proc/self/mountinfo; }
m0=$(mounts)
ip netns exec $SRV sh -c 'grep -c " - tracefs " /proc/self/mountinfo' >"$T/ns_tracefs" 2>&1
bg ip netns exec $SRV "$AT" -v -j -i lo --no-lib >/dev/null 2>"$T/priv.err"
wait_for "$T/priv.err" "Tracing TLS alerts" 30
kill -INT $! 2>/dev/null
wait $! 2>/dev/null
check workers_accept_no_tracefs_private_mount "0 1 $m0 0" "$(cat "$T/ns_tracefs") \
$(grep -c 'accepting tasks from the tracepoints syscalls/sys_exit_accept{,4} (ids from a private tracefs mount)' "$T/priv.err") \
$(mounts) $(ip netns exec $SRV sh -c 'grep -c " - tracefs " /proc/self/mountinfo')"

bg ip netns exec $SRV haproxy -W -f "$T/haproxy.cfg" >"$T/haproxy.out" 2>&1
HAM=$!
for i in $(seq 1 100); do
	HAW=$(pgrep -P $HAM haproxy | tr '\n' ' ')
	[ -n "$HAW" ] && ip netns exec $SRV ss -Htln | grep -q ":$HA " && break
	sleep 0.05
done
check workers_haproxy_has_a_worker 1 "$(echo $HAW | wc -w)"

# one NAME ADDR PORT MAXVER [get]: a client in $CLI; after it, the witness line appended to
# $T/conns: NAME SERVER-PORT CLIENT-PORT WORKER-PID (nginx's logs) or WORKER-PID "-" (haproxy).
one() {
	local name=$1 addr=$2 port=$3 mv=$4 get=${5:-} out="$T/cli.$1" lport pid=- n0 n1 pv
	n0=$(grep -c "SSL_do_handshake() failed" "$T/ng/error.log")
	n1=$(wc -l <"$T/ng/access.log" 2>/dev/null || echo 0)
	timeout 10 ip netns exec $CLI python3 "$PCL" "$addr" "$port" "$mv" $get >"$out" 2>&1
	lport=$(awk '$1 == "local" { print $3 }' "$out")
	sleep 0.2 # nginx writes its log line after the handshake ends
	if [ "$port" = "$NG" ]; then
		pid=$(grep "SSL_do_handshake() failed" "$T/ng/error.log" | sed -n "$((n0 + 1))p" |
			sed -n 's/.*\[info\] \([0-9]*\)#.*/\1/p')
	elif [ "$port" = "$NG12" ]; then
		pid=$(sed -n "$((n1 + 1))p" "$T/ng/access.log" |
			awk -v p="$lport" '$3 == p { print $1 }')
	fi
	pv=$(grep -c '^error.*PROTOCOL_VERSION\|^error.*protocol version' "$out")
	echo "$name $port ${lport:--} ${pid:--} $pv $(grep -c '^ok' "$out")" >>"$T/conns"
}

for k in 1 2 3 4; do
	one ng4_$k 127.0.0.1 $NG 1.2
	one ng6_$k ::1 $NG 1.2
	one ha4_$k 127.0.0.1 $HA 1.2
	one ha6_$k ::1 $HA 1.2
done
for k in 1 2 3; do
	one cn4_$k 127.0.0.1 $NG12 1.2 get
	one cn6_$k ::1 $NG12 1.2 get
done
sleep 1.5
kill $AT_R $AT_T $AT_L
wait $AT_R $AT_T $AT_L 2>/dev/null
echo "workers: connections per nginx worker:" \
	"$(awk -v ha=$HA '$2 != ha { print $4 }' "$T/conns" | sort | uniq -c | tr '\n' ' ')"

for f in raw tp late; do
python3 - "$T/$f.out" "$T/conns" "$NGM" "$NGW" "$HAM" "$HAW" "$NG" "$NG12" "$HA" "$f" <<'EOF'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
conns = [l.split() for l in open(sys.argv[2])]
ngm, ngw, ham, haw = int(sys.argv[3]), sys.argv[4].split(), int(sys.argv[5]), sys.argv[6].split()
NG, NG12, HA, tag = sys.argv[7], sys.argv[8], sys.argv[9], sys.argv[10]
byid = {e["id"]: e for e in evs}

def check(name, exp, got):
    name = tag + "_" + name
    if exp == got:
        print("PASS", name)
    else:
        print("FAIL %s: expected %r, got %r" % (name, exp, got))

def paired(a, b):
    return a.get("same_as") == b["id"] or b.get("same_as") == a["id"]

for name, sport, cport, wpid, pv, ok in conns:
    srv = "nginx" if sport in (NG, NG12) else "haproxy"
    if cport == "-":
        check(name + "_client_connected", True, False)
        continue
    if sport == NG12:
        check(name + "_client_read_the_answer", "1", ok)
        alert, lalert = "encrypted", "close_notify"
    else:
        check(name + "_client_got_protocol_version", "1", pv)
        alert = lalert = "protocol_version"
    if srv == "nginx":
        if wpid == "-":
            check(name + "_nginx_log_names_the_worker", True, False)
            continue
        check(name + "_nginx_worker_is_a_worker", True, wpid in ngw)
        want = int(wpid)
    else:
        if len(haw) != 1:
            continue
        want = int(haw[0])
    # the server's side of this connection: sent by the server port to the client port
    w = [e for e in evs if e["source"] == "wire" and e["direction"] == "sent" and
         str(e.get("sport")) == sport and str(e.get("dport")) == cport and e["alert"] == alert]
    l = [e for e in evs if e["source"] == "openssl" and e["direction"] == "sent" and
         e["pid"] == want and e["alert"] == lalert and str(e.get("sport")) == sport and
         str(e.get("dport")) == cport]
    check(name + "_one_wire_event_sent_by_the_server", 1, len(w))
    check(name + "_one_openssl_event_of_the_worker_on_this_connection", 1, len(l))
    if len(w) != 1:
        continue
    check(name + "_wire_owner_is_the_%s_worker" % srv, want, w[0]["pid"])
    check(name + "_wire_owner_not_the_master", True,
          w[0]["pid"] not in (ngm, ham))
    check(name + "_wire_owner_accepted_it", True, w[0].get("accepted"))
    if len(l) == 1:
        check(name + "_wire_and_library_matched", True, paired(w[0], l[0]))
EOF
done
